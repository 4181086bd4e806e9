import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIBRARY_ENV, generateLibrary } from '../../lab/library.ts';
import { clientScript } from '../../src/dashboard/client.ts';
import { encodeBits } from '../../src/views/report.ts';
import { flants } from '../helpers/cli.ts';
import { startCliEnv, type CliEnv } from '../helpers/cli-env.ts';

const BIN = fileURLToPath(new URL('../../bin/flants.js', import.meta.url));

// The operator's path: servers a user already runs, then setup → enqueue → run → status via the CLI.
const library = generateLibrary({
  classes: 3,
  segmentsPerRendition: 3,
  segmentBytes: 8 * 1024,
  variants: 1,
  seed: 'cli',
});
let cli: CliEnv;
let env: Record<string, string>;

beforeAll(async () => {
  cli = await startCliEnv(library, {
    FLANTS_STAGE: 'clitest',
    // The library's fMP4 classes publish manifest.mpd beside the master; its totals count them, as `npm start` copies them.
    ...LIBRARY_ENV,
    DEST_PREFIX: 'copy',
    FLANTS_LOG_LEVEL: 'warn',
  });
  env = cli.env;
});
afterAll(() => cli?.stop());

describe('flants CLI against local endpoints', () => {
  it('setup creates the stage resources, twice without complaint', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await flants(['setup', '--visibility-timeout', '5', '--json'], env);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout) as { queues: Array<{ name: string }>; table: string; bucket: string };
      expect(out.queues.map((q) => q.name).sort()).toEqual(
        ['crawl', 'scan', 'transfer']
          .flatMap((r) => [r, `${r}-dlq`, `${r}-fresh`, `${r}-fresh-dlq`])
          .map((n) => `flants-clitest-${n}`)
          .sort(),
      );
      expect(out.table).toBe('flants-clitest-ledger');
    }
  });

  it('enqueue refuses a class the scanner would skip, and says why', async () => {
    const test = library.skipped.find((s) => s.kind === 'test')!;
    const r = await flants(['enqueue', test.id], env);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe(`flants: class ${test.id} will not be copied: test class`);
    const unknown = await flants(['enqueue', 'ffffffffffffffffffffffff'], env);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('unknown class ffffffffffffffffffffffff');
  });

  it('enqueue → run --until-idle → status --json shows the class COMPLETE with exact counts', async () => {
    const cls = library.classes[0]!;
    const e = await flants(['enqueue', cls.id], env);
    expect(e.code).toBe(0);
    const before = JSON.parse((await flants(['status', '--json'], env)).stdout) as {
      classes: Array<{ classId: string; status: string }>;
    };
    expect(before.classes).toEqual([expect.objectContaining({ classId: cls.id, status: 'PENDING' })]);
    const run = await flants(['run', '--until-idle', '--retry-delay', '1'], env);
    expect(run.code).toBe(0);
    const after = JSON.parse((await flants(['status', '--json'], env)).stdout) as {
      classes: Array<Record<string, unknown>>;
    };
    expect(after.classes).toEqual([
      expect.objectContaining({
        classId: cls.id,
        status: 'COMPLETE',
        files: cls.files,
        doneFiles: cls.files,
        bytes: cls.bytes,
        failedFiles: 0,
      }),
    ]);
    // The bit field: every chunk of the plan done, none failed (docs/ledger.md).
    const chunks = after.classes[0]!.chunks as number;
    expect(chunks).toBeGreaterThan(0);
    expect(after.classes[0]!.bits).toEqual({
      unit: 'chunk',
      total: chunks,
      done: encodeBits(
        chunks,
        Array.from({ length: chunks }, (_, i) => i),
      ),
      failed: encodeBits(chunks, []),
    });
    const human = await flants(['status'], env);
    expect(human.stdout).toContain('1 class: 1 COMPLETE');
  });

  it('scan enqueues the rest of the catalog and skips what is complete', async () => {
    expect((await flants(['scan'], env)).code).toBe(0);
    expect((await flants(['run', '--until-idle', '--retry-delay', '1'], env)).code).toBe(0);
    const all = JSON.parse((await flants(['status', '--json'], env)).stdout) as {
      classes: Array<{ classId: string; status: string }>;
    };
    expect(all.classes.map((c) => c.classId).sort()).toEqual(library.classes.map((c) => c.id).sort());
    expect(all.classes.every((c) => c.status === 'COMPLETE')).toBe(true);
  });

  it('enqueue --force copies a COMPLETE class again as a new generation, counting from zero', async () => {
    const cls = library.classes[1]!;
    const before = JSON.parse((await flants(['status', cls.id, '--json'], env)).stdout) as {
      classes: Array<{ completedAt: string }>;
    };
    expect((await flants(['enqueue', cls.id], env)).code).toBe(0);
    expect((await flants(['run', '--until-idle', '--retry-delay', '1'], env)).code).toBe(0);
    const unchanged = JSON.parse((await flants(['status', cls.id, '--json'], env)).stdout) as {
      classes: Array<{ completedAt: string }>;
    };
    // Not forced: a COMPLETE class is left alone.
    expect(unchanged.classes[0]!.completedAt).toBe(before.classes[0]!.completedAt);
    expect((await flants(['enqueue', cls.id, '--force'], env)).code).toBe(0);
    expect((await flants(['run', '--until-idle', '--retry-delay', '1'], env)).code).toBe(0);
    const after = JSON.parse((await flants(['status', cls.id, '--json'], env)).stdout) as {
      classes: Array<Record<string, unknown>>;
    };
    expect(after.classes[0]).toMatchObject({
      status: 'COMPLETE',
      files: cls.files,
      doneFiles: cls.files,
      bytes: cls.bytes,
    });
    expect(after.classes[0]!.completedAt).not.toBe(before.classes[0]!.completedAt);
  });

  it("scan --recheck asks the origin about COMPLETE classes; status shows each class's freshness and the last 24 hours' figures", async () => {
    const cls = library.classes[2]!;
    expect((await flants(['scan', '--class', cls.id], env)).stderr).toContain('--class goes with --recheck');
    const r = await flants(['scan', '--recheck', '--class', cls.id], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Enqueued a change check of class ${cls.id}`);
    expect((await flants(['run', '--until-idle', '--retry-delay', '1'], env)).code).toBe(0);
    const out = JSON.parse((await flants(['status', '--json'], env)).stdout) as {
      classes: Array<Record<string, unknown>>;
      freshness: Record<string, unknown>;
    };
    expect(out.classes.find((c) => c.classId === cls.id)).toMatchObject({
      status: 'COMPLETE',
      checkResult: `unchanged: ${cls.files} file(s) asked`,
      freshnessSeconds: expect.any(Number),
    });
    expect(out.freshness).toMatchObject({
      windowHours: 24,
      classes: library.classes.length,
      medianSeconds: expect.any(Number),
      worstSeconds: expect.any(Number),
    });
    expect((await flants(['status'], env)).stdout).toContain(
      `freshness (last 24 h, ${library.classes.length} classes): median`,
    );
    expect((await flants(['report'], env)).stdout).toContain('Freshness (last 24 h');
  });

  it('dashboard serves the ledger as HTML and JSON on loopback', async () => {
    const child = spawn(process.execPath, [BIN, 'dashboard'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /(http:\/\/127\.0\.0\.1:\d+\/?)/.exec(out);
          if (m) resolve(m[1]!.replace(/\/?$/, '/'));
        });
        child.once('exit', (code) => reject(new Error(`dashboard exited ${code}`)));
      });
      const json = (await (await fetch(`${url}status.json`)).json()) as {
        classes: Array<{ classId: string; status: string }>;
      };
      expect(json.classes.map((c) => c.status)).toEqual(library.classes.map(() => 'COMPLETE'));
      const page = await fetch(url);
      const html = await page.text();
      for (const c of library.classes) expect(html).toContain(c.id);
      // The built CLI carries the page's script inlined (scripts/dashboard-script.cjs): the sources' bundle, byte for byte.
      expect(html).toContain(`<script>${clientScript().script}</script>`);
      expect(page.headers.get('content-security-policy')).toContain(`script-src '${clientScript().hash}'`);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('status --watch redraws the dashboard as text, without colours when stdout is not a terminal', async () => {
    const r = await flants(['status', '--watch', '--interval', '0.3', '--frames', '2'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('\x1b[');
    expect(r.stdout.match(/^FLAnts clitest · /gm)).toHaveLength(2);
    expect(r.stdout).toContain(`✓ ${library.classes.length} COMPLETE classes`);
    expect(r.stdout).toContain('queues scan 0 · crawl 0 · transfer 0');
    const json = await flants(['status', '--watch', '--json', '--interval', '0.3', '--frames', '2'], env);
    const frames = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { classes: Array<{ status: string; bits: { unit: string } }> });
    expect(frames).toHaveLength(2);
    for (const f of frames)
      expect(f.classes.map((c) => `${c.status}:${c.bits.unit}`)).toEqual(library.classes.map(() => 'COMPLETE:chunk'));
  });

  it('names a bad configuration value and exits non-zero', async () => {
    const r = await flants(['status'], { ...env, TRANSFER_CHUNK_FILES: 'many' });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('flants: TRANSFER_CHUNK_FILES must be a whole number, got "many"');
  });
});
