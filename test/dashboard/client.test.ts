// The live page's script (src/dashboard/browser/): bundled from the very modules the server and
// `flants status --watch` compute with, type-checked as browser code, and inlined whole by the builds.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { LAYERS } from '../../eslint.layers.js';
import type * as Builder from '../../scripts/dashboard-script.cjs';
import { compareShown, viewFrom, viewToKeep } from '../../src/dashboard/browser/order.ts';
import * as shared from '../../src/dashboard/browser/shared.ts';
import type { ClassJson, FailuresJson, StatusJson } from '../../src/dashboard/browser/wire.ts';
import { clientScript, POLL_INTERVAL_MS } from '../../src/dashboard/client.ts';
import * as format from '../../src/dashboard/format.ts';
import * as progress from '../../src/dashboard/progress.ts';
import type { ClassFailures, DashboardSnapshot } from '../../src/dashboard/snapshot.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BROWSER = 'src/dashboard/browser/';
const builder = createRequire(import.meta.url)('../../scripts/dashboard-script.cjs') as typeof Builder;

/** A value as JSON.stringify writes it with renderJson's replacer: undefined as null, absent stays absent. */
type Json<T> = T extends string | number | boolean | null
  ? T
  : T extends undefined
    ? null
    : T extends readonly (infer E)[]
      ? Json<E>[]
      : T extends object
        ? { [K in keyof T]: Json<T[K]> }
        : never;

describe("the page's arithmetic", () => {
  it("is the server's own: every function the page computes with is the one progress.ts or format.ts exports", () => {
    const server: Record<string, unknown> = { ...progress, ...format };
    const names = Object.keys(shared);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(shared[name as keyof typeof shared], name).toBe(server[name]);
  });

  it('is what the served script is built from: browser modules reach other code only through shared.ts', async () => {
    const result = await esbuild.build({ ...builder.dashboardScriptOptions(), metafile: true });
    const inputs = Object.values(result.metafile.outputs)[0]!.inputs;
    // The shared modules are in the bundle, with code (tree shaking did not leave them out).
    for (const file of ['src/dashboard/progress.ts', 'src/dashboard/format.ts'])
      expect(inputs[file]?.bytesInOutput ?? 0, file).toBeGreaterThan(0);
    // Nothing but the browser folder and the shared modules: no Node-side module slipped in.
    expect(
      Object.keys(inputs)
        .filter((f) => !f.startsWith(BROWSER))
        .sort(),
    ).toEqual(['src/dashboard/format.ts', 'src/dashboard/progress.ts']);
    for (const [file, input] of Object.entries(result.metafile.inputs)) {
      if (!file.startsWith(BROWSER) || file === `${BROWSER}shared.ts`) continue;
      // (esbuild's own helpers are imported from "<runtime>".)
      for (const imp of input.imports.filter((i) => i.path !== '<runtime>'))
        expect(imp.path, `${file} imports ${imp.path}`).toMatch(/^src\/dashboard\/browser\//);
    }
  });

  it.each([
    ['main.ts', '../progress.ts', false],
    ['rows.ts', '../snapshot.ts', false],
    ['poll.ts', 'node:crypto', false],
    ['panels.ts', 'esbuild', false],
    ['shared.ts', '../snapshot.ts', false],
    ['shared.ts', '../render.ts', false],
    ['main.ts', './shared.ts', true],
    ['shared.ts', '../progress.ts', true],
    ['shared.ts', '../format.ts', true],
  ])('lint: browser/%s may import %s: %s (the dependency rule, eslint.layers.js)', async (file, specifier, allowed) => {
    const eslint = new ESLint({
      overrideConfigFile: true,
      overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, ...LAYERS],
    });
    const [result] = await eslint.lintText(`import '${specifier}';\n`, { filePath: `${BROWSER}${file}` });
    expect((result?.messages ?? []).map((m) => m.ruleId)).toEqual(allowed ? [] : ['no-restricted-imports']);
  });

  it('reads status.json as the server writes it: its types, as JSON, fit what the page expects', () => {
    // Checked by tsc (npm run typecheck): a field renamed or retyped on one side fails there.
    expectTypeOf<Json<DashboardSnapshot>>().toExtend<StatusJson>();
    expectTypeOf<Json<ClassFailures>>().toExtend<FailuresJson>();
    expect(POLL_INTERVAL_MS).toBe(2000);
  });
});

