// Issue 23: the origin client's gate against the real lab origin (its throttling mode) and the
// fleet's origin report in the real local DynamoDB.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLibrary } from '../../lab/library.ts';
import { startOriginServer, type OriginServer } from '../../lab/origin-server.ts';
import { createOrigin, OriginError, type Origin } from '../../src/origin/client.ts';
import { OriginGate } from '../../src/origin/gate.ts';
import { parsePerHost } from '../../src/origin/politeness.ts';
import { OriginHealthReporter, recentOriginHealth } from '../../src/store/origin-health.ts';
import { mapLimit } from '../../src/util/concurrency.ts';
import { startTestStack, testLogger, type TestStack } from '../helpers/stack.ts';

const library = generateLibrary({
  classes: 1,
  segmentsPerRendition: 20,
  segmentBytes: 2048,
  variants: 2,
  seed: 'gate',
});
const paths = library.classes[0]!.paths;
let origin: OriginServer;
let t: TestStack;

beforeAll(async () => {
  [origin, t] = await Promise.all([startOriginServer(library), startTestStack()]);
}, 120_000);
afterAll(async () => {
  await origin?.close();
  await t?.stop();
});

function client(gate: OriginGate): Origin {
  return createOrigin({ allowedHosts: [new URL(origin.url).host], gate });
}

const limits = (rps: string | undefined, shares = 1) => ({
  requestsPerSecond: parsePerHost(rps, 1e6),
  megabytesPerSecond: parsePerHost(undefined, 1e6),
  shares,
});

async function fetchAll(o: Origin, list: readonly string[], concurrency: number): Promise<number> {
  let failed = 0;
  await mapLimit(list, concurrency, async (p) => {
    try {
      const res = await o.openStream(`${origin.url}${p}`);
      for await (const _ of res.body) void _;
    } catch (err) {
      if (!(err instanceof OriginError)) throw err;
      failed++;
    }
  });
  return failed;
}

describe('the origin gate', () => {
  it('two processes sharing a limit of 12/s (ORIGIN_LIMIT_SHARES=2) put at most 12 requests in any second at the origin, 16 at once each', async () => {
    origin.setFaults({});
    const [a, b] = [client(new OriginGate(limits('12', 2))), client(new OriginGate(limits('12', 2)))];
    const started = performance.now();
    const list = paths.slice(0, 24);
    expect(await Promise.all([fetchAll(a, list, 16), fetchAll(b, list, 16)])).toEqual([0, 0]);
    expect(origin.stats().requests).toBe(48);
    expect(origin.stats().peakRequestsPerSecond).toBeLessThanOrEqual(12);
    // 48 requests at 12/s (less the margin) take at least 3.5 s: the limit is a real one.
    expect(performance.now() - started).toBeGreaterThan(3_500);
    await Promise.all([a.close(), b.close()]);
  }, 60_000);

  it('with no limit, a 429 with Retry-After slows the host for every later request, not only the file that met it', async () => {
    origin.setFaults({ throttleRps: 10 });
    const gate = new OriginGate(limits(undefined));
    const o = client(gate);
    const events: string[] = [];
    gate.onThrottle((e) => events.push(`${e.kind} ${e.what}`));
    const failed = await fetchAll(o, paths, 20);
    expect(events[0]).toBe('throttled HTTP 429');
    // The gate took a rate for the host and kept well under what it met at first.
    const host = new URL(origin.url).host;
    expect(gate.rateOf(host)).toBeDefined();
    // After the first burst, the origin throttled few: the fleet slowed instead of retrying blindly.
    expect(origin.stats().throttled).toBeLessThan(paths.length);
    expect(failed).toBe(origin.stats().throttled);
    await o.close();
  }, 60_000);

  it("reports each host's answers to the ledger; another process's throttles slow this one", async () => {
    const host = new URL(origin.url).host;
    const ga = new OriginGate(limits(undefined));
    const gb = new OriginGate(limits(undefined));
    let now = Date.now();
    const ra = new OriginHealthReporter(t.aws.ddb, t.cfg.tableName, ga, 1, () => now);
    const rb = new OriginHealthReporter(t.aws.ddb, t.cfg.tableName, gb, 1, () => now);
    ga.answered(host, { status: 200, latencyMs: 10 });
    gb.answered(host, { status: 200, latencyMs: 30 });
    now += 1_000;
    await rb.maybeReport(testLogger());
    ga.answered(host, { status: 429, retryAfterSeconds: 2, latencyMs: 20 });
    await ra.maybeReport(testLogger());
    expect(gb.rateOf(host)).toBeUndefined();
    gb.answered(host, { status: 200, latencyMs: 30 });
    now += 1_000;
    await rb.maybeReport(testLogger());
    // B heard of A's 429 through the ledger: it now paces the host too.
    expect(gb.rateOf(host)).toBeDefined();
    const rows = await recentOriginHealth(t.aws.ddb, t.cfg.tableName, 5);
    expect(rows).toEqual([
      expect.objectContaining({ host, ok: 3, throttled: 1, distress: 0, latencyMsMean: 23, lastThrottle: 'HTTP 429' }),
    ]);
  }, 60_000);
});
