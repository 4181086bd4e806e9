// Issue 18, case 4, end to end through the CLI an operator runs: a class is copied, the origin then
// purges one of its segments (as after a migration), and neither the daily change check
// (`scan --recheck`) nor a forced copy (`enqueue --force`) unmakes the finished copy: the class stays
// COMPLETE and `status` lists what the origin no longer has.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyKeyOf } from '../../lab/bucket-check.ts';
import { LIBRARY_ENV, generateLibrary } from '../../lab/library.ts';
import type { OriginServer } from '../../lab/origin-server.ts';
import { flants } from '../helpers/cli.ts';
import { startCliEnv, type CliEnv } from '../helpers/cli-env.ts';

const library = generateLibrary({
  classes: 1,
  variants: 1,
  segmentsPerRendition: 4,
  segmentBytes: 4096,
  seed: 'purge',
});
const cls = library.classes[0]!;
const purged = cls.paths.filter((p) => library.file(p)?.kind === 'segment')[1]!;
let cli: CliEnv;
let origin: OriginServer;
let env: Record<string, string>;

interface StatusJson {
  classes: Array<{
    classId: string;
    status: string;
    gen: number;
    files: number;
    doneFiles: number;
    failedFiles: number;
    goneAtOrigin: { count: number; keys: string[] };
  }>;
}

async function status(): Promise<StatusJson['classes'][number]> {
  const r = await flants(['status', cls.id, '--json'], env);
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as StatusJson).classes[0]!;
}

async function run(): Promise<void> {
  const r = await flants(['run', '--until-idle', '--retry-delay', '1'], env);
  expect(r.code).toBe(0);
}

beforeAll(async () => {
  cli = await startCliEnv(library, {
    FLANTS_STAGE: 'purgetest',
    // The library's fMP4 classes publish manifest.mpd beside the master: copied, as `npm start` does.
    ...LIBRARY_ENV,
    DEST_PREFIX: 'copy/',
    FLANTS_LOG_LEVEL: 'error',
  });
  ({ origin, env } = cli);
});
afterAll(() => cli?.stop());

describe('issue 18 case 4 via the CLI: an origin purge after COMPLETE', () => {
  it('setup, enqueue, run: the class is COMPLETE', { timeout: 300_000 }, async () => {
    expect((await flants(['setup', '--visibility-timeout', '5'], env)).code).toBe(0);
    expect((await flants(['enqueue', cls.id], env)).code).toBe(0);
    await run();
    expect(await status()).toMatchObject({ status: 'COMPLETE', gen: 1, doneFiles: cls.files, failedFiles: 0 });
  });

  it(
    'scan --recheck after the origin purged a segment: still COMPLETE, and status lists the segment as gone at the origin',
    { timeout: 300_000 },
    async () => {
      origin.setFaults({ gone: [purged] });
      expect((await flants(['scan', '--recheck', '--class', cls.id], env)).code).toBe(0);
      await run();
      const key = copyKeyOf('copy/', cls.id, origin.url, purged);
      expect(await status()).toMatchObject({
        status: 'COMPLETE',
        gen: 1,
        doneFiles: cls.files,
        failedFiles: 0,
        goneAtOrigin: { count: 1, keys: [key] },
      });
      const human = await flants(['status', cls.id], env);
      expect(human.stdout).toContain(`1 file(s) gone at the origin, their verified copies kept in the bucket: ${key}`);
      expect((await flants(['report'], env)).stdout).toContain('1 gone at the origin (copies kept)');
    },
  );

  it(
    'enqueue --force while the segment is still gone: the new generation keeps its copy and is COMPLETE',
    { timeout: 300_000 },
    async () => {
      expect((await flants(['enqueue', cls.id, '--force'], env)).code).toBe(0);
      await run();
      expect(await status()).toMatchObject({
        status: 'COMPLETE',
        gen: 2,
        files: cls.files,
        doneFiles: cls.files,
        failedFiles: 0,
        goneAtOrigin: { count: 1, keys: [copyKeyOf('copy/', cls.id, origin.url, purged)] },
      });
    },
  );
});
