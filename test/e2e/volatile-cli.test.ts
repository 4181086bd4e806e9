// Issue 18, case 1, the operator's path: an origin whose playlists differ on every request (a token in
// every URI's query, a changing comment and EXT-X-PROGRAM-DATE-TIME), copied through the CLI alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIBRARY_ENV, generateLibrary } from '../../lab/library.ts';
import { findDanglingReferences } from '../../lab/playlist-references.ts';
import { loadConfig } from '../../src/config.ts';
import { createAwsClients } from '../../src/wiring/aws-clients.ts';
import { createObjectStore } from '../../src/adapters/s3/objects.ts';
import { flants } from '../helpers/cli.ts';
import { startCliEnv, type CliEnv } from '../helpers/cli-env.ts';

const library = generateLibrary({
  classes: 1,
  segmentsPerRendition: 3,
  segmentBytes: 4096,
  variants: 2,
  seed: 'token',
});
let cli: CliEnv;
let env: Record<string, string>;

beforeAll(async () => {
  cli = await startCliEnv(
    library,
    {
      FLANTS_STAGE: 'clitoken',
      // The library's fMP4 classes publish manifest.mpd beside the master: copied, as `npm start` does.
      ...LIBRARY_ENV,
      DEST_PREFIX: 'copy',
      FLANTS_LOG_LEVEL: 'warn',
    },
    { faults: { playlists: 'token' } },
  );
  env = cli.env;
}, 120_000);
afterAll(() => cli?.stop());

type Status = { classes: Array<Record<string, unknown>> };

describe('flants CLI, playlists that differ on every request (issue 18, case 1)', () => {
  it(
    'setup → enqueue → run → status --json: COMPLETE in generation 1, and every URI of every copied playlist resolves in the bucket',
    { timeout: 600_000 },
    async () => {
      const cls = library.classes[0]!;
      expect((await flants(['setup', '--visibility-timeout', '5'], env)).code).toBe(0);
      expect((await flants(['enqueue', cls.id], env)).code).toBe(0);
      const run = await flants(['run', '--until-idle', '--retry-delay', '1', '--timeout', '150'], env, 180_000);
      expect(run.code, run.stderr).toBe(0);
      const out = JSON.parse((await flants(['status', cls.id, '--json'], env)).stdout) as Status;
      expect(out.classes[0]).toMatchObject({
        classId: cls.id,
        status: 'COMPLETE',
        gen: 1,
        files: cls.files,
        doneFiles: cls.files,
        failedFiles: 0,
      });
      // The copy plays: every URI of every copied playlist (tokens and all) names an object in the bucket.
      const cfg = loadConfig({ ...process.env, ...env });
      const aws = createAwsClients(cfg);
      const store = createObjectStore(aws.s3, cfg.destBucket, { partSizeBytes: cfg.transfer.partSizeBytes });
      try {
        const playlists: string[] = [];
        for await (const o of store.list(`${cfg.destPrefix}${cls.id}/`))
          if (o.key.endsWith('.m3u8')) playlists.push(o.key);
        expect(playlists.length).toBeGreaterThan(1);
        expect(await findDanglingReferences(store, `${cfg.destPrefix}${cls.id}/`)).toEqual([]);
      } finally {
        await store.close();
        aws.destroy();
      }
      // A change check reads other bytes naming the same files: unchanged, no new generation.
      expect((await flants(['scan', '--recheck', '--class', cls.id], env)).code).toBe(0);
      expect((await flants(['run', '--until-idle', '--retry-delay', '1'], env, 180_000)).code).toBe(0);
      const checked = JSON.parse((await flants(['status', cls.id, '--json'], env)).stdout) as Status;
      expect(checked.classes[0]).toMatchObject({
        status: 'COMPLETE',
        gen: 1,
        checkResult: `unchanged: ${cls.files} file(s) asked`,
      });
    },
  );
});
