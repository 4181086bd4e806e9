import { setTimeout as sleep } from 'node:timers/promises';
import {
  byteShare,
  classifyAnswer,
  initialRate,
  limitFor,
  onHealthy,
  onTrouble,
  payoffMs,
  repaid,
  requestShare,
  spacingMs,
  startAt,
  type Answer,
  type AnswerKind,
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
  /** Bytes owed under the byte share, as of `debtAt`; the average answer's bytes, reserved per request. */
  debt: number;
  debtAt: number;
  bytesPerSecond: number | undefined;
  /** The lengths of the host's last answers: a request reserves the largest (playlists are small, segments not). */
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
 * What a request reserves of the byte share before its length is known: the largest of the host's
 * last answers (a mean would let a burst of segment requests through on the playlists' small sizes),
 * 256 KiB before any.
 */
function reservation(s: HostState): number {
  return s.sizes.length > 0 ? Math.max(...s.sizes) : 256 * 1024;
}

/**
 * One process's gate to every origin host: requests start no closer than the host's share allows,
 * not during a pause the origin asked for, and not before the byte share's debt is paid; answers
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
        debt: 0,
        debtAt: 0,
        bytesPerSecond: mbps === undefined ? undefined : byteShare(mbps, this.limits.shares),
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
   * holds more than the share, whatever the timers do.
   */
  async admit(host: string, signal?: AbortSignal): Promise<void> {
    const s = this.state(host);
    for (;;) {
      const now = this.now();
      const rate = s.control.rate;
      if (s.bytesPerSecond !== undefined) {
        s.debt = repaid(s.debt, s.bytesPerSecond, now - s.debtAt);
        s.debtAt = now;
      }
      const bytesReady = s.bytesPerSecond === undefined ? 0 : now + payoffMs(s.debt, s.bytesPerSecond);
      const at = startAt(now, rate === undefined ? 0 : s.lastStart + spacingMs(rate), s.pausedUntil, bytesReady);
      if (at <= now) break;
      await sleep(Math.max(1, Math.ceil(at - now)), undefined, signal ? { signal } : undefined);
    }
    this.started(s, this.now());
  }

  private started(s: HostState, now: number): void {
    s.lastStart = now;
    if (s.bytesPerSecond !== undefined) s.debt += reservation(s);
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
   * Retry-After, how long it took, and its length when known (the byte share is settled with it).
   */
  answered(host: string, a: Answer & { latencyMs: number; contentLength?: number | undefined }): AnswerKind {
    const s = this.state(host);
    const now = this.now();
    const kind = classifyAnswer(a);
    const c = s.counters;
    c[kind]++;
    c.latencyMsSum += a.latencyMs;
    c.latencyMsMax = Math.max(c.latencyMsMax, a.latencyMs);
    if (s.bytesPerSecond !== undefined && a.contentLength !== undefined) {
      // The reservation made at the start becomes the answer's real length.
      s.debt = Math.max(0, s.debt + a.contentLength - reservation(s));
      s.sizes.push(a.contentLength);
      if (s.sizes.length > 32) s.sizes.shift();
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
    return kind;
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
