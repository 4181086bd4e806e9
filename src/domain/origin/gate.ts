import { setTimeout as sleep } from 'node:timers/promises';
import {
  bucketOf,
  byteShare,
  classifyAnswer,
  initialRate,
  limitFor,
  onHealthy,
  onTrouble,
  refill,
  refund,
  requestShare,
  spacingMs,
  startAt,
  take,
  type Answer,
  type AnswerKind,
  type ByteBucket,
  type PerHost,
  type RateState,
} from './politeness.ts';

/** The fleet-wide limits and how many processes share them (config `originLimits`). */
export interface GateLimits {
  requestsPerSecond: PerHost;
  /** MB/s (10^6 bytes). */
  megabytesPerSecond: PerHost;
  /** Processes that may read the origin at once across the fleet: each gets 1/shares of every limit. */
  shares: number;
}

/** What one host's answers looked like since the last `drain()`: the dashboard's figures. */
export interface HostCounters {
  ok: number;
  throttled: number;
  distress: number;
  other: number;
  /** Milliseconds to the answer's headers (or the failure), summed over the answers counted, and the worst. */
  latencyMsSum: number;
  latencyMsMax: number;
  /** The last throttling answer, for the class note. */
  lastThrottle?: string;
}

/** A throttling answer, as the gate announces it (metrics, the class note). */
export interface ThrottleEvent {
  host: string;
  /** `throttled`: the origin asked to be spared; `distress`: it struggled without saying so. */
  kind: 'throttled' | 'distress';
  /** `HTTP 429`, `HTTP 503`, `timeout`, … */
  what: string;
  retryAfterSeconds: number | undefined;
  /** The rate the process now allows toward the host (requests/s), or undefined when unlimited. */
  rate: number | undefined;
}

interface HostState {
  control: RateState;
  /** When the last request started (ms): the next starts no sooner than the spacing after it. */
  lastStart: number;
  pausedUntil: number;
  /** The process's byte share toward the host (bytes/s), undefined when no byte limit is set; its bucket. */
  bytesPerSecond: number | undefined;
  bucket: ByteBucket;
  /** The lengths of the host's last answers: a request prepays the largest (playlists are small, segments not). */
  sizes: number[];
  /** Requests started in the current and the previous whole second: the rate seen, for a first decrease. */
  second: number;
  thisSecond: number;
  lastSecond: number;
  counters: HostCounters;
}

/** Answers a throttled file fails with: the origin's words, for the class note and the deferral. */
export interface Throttled {
  what: string;
  retryAfterSeconds: number | undefined;
}

const emptyCounters = (): HostCounters => ({
  ok: 0,
  throttled: 0,
  distress: 0,
  other: 0,
  latencyMsSum: 0,
  latencyMsMax: 0,
});

/**
 * One process's gate to every origin host: requests start no closer than the host's share allows,
 * not during a pause the origin asked for, bodies are read no faster than the byte share (`pacer`); answers
 * steer the rate (AIMD). With no limit set and no trouble seen, `admit` returns at once without a
 * timer: the cost of the mechanism is a map lookup and a few counters per request.
 */
export class OriginGate {
  private readonly hosts = new Map<string, HostState>();
  private readonly listeners = new Set<(e: ThrottleEvent) => void>();

