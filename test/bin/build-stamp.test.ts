import { mkdirSync, mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { currentBuild, sourceStamp } from '../../bin/build-stamp.js';

// bin/flants.js runs a build only when the sources hash to its folder's name: these are the edits
// that must move the stamp (so an old build is never run) and the ones that must not.
let root: string;
const write = (path: string, text: string) => writeFileSync(join(root, path), text);

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'flants-stamp-'));
  for (const dir of ['src/cli', 'lab', 'handlers', 'scripts', 'bin', 'node_modules'])
    mkdirSync(join(root, dir), { recursive: true });
  write('src/cli/main.ts', 'export const a = 1;\n');
  write('lab/cli.ts', 'export const b = 1;\n');
  write('handlers/scanner.ts', 'export const c = 1;\n');
  write('package.json', '{}\n');
  write('package-lock.json', '{}\n');
  write('node_modules/.package-lock.json', '{}\n');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('the CLI build stamp', () => {
  it('is stable for the same contents, whatever their mtimes', () => {
    const before = sourceStamp(root);
    utimesSync(join(root, 'src/cli/main.ts'), new Date(), new Date(Date.now() + 60_000));
    write('lab/cli.ts', 'export const b = 1;\n');
    expect(sourceStamp(root)).toBe(before);
  });

  it('moves with an edit, a new file, a rename, a manifest or a reinstall', () => {
    const seen = new Set([sourceStamp(root)]);
    const expectNew = () => {
      const stamp = sourceStamp(root);
      expect(seen.has(stamp)).toBe(false);
      seen.add(stamp);
    };
    write('src/cli/main.ts', 'export const a = 2;\n');
    expectNew();
    write('src/cli/extra.ts', '');
    expectNew();
    renameSync(join(root, 'src/cli/extra.ts'), join(root, 'src/cli/other.ts'));
    expectNew();
    write('handlers/scanner.ts', 'export const c = 2;\n');
    expectNew();
    write('package-lock.json', '{"x":1}\n');
    expectNew();
    write('node_modules/.package-lock.json', '{"x":1}\n');
    expectNew();
  });

  it('finds a build only for the sources it was made from', () => {
    expect(currentBuild(root)).toBeUndefined();
    const dir = join(root, 'dist', 'cli', sourceStamp(root));
    mkdirSync(dir, { recursive: true });
    write(`dist/cli/${sourceStamp(root)}/main.js`, '');
    expect(currentBuild(root)?.dir).toBe(dir);
    write('src/cli/main.ts', 'export const a = 3;\n');
    expect(currentBuild(root)).toBeUndefined();
  });
});
