// The built CLI and the stamp that names it. `scripts/build-cli.mjs` bundles the CLI into
// dist/cli/<stamp>/, where <stamp> is a hash of the contents of everything the bundle is made from;
// bin/flants.js runs a bundle only if the sources as they are now hash to its folder's name. An edit
// anywhere under src/, lab/ or handlers/ (or to the manifests, the build script, this file) changes
// the stamp, so an old bundle is never run for new sources: bin falls back to tsx until the next build.
// Contents, not mtimes: a checkout, a `touch` or a clock step cannot fool it. Hashing the ~100 source
// files (under 1 MB) costs about 5 ms per start.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The project's root folder. */
export const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** Where builds live: one folder per stamp (git-ignored). */
export const BUILT_CLI_DIR = join(ROOT, 'dist', 'cli');

const TREES = ['src', 'lab', 'handlers'];
const FILES = [
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'scripts/build-cli.mjs',
  'scripts/dashboard-script.cjs',
  'bin/build-stamp.js',
];

/** A hash of the CLI's sources, manifests and build script, and of the installed dependencies' listing. */
export function sourceStamp(root = ROOT) {
  const hash = createHash('sha256');
  const add = (path) => {
    const content = existsSync(path) ? readFileSync(path) : '(none)';
    hash.update(`${relative(root, path)}\0${content.length}\0`).update(content);
  };
  for (const tree of TREES) {
    const files = readdirSync(join(root, tree), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name))
      .sort();
    for (const file of files) add(file);
  }
  for (const file of FILES) add(join(root, file));
  // npm rewrites node_modules/.package-lock.json whenever it changes node_modules: its size and mtime
  // stand for the bundled dependencies without reading them.
  const installed = statSync(join(root, 'node_modules', '.package-lock.json'), { throwIfNoEntry: false });
  hash.update(installed ? `node_modules ${installed.size} ${installed.mtimeMs}` : 'no node_modules');
  return hash.digest('hex').slice(0, 24);
}

/**
 * The entry points of the build made from the sources as they are now, or undefined (none, or only
 * older ones). A build folder appears in one rename once complete, so one that exists is whole.
 */
export function currentBuild(root = ROOT) {
  let stamp;
  try {
    stamp = sourceStamp(root);
  } catch {
    return undefined;
  }
  const dir = join(root, 'dist', 'cli', stamp);
  if (!existsSync(join(dir, 'main.js'))) return undefined;
  return { stamp, dir, main: pathToFileURL(join(dir, 'main.js')).href, lab: pathToFileURL(join(dir, 'lab.js')).href };
}
