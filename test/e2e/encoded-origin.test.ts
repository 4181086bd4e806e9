// Issue 18, case 2 end to end: an origin that gzips every answer although FLAnts asks for identity.
// The operator's path through the CLI (setup → enqueue → run → status) on local servers; the bucket
// must hold every file as a player gets it (decoded), and every class end COMPLETE.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBucket } from '../../lab/bucket-check.ts';
import { LIBRARY_ENV, generateLibrary } from '../../lab/library.ts';
import type { OriginServer } from '../../lab/origin-server.ts';
import { loadConfig } from '../../src/config.ts';
import { createAwsClients } from '../../src/wiring/aws-clients.ts';
import { createObjectStore } from '../../src/adapters/s3/objects.ts';
import { flants } from '../helpers/cli.ts';
import { startCliEnv, type CliEnv } from '../helpers/cli-env.ts';

const library = generateLibrary({
  classes: 2,
  segmentsPerRendition: 3,
  segmentBytes: 8 * 1024,
  variants: 1,
  seed: 'gz',
});
let cli: CliEnv;
let origin: OriginServer;
let env: Record<string, string>;

beforeAll(async () => {
  cli = await startCliEnv(
    library,
    {
      FLANTS_STAGE: 'gzip',
      // The library's fMP4 classes publish manifest.mpd beside the master: copied, as `npm start` does.
      ...LIBRARY_ENV,
      DEST_PREFIX: 'copy/',
      FLANTS_LOG_LEVEL: 'warn',
    },
    { faults: { encoding: 'gzip', framing: 'chunked' } },
  );
  ({ origin, env } = cli);
}, 120_000);
afterAll(() => cli?.stop());

describe('flants CLI against an origin that gzips everything', () => {
  it('setup → enqueue → run → status: every class COMPLETE, every object the decoded original', async () => {
    expect((await flants(['setup', '--visibility-timeout', '5'], env)).code).toBe(0);
    for (const cls of library.classes) {
      const e = await flants(['enqueue', cls.id], env);
      expect(e.stderr).toBe('');
      expect(e.code).toBe(0);
    }
    const run = await flants(['run', '--until-idle', '--retry-delay', '1'], env, 180_000);
    expect(run.code).toBe(0);
    const status = JSON.parse((await flants(['status', '--json'], env)).stdout) as {
      classes: Array<Record<string, unknown>>;
    };
    expect(status.classes).toHaveLength(library.classes.length);
    for (const cls of library.classes) {
      expect(status.classes.find((c) => c.classId === cls.id)).toMatchObject({
        status: 'COMPLETE',
        files: cls.files,
        doneFiles: cls.files,
        bytes: cls.bytes,
        failedFiles: 0,
      });
    }
    // What the origin encoded is stored decoded: the bytes a player's HTTP stack hands it.
    expect(origin.stats().byStatus['200']).toBeGreaterThan(0);
    const cfg = loadConfig({ ...process.env, ...env });
    const aws = createAwsClients(cfg);
    const store = createObjectStore(aws.s3, cfg.destBucket, { partSizeBytes: cfg.transfer.partSizeBytes });
    try {
      const verified = await verifyBucket({ store }, library, 'copy/', origin.url);
      expect(verified.problems).toEqual([]);
      expect(verified).toMatchObject({ objects: library.totalFiles, mismatches: 0, missing: 0, extra: 0, dangling: 0 });
    } finally {
      await store.close();
      aws.destroy();
    }
  });
});
