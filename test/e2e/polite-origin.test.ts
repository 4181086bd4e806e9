import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalPipeline } from '../../lab/local-pipeline.ts';
import { generateLibrary } from '../../lab/library.ts';
import type { OriginServer } from '../../lab/origin-server.ts';
import { loadConfig } from '../../src/config.ts';
import { buildDeps } from '../../src/wiring/deps.ts';
import { flants } from '../helpers/cli.ts';
import { startCliEnv, type CliEnv } from '../helpers/cli-env.ts';
import { testLogger } from '../helpers/stack.ts';

// Issue 23's "done when": a throttling origin, the local runner's several workers, a fleet-wide limit.
const library = generateLibrary({
  classes: 2,
  segmentsPerRendition: 12,
  segmentBytes: 4 * 1024,
  variants: 2,
  seed: 'polite',
});
const files = library.classes.reduce((n, c) => n + c.files, 0);
let cli: CliEnv;
let origin: OriginServer;
let base: Record<string, string>;

beforeAll(async () => {
  cli = await startCliEnv(library, {
    FLANTS_LOG_LEVEL: 'warn',
    TRANSFER_CHUNK_FILES: '10',
    ORIGIN_REPORT_SECONDS: '1',
  });
  ({ origin, env: base } = cli);
}, 120_000);
afterAll(() => cli?.stop());

type Status = {
  classes: Array<{ classId: string; status: string; doneFiles: number; files: number; failedFiles: number }>;
};

async function copyAll(env: Record<string, string>): Promise<Status> {
  expect((await flants(['setup', '--visibility-timeout', '30', '--json'], env)).code).toBe(0);
  expect((await flants(['scan'], env)).code).toBe(0);
  const run = await flants(
    ['run', '--until-idle', '--workers', '3', '--retry-delay', '1', '--timeout', '400'],
    env,
    420_000,
  );
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse((await flants(['status', '--json'], env)).stdout) as Status;
}

function expectComplete(s: Status): void {
  expect(s.classes.map((c) => c.classId).sort()).toEqual(library.classes.map((c) => c.id).sort());
  for (const c of s.classes) {
    const cls = library.classes.find((l) => l.id === c.classId)!;
    // The HLS crawl copies what the master names; a DASH manifest the library publishes beside it is not among them.
    const hls = cls.paths.filter((p) => !p.endsWith('.mpd')).length;
    expect(c).toMatchObject({ status: 'COMPLETE', files: hls, doneFiles: hls, failedFiles: 0 });
  }
}

async function dlqDepths(env: Record<string, string>): Promise<number> {
  const deps = buildDeps(loadConfig(env), testLogger());
  try {
    const d = await Promise.all((['scan-dlq', 'crawl-dlq', 'transfer-dlq'] as const).map((q) => deps.queue.depth(q)));
    return d.reduce((n, x) => n + x.visible + x.inFlight + x.delayed, 0);
  } finally {
    await deps.close();
  }
}

describe('issue 23: polite to the origin', () => {
  it('with ORIGIN_MAX_REQUESTS_PER_SECOND=18 over three workers, an origin throttling above 18/s never sees more in any second; the copy completes, nothing dead-lettered', async () => {
    origin.setFaults({ throttleRps: 18 });
    const env = { ...base, FLANTS_STAGE: 'polite1', ORIGIN_MAX_REQUESTS_PER_SECOND: '18' };
    const status = await copyAll(env);
    expectComplete(status);
    const seen = origin.stats();
    expect(seen.requests).toBeGreaterThanOrEqual(files);
    expect(seen.peakRequestsPerSecond).toBeLessThanOrEqual(18);
    expect(await dlqDepths(env)).toBe(0);
  }, 600_000);

  it('with no limit set, an origin throttling above 8/s slows the fleet: 429s are answered by backing off and deferring chunks, the copy completes with exact counts, nothing dead-lettered, the ledger shows the throttling', async () => {
    origin.setFaults({ throttleRps: 8 });
    const env = { ...base, FLANTS_STAGE: 'polite2' };
    const status = await copyAll(env);
    expectComplete(status);
    const seen = origin.stats();
    expect(seen.throttled).toBeGreaterThan(0);
    expect(await dlqDepths(env)).toBe(0);
    // What the dashboard reads: the fleet's answers per host and minute, throttles among them.
    const deps = buildDeps(loadConfig(env), testLogger());
    try {
      const items = await deps.aws.ddb.send(
        new QueryCommand({
          TableName: deps.cfg.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': 'ORIGINS' },
        }),
      );
      const throttled = (items.Items ?? []).reduce((n, i) => n + Number(i.throttled ?? 0), 0);
      expect(throttled).toBeGreaterThan(0);
    } finally {
      await deps.close();
    }
  }, 600_000);
});

describe('issue 23: a throttled chunk waits in its queue instead of spending its deliveries', () => {
  it('chunks the origin throttles are deferred with a delay (no delivery spent), the class note says why, and every file is counted once', async () => {
    const p = await startLocalPipeline({
      library: { classes: 1, variants: 1, segmentsPerRendition: 30, segmentBytes: 1024, seed: 'defer' },
      log: testLogger(),
      // One in-attempt try: a 429 fails its file at once, so the chunk meets the throttle as a whole.
      env: { TRANSFER_CHUNK_FILES: '8', TRANSFER_RETRY_ATTEMPTS: '1' },
    });
    try {
      p.origin.setFaults({ throttleRps: 4 });
      const deferred: number[] = [];
      const failed: boolean[] = [];
      const notes = new Set<string>();
      p.deps.events.on('deferred', ({ delaySeconds }) => deferred.push(delaySeconds));
      p.deps.events.on('deliveryFailed', ({ final }) => failed.push(final));
      const cls = p.library.classes[0]!;
      const watch = setInterval(() => {
        void p.deps.ledger.getClass(cls.id).then((r) => r?.lastAttemptError && notes.add(r.lastAttemptError));
      }, 200);
      await p.scan();
      const records = await p.settle({ timeoutMs: 150_000 }).finally(() => clearInterval(watch));
      expect(records.find((r) => r.classId === cls.id)).toMatchObject({
        status: 'COMPLETE',
        doneFiles: cls.files,
        failedFiles: 0,
      });
      expect(deferred.length).toBeGreaterThan(0);
      expect(deferred.every((d) => d >= 5 && d <= 900)).toBe(true);
      // Deferrals are not failed deliveries: none was the last, none reached a DLQ.
      expect(failed.filter(Boolean)).toEqual([]);
      expect((await p.deps.queue.depth('transfer-dlq')).visible).toBe(0);
      expect([...notes].some((n) => n.includes('throttled by the origin: ') && n.includes('answered HTTP 429'))).toBe(
        true,
      );
      const report = await p.evaluate(undefined, new Set());
      expect(report.ok).toBe(true);
      expect(report.completions).toEqual({ [cls.id]: 1 });
    } finally {
      await p.stop();
    }
  }, 400_000);
});