  constructor(
    private readonly limits: GateLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Called on each throttling answer (metrics count them). */
  onThrottle(listener: (e: ThrottleEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private state(host: string): HostState {
    let s = this.hosts.get(host);
    if (!s) {
      const rps = limitFor(this.limits.requestsPerSecond, host);
      const mbps = limitFor(this.limits.megabytesPerSecond, host);
      s = {
        control: initialRate(rps === undefined ? undefined : requestShare(rps, this.limits.shares)),
        lastStart: -Infinity,
        pausedUntil: 0,
        bytesPerSecond: mbps === undefined ? undefined : byteShare(mbps, this.limits.shares),
        // Full at first: a process that has read nothing yet may read one burst at once.
        bucket: { tokens: 0, at: -Infinity },
        sizes: [],
        second: 0,
        thisSecond: 0,
        lastSecond: 0,
        counters: emptyCounters(),
      };
      this.hosts.set(host, s);
    }
    return s;
  }

  /**
   * Waits until a request to `host` may start, and counts it as started. Spacing is kept between
   * actual starts (a timer that fires late never lets the next request catch up), so no second
   * holds more than the share, whatever the timers do. Under a byte limit the request then prepays
   * what the origin will send before anyone reads (the host's largest recent answer, 256 KiB before
   * any, at most one burst): a small file lands in the buffers at once, so it is paid for before it
   * is asked for. Returns the bytes prepaid (0 without a byte limit).
   */
  async admit(host: string, signal?: AbortSignal): Promise<number> {
    const s = this.state(host);
    for (;;) {
      const now = this.now();
      const rate = s.control.rate;
      const at = startAt(now, rate === undefined ? 0 : s.lastStart + spacingMs(rate), s.pausedUntil);
      if (at <= now) break;
      await sleep(Math.max(1, Math.ceil(at - now)), undefined, signal ? { signal } : undefined);
    }
    this.started(s, this.now());
    if (s.bytesPerSecond === undefined) return 0;
    const share = s.bytesPerSecond;
    const prepaid = Math.min(s.sizes.length > 0 ? Math.max(...s.sizes) : 256 * 1024, bucketOf(share).burst);
    await this.pay(s, share, prepaid, signal);
    return prepaid;
  }

  /** Takes `bytes` from the host's bucket, in parts of at most one burst, waiting for each. */
  private async pay(s: HostState, share: number, bytes: number, signal?: AbortSignal): Promise<void> {
    let left = bytes;
    while (left > 0) {
      s.bucket = refill(s.bucket, share, this.now());
      const t = take(s.bucket, share, left);
      if (t.bytes > 0) {
        s.bucket = { tokens: s.bucket.tokens - t.bytes, at: s.bucket.at };
        left -= t.bytes;
      } else await sleep(Math.max(1, Math.ceil(t.waitMs)), undefined, { signal });
    }
  }

  private started(s: HostState, now: number): void {
    s.lastStart = now;
    const second = Math.floor(now / 1000);
    if (second !== s.second) {
      s.lastSecond = second === s.second + 1 ? s.thisSecond : 0;
      s.thisSecond = 0;
      s.second = second;
    }
    s.thisSecond++;
  }

  /**
   * The answer to a request `admit` let through: its status (or the client's error code), its
   * Retry-After, how long it took, its length when known and what `admit` prepaid for it. Returns
   * the answer's kind and the bytes prepaid that stay paid: a shorter answer gives the rest back (the
   * origin never sends it), a failure all of it.
   */
  answered(
    host: string,
    a: Answer & { latencyMs: number; contentLength?: number | undefined; prepaid?: number | undefined },
  ): { kind: AnswerKind; prepaid: number } {
    const s = this.state(host);
    const now = this.now();
    const kind = classifyAnswer(a);
    const c = s.counters;
    c[kind]++;
    c.latencyMsSum += a.latencyMs;
    c.latencyMsMax = Math.max(c.latencyMsMax, a.latencyMs);
    let prepaid = a.prepaid ?? 0;
    if (s.bytesPerSecond !== undefined) {
      const sent = a.status === undefined ? 0 : a.contentLength;
      if (sent !== undefined && sent < prepaid) {
        s.bucket = refund(refill(s.bucket, s.bytesPerSecond, now), s.bytesPerSecond, prepaid - sent);
        prepaid = sent;
      }
      if (a.contentLength !== undefined) {
        s.sizes.push(a.contentLength);
        if (s.sizes.length > 32) s.sizes.shift();
      }
    }
    if (kind === 'ok') s.control = onHealthy(s.control, now);
    else if (kind === 'throttled' || kind === 'distress') {
      const observed = Math.max(s.thisSecond, s.lastSecond);
      s.control = onTrouble(s.control, now, observed);
      if (a.retryAfterSeconds !== undefined) s.pausedUntil = Math.max(s.pausedUntil, now + a.retryAfterSeconds * 1000);
      const what =
        a.status !== undefined ? `HTTP ${a.status}` : a.errorCode === 'ORIGIN_TIMEOUT' ? 'timeouts' : 'resets';
      if (kind === 'throttled') c.lastThrottle = what;
      const event: ThrottleEvent = {
        host,
        kind,
        what,
        retryAfterSeconds: a.retryAfterSeconds,
        rate: s.control.rate,
      };
      for (const l of this.listeners) l(event);
    }
    return { kind, prepaid };
  }

  /**
   * The pacer of bodies read from `host` when a byte limit applies to it, else undefined (and a body
   * is read as it comes, with no per-chunk work). Every process's bodies toward the host draw on one
   * bucket: `pace(n)` resolves once `n` bytes are paid for (the first `prepaid` of the body were,
   * at admission), in parts of at most one burst, so a body is read no faster than the share and TCP
   * flow control holds the origin to it.
   */
  pacer(host: string, prepaid = 0): ((bytes: number, signal?: AbortSignal) => Promise<void>) | undefined {
    const s = this.state(host);
    const share = s.bytesPerSecond;
    if (share === undefined) return undefined;
    let credit = prepaid;
    return async (bytes, signal) => {
      const owed = Math.max(0, bytes - credit);
      credit = Math.max(0, credit - bytes);
      await this.pay(s, share, owed, signal);
    };
  }

  /** The rate allowed toward `host` now (requests/s per process), undefined when unlimited. */
  rateOf(host: string): number | undefined {
    return this.state(host).control.rate;
  }

  /**
   * What the fleet heard elsewhere: another process saw this host throttle. Treated as this
   * process's own sign of trouble, so one origin's distress slows every process that talks to it.
   */
  heardTrouble(host: string, retryAfterSeconds?: number): void {
    const s = this.state(host);
    const now = this.now();
    s.control = onTrouble(s.control, now, Math.max(s.thisSecond, s.lastSecond));
    if (retryAfterSeconds !== undefined) s.pausedUntil = Math.max(s.pausedUntil, now + retryAfterSeconds * 1000);
  }

  /** The counters of every host since the last drain, reset. */
  drain(): Map<string, HostCounters> {
    const out = new Map<string, HostCounters>();
    for (const [host, s] of this.hosts) {
      const c = s.counters;
      if (c.ok + c.throttled + c.distress + c.other > 0) out.set(host, c);
      s.counters = emptyCounters();
    }
    return out;
  }
}