describe("the page's script", () => {
  it("type-checks with the DOM's types and without Node's (src/dashboard/browser/tsconfig.json)", () => {
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', join(ROOT, BROWSER)], { encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.status).toBe(0);
    // No Node types there: code that used Buffer or process would not compile.
    const config = JSON.parse(
      readFileSync(join(ROOT, BROWSER, 'tsconfig.json'), 'utf8').replace(/^\s*\/\/.*$/gm, ''),
    ) as { compilerOptions: { types: string[]; lib: string[] } };
    expect(config.compilerOptions.types).toEqual([]);
    expect(config.compilerOptions.lib).toContain('DOM');
  });

  it('is one classic script that cannot end the <script> element it is inlined in', () => {
    const { script, hash } = clientScript();
    expect(script).toMatch(/^"use strict";\(\(\)=>\{/);
    expect(script).not.toMatch(/<\/script|<!--/i);
    expect(script).not.toMatch(/[^\x20-\x7e\n]/);
    expect(hash).toMatch(/^sha256-[A-Za-z0-9+/]{43}=$/);
  });

  it('is inlined by the builds as a string: a bundle of client.ts carries the same script and no esbuild', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flants-client-'));
    try {
      const entry = join(dir, 'entry.ts');
      const client = relative(dir, join(ROOT, 'src/dashboard/client.ts')).split('\\').join('/');
      writeFileSync(entry, `export { clientScript } from ${JSON.stringify(client)};\n`);
      const out = join(dir, 'out.mjs');
      await esbuild.build({
        entryPoints: [entry],
        outfile: out,
        bundle: true,
        format: 'esm',
        platform: 'node',
        plugins: [builder.dashboardScriptPlugin()],
        logLevel: 'silent',
      });
      const text = readFileSync(out, 'utf8');
      expect(text).not.toMatch(/esbuild|dashboard-script|createRequire/);
      const built = (await import(pathToFileURL(out).href)) as { clientScript: typeof clientScript };
      expect(built.clientScript()).toEqual(clientScript());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the reader's view", () => {
  it("survives a reload as it was kept, anything unreadable read as the default, the page's own filter first", () => {
    const v = viewFrom(
      { filter: 'FAILED', q: 'lecture', sort: 'eta', dir: -1, stuck: 5, first: false, open: ['a', 7] },
      '',
    );
    expect(viewToKeep(v)).toEqual({
      filter: 'FAILED',
      q: 'lecture',
      sort: 'eta',
      dir: -1,
      stuck: 5,
      first: false,
      open: ['a'],
    });
    expect(viewFrom({ filter: 'FAILED' }, 'COMPLETE').filter).toBe('COMPLETE');
    expect(viewToKeep(viewFrom('{not json', ''))).toEqual({
      filter: '',
      q: '',
      sort: '',
      dir: 1,
      stuck: 10,
      first: true,
      open: [],
    });
  });

  it('orders FAILED then stuck classes first, then by the sorted column (unknown ETAs last), then by class id', () => {
    const row = (classId: string, status: ClassJson['status'], stuck = false, eta?: number) => ({
      r: { classId, status, updatedAt: null } as ClassJson,
      st: { stuck, eta },
    });
    const rows = [
      row('d', 'TRANSFERRING', false, 5000),
      row('c', 'TRANSFERRING'),
      row('b', 'PENDING', true),
      row('a', 'FAILED'),
    ];
    const order = (kept: unknown) => [...rows].sort(compareShown(viewFrom(kept, ''))).map((x) => x.r.classId);
    expect(order({ sort: 'eta' })).toEqual(['a', 'b', 'd', 'c']);
    expect(order({ sort: 'eta', dir: -1, first: false })).toEqual(['a', 'b', 'c', 'd']);
    expect(order({ sort: 'no-such-column', first: false })).toEqual(['a', 'b', 'c', 'd']);
  });
});
