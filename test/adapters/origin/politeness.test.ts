// Issue 23: the origin client's gate against the real lab origin (its throttling mode) and the
// fleet's origin report in the real local DynamoDB.
import { createHash } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLibrary } from '../../../lab/library.ts';
import { startOriginServer, type OriginServer } from '../../../lab/origin-server.ts';
import { createOrigin } from '../../../src/adapters/origin/client.ts';
import { OriginError, type Origin } from '../../../src/domain/ports/origin.ts';
import { OriginGate } from '../../../src/domain/origin/gate.ts';
import { parsePerHost } from '../../../src/domain/origin/politeness.ts';
import { OriginHealthReporter, recentOriginHealth } from '../../../src/adapters/dynamodb/origin-health.ts';
import { mapLimit } from '../../../src/util/concurrency.ts';
import { startTestStack, testLogger, type TestStack } from '../../helpers/stack.ts';

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
  it('two processes sharing a limit of 12/s (ORIGIN_LIMIT_SHARES=2) let at most 12 requests go in any second, 16 at once each, and the origin sees about that', async () => {
    origin.setFaults({});
    // Each gate's admissions, timestamped as they happen: what the gate decides, before the network's jitter.
    const admitted: number[] = [];
    class TimedGate extends OriginGate {
      override async admit(host: string, signal?: AbortSignal): Promise<number> {
        const paid = await super.admit(host, signal);
        admitted.push(performance.now());
        return paid;
      }
    }
    const [a, b] = [client(new TimedGate(limits('12', 2))), client(new TimedGate(limits('12', 2)))];
    const started = performance.now();
    const list = paths.slice(0, 24);
    expect(await Promise.all([fetchAll(a, list, 16), fetchAll(b, list, 16)])).toEqual([0, 0]);
    expect(origin.stats().requests).toBe(48);
    expect(admitted).toHaveLength(48);
    const inAnySecond = Math.max(...admitted.map((t) => admitted.filter((u) => u >= t && u < t + 1000).length));
    process.stderr.write(
      `12/s shared: at most ${inAnySecond} admitted in one second; at the origin ${origin.stats().peakRequestsPerSecond}\n`,
    );
    expect(inAnySecond).toBeLessThanOrEqual(12);
    // At the origin the same requests arrive with a connection's set-up and a loaded machine's scheduling
    // between: a request delayed past the gates' 10 % spacing margin can join the next second's, one per process.
    expect(origin.stats().peakRequestsPerSecond).toBeLessThanOrEqual(12 + 2);
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

describe('the byte limit, per second at the origin', () => {
  // Segments of 1.5 MiB: each larger than a process's share of 1 MB/s (ORIGIN_MAX_MBPS=2 over 2 shares).
  const big = generateLibrary({
    classes: 1,
    variants: 1,
    segmentsPerRendition: 8,
    segmentBytes: 1536 * 1024,
    seed: 'bytes',
  });
  const files = big.classes[0]!.paths.filter((p) => big.stat(p)!.size > 1_000_000);
  let o: OriginServer;
  beforeAll(async () => {
    o = await startOriginServer(big, { measureWire: true });
  }, 60_000);
  afterAll(async () => {
    await o?.close();
  });

  const mk = (bodyTimeoutMs?: number) =>
    createOrigin({
      allowedHosts: [new URL(o.url).host],
      ...(bodyTimeoutMs === undefined ? {} : { bodyTimeoutMs }),
      gate: new OriginGate({
        requestsPerSecond: parsePerHost(undefined, 1e6),
        megabytesPerSecond: parsePerHost('2', 1e6),
        shares: 2,
      }),
    });

  /** Reads every file through each client, four at once each; returns when each chunk was taken (ms) and its size. */
  async function readAll(clients: Origin[]): Promise<Array<[number, number]>> {
    const taken: Array<[number, number]> = [];
    const got = new Map<string, string>();
    await Promise.all(
      clients.map((c, i) =>
        mapLimit(files, 4, async (p) => {
          const res = await c.openStream(`${o.url}${p}`);
          const h = createHash('sha256');
          for await (const chunk of res.body) {
            taken.push([performance.now(), (chunk as Buffer).length]);
            h.update(chunk as Buffer);
          }
          got.set(`${i} ${p}`, h.digest('hex'));
        }),
      ),
    );
    // Every byte arrives: each file whole, from each process.
    expect(got.size).toBe(files.length * clients.length);
    for (const [k, digest] of got) {
      const p = k.slice(k.indexOf(' ') + 1);
      expect(digest, p).toBe(createHash('sha256').update(big.bytes(p)).digest('hex'));
    }
    return taken;
  }

  function peakPerSecond(taken: Array<[number, number]>): number {
    const sorted = [...taken].sort((a, b) => a[0] - b[0]);
    let lo = 0;
    let sum = 0;
    let peak = 0;
    for (const [at, n] of sorted) {
      sum += n;
      while (sorted[lo]![0] <= at - 1000) sum -= sorted[lo++]![1];
      peak = Math.max(peak, sum);
    }
    return peak;
  }

  it('ORIGIN_MAX_MBPS=2 over two processes reading four files each at once, every file larger than a share: no one-second window takes more than 2 MB from the network, every byte arrives, and a body timeout shorter than a pacing wait does not fire', async () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
    // 250 ms without body data would be a stalled origin; waiting for the bucket is not (undici's parser is paused).
    const clients = [mk(250), mk(250)];
    o.setFaults({});
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const taken = await readAll(clients);
    lag.disable();
    const bytes = files.reduce((n, p) => n + big.stat(p)!.size, 0) * 2;
    expect(o.stats().bytesSent).toBe(bytes);
    // Chunks are timestamped when the reader gets them, some event-loop lag after they were paid for:
    // the bucket's bound (2 MB in any second) plus 130 ms at the steady rate (1.5 MB/s), 10 %, and what
    // that rate pays during the longest stall of this process's event loop in the run (on a loaded
    // machine the reader wakes late and takes a stall's worth of paid chunks at once).
    const lagMs = lag.max / 1e6;
    const peak = peakPerSecond(taken);
    process.stderr.write(
      `paced reading: peak ${peak} B in one second, longest event-loop stall ${lagMs.toFixed(0)} ms\n`,
    );
    expect(peak).toBeLessThanOrEqual(2_000_000 * 1.1 + (1_500_000 * lagMs) / 1000);
    const seconds = (taken.at(-1)![0] - taken[0]![0]) / 1000;
    // The steady rate is three quarters of the limit: the run takes at least what the bucket allows.
    expect(seconds).toBeGreaterThan((bytes - 2 * 250_000) / 1_500_000 - 0.5);
    await Promise.all(clients.map((c) => c.close()));
  }, 120_000);

  it('a close-delimited body under a byte limit is read twice (as the transfer does), whole both times, without a stalled-origin timeout or an uncaught error', async () => {
    // Not held back per chunk (undici 7.30 asserts, uncaught, when such a connection ends while its
    // parser is paused: this test crashed so when it was); only its prepaid start is charged.
    o.setFaults({ framing: 'close' });
    const c = mk(250);
    const p = files[0]!;
    const digests: string[] = [];
    for (let read = 0; read < 2; read++) {
      const res = await c.openStream(`${o.url}${p}`);
      expect(res.unframed).toBe(true);
      const h = createHash('sha256');
      for await (const chunk of res.body) h.update(chunk as Buffer);
      digests.push(h.digest('hex'));
    }
    const want = createHash('sha256').update(big.bytes(p)).digest('hex');
    expect(digests).toEqual([want, want]);
    o.setFaults({});
    await c.close();
  }, 120_000);

  // The gap left open (docs/BENCHMARKS.md, bench:polite): measured on the wire at the origin, the
  // kernel's TCP receive buffer (10 × 64 KiB segments at first on loopback, then grown by Linux's
  // autotuning as the reader drains it, to ~2 MB) fills ahead of the paced reader on every
  // connection, so the origin's network sees up to a buffer per connection above the limit in one
  // second. Node cannot set SO_RCVBUF; holding it per second needs range requests of at most one
  // burst. This test states that gap: when it starts to fail, the gap is closed and it becomes an `it`.
  it.fails(
    "GAP: on the wire at the origin, the same reading keeps every one-second window under 2 MB (+2 %, the wire meter's 20 ms sampling)",
    async () => {
      const clients = [mk(), mk()];
      o.setFaults({});
      await readAll(clients);
      const peak = o.stats().peakWireBytesPerSecond;
      process.stderr.write(
        `on the wire at the origin: peak ${peak} B in one second (written: ${o.stats().peakBytesPerSecond})\n`,
      );
      expect(peak).toBeGreaterThan(0);
      expect(peak).toBeLessThanOrEqual(2_000_000 * 1.02);
      await Promise.all(clients.map((c) => c.close()));
    },
    120_000,
  );
});
