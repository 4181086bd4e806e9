#!/usr/bin/env node
// Builds the `flants` CLI into dist/cli/<stamp>/ with esbuild, so that every command starts from
// JavaScript instead of compiling TypeScript through tsx (issue 9: start-up under 300 ms). Runs at
// `prepare` (so `npm ci` builds it), at `pretest`, and before vitest (test/helpers/build-cli.ts);
// `npm run build` runs it by hand. bin/build-stamp.js says when a build may be used.
//
//   node scripts/build-cli.mjs [--soft] [--force]
//
// --soft: a failed build warns and exits 0 (bin/flants.js then runs the sources through tsx): a
// missing esbuild (a production install) or an odd platform must not fail `npm ci`.
// --force: build even if a build of these sources exists.
//
// Two entry points: main.js (the product's commands) and lab.js (the lab's `demo`, loaded only by that
// command), with shared code split into chunks; a command loads only its own chunks.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { BUILT_CLI_DIR, ROOT, sourceStamp } from '../bin/build-stamp.js';
import dashboardScript from './dashboard-script.cjs';

const soft = process.argv.includes('--soft');
const force = process.argv.includes('--force');
// Builds kept besides the current one: a process started from an older build may still load its chunks.
const KEEP_OLDER = 2;
// A temporary folder older than this belongs to a build that died.
const STALE_TMP_MS = 10 * 60_000;

/**
 * Rewrites `import.meta.url` in the project's own modules to the URL of their source file, computed
 * from the bundle's own location: src/ reads serverless.yml, the price list and the lab's server
 * script relative to itself, and those files stay where they are.
 */
function sourceUrlPlugin(outdir) {
  return {
    name: 'source-import-meta-url',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
        const text = readFileSync(args.path, 'utf8');
        if (!text.includes('import.meta.url')) return undefined;
        const fromBundle = relative(outdir, args.path).split(sep).join('/');
        const url = `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`;
        return { contents: text.replaceAll('import.meta.url', url), loader: 'ts' };
      });
    },
  };
}

/** Removes older builds (all but the newest few) and temporary folders of builds that died. */
function prune(current) {
  const now = Date.now();
  const builds = [];
  for (const name of readdirSync(BUILT_CLI_DIR)) {
    const path = join(BUILT_CLI_DIR, name);
    const { mtimeMs } = statSync(path);
    if (name.startsWith('.tmp-')) {
      if (now - mtimeMs > STALE_TMP_MS) rmSync(path, { recursive: true, force: true });
    } else if (name !== current) builds.push({ path, mtimeMs });
  }
  builds.sort((a, b) => b.mtimeMs - a.mtimeMs);
  for (const old of builds.slice(KEEP_OLDER)) rmSync(old.path, { recursive: true, force: true });
}

async function main() {
  const stamp = sourceStamp();
  const target = join(BUILT_CLI_DIR, stamp);
  if (!force && existsSync(join(target, 'main.js'))) return;
  mkdirSync(BUILT_CLI_DIR, { recursive: true });
  // Same depth as the target, so the paths the plugin computes hold after the rename.
  const tmp = join(BUILT_CLI_DIR, `.tmp-${process.pid}-${now36()}`);
  const started = performance.now();
  try {
    const esbuild = await import('esbuild');
    await esbuild.build({
      absWorkingDir: ROOT,
      entryPoints: { main: 'src/cli/main.ts', lab: 'lab/cli.ts' },
      outdir: tmp,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      // Flat: every chunk in one folder, so one relative path per source module holds wherever it lands.
      chunkNames: '[name]-[hash]',
      minify: true,
      sourcemap: 'linked',
      sourcesContent: false,
      mainFields: ['module', 'main'],
      // tsx is bin/flants.js's fallback, never part of a build.
      external: ['tsx', 'tsx/*'],
      // Bundled CommonJS dependencies (mongodb, the AWS SDK) call require() for Node built-ins.
      banner: {
        js: "import { createRequire as __flantsCreateRequire } from 'node:module'; const require = __flantsCreateRequire(import.meta.url);",
      },
      // The dashboard's page script, bundled for the browser and inlined as a string (src/dashboard/client.ts).
      plugins: [dashboardScript.dashboardScriptPlugin(), sourceUrlPlugin(tmp)],
      logLevel: 'error',
    });
    // A source edited while esbuild read the tree: this build matches neither stamp, so it is dropped.
    if (sourceStamp() !== stamp) throw new Error('the sources changed during the build; run it again');
    try {
      renameSync(tmp, target);
    } catch (err) {
      // Another build of the same sources finished first: its folder is as good as this one.
      if (!existsSync(join(target, 'main.js'))) throw err;
      rmSync(tmp, { recursive: true, force: true });
    }
    prune(stamp);
    process.stderr.write(
      `flants: built the CLI into ${relative(ROOT, target)} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
    );
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

function now36() {
  return Date.now().toString(36);
}

try {
  await main();
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  if (!soft) {
    process.stderr.write(`flants: building the CLI failed: ${message}\n`);
    process.exit(1);
  }
  process.stderr.write(
    `flants: warning: could not build the CLI (${message}); bin/flants.js runs the TypeScript sources through tsx instead.\n`,
  );
}
