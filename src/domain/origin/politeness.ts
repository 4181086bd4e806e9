/**
 * The pure rules of being polite to an origin (docs/architecture.md, "Politeness to the origin"):
 * how a fleet-wide limit becomes one process's share, when the next request to a host may start,
 * which answers are the origin asking to be spared, and how the rate backs off and recovers (AIMD).
 * No clock, no I/O: callers pass `now` in milliseconds. The gate in `gate.ts` applies them.
 */

/** A limit given as a default for every host and/or per host (`host` or `host:port`, lower case). */
export interface PerHost {
  default: number | undefined;
  hosts: Readonly<Record<string, number>>;
}

/** Why a limit setting is refused; the config module names the variable. */
export class LimitSettingError extends Error {}

const HOST_KEY = /^[a-z0-9._-]+(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$/;

/**
 * Parses `40`, `cdn.example.com=10` or `40,slow.example.com=10` (a default and per-host overrides).
 * Values are positive decimals of at most `max`; a host appears once.
 */
export function parsePerHost(raw: string | undefined, max: number): PerHost {
  const out: { default: number | undefined; hosts: Record<string, number> } = { default: undefined, hosts: {} };
  const text = raw?.trim() ?? '';
  if (text === '') return out;
  for (const part of text.split(',').map((p) => p.trim())) {
    const eq = part.indexOf('=');
    const host = eq < 0 ? undefined : part.slice(0, eq).trim().toLowerCase();
    const value = eq < 0 ? part : part.slice(eq + 1).trim();
    if (!/^(\d+(\.\d+)?|\.\d+)$/.test(value) || Number(value) <= 0 || Number(value) > max)
      throw new LimitSettingError(`"${part}": the limit must be a number above 0 and at most ${max}`);
    const n = Number(value);
    if (host === undefined) {
      if (out.default !== undefined) throw new LimitSettingError(`"${part}": only one default limit (a bare number)`);
      out.default = n;
    } else {
      if (!HOST_KEY.test(host))
        throw new LimitSettingError(`"${part}": name a host as "cdn.example.com" or "host:port", then "=limit"`);
      if (Object.hasOwn(out.hosts, host)) throw new LimitSettingError(`"${part}": ${host} is given more than once`);
      out.hosts[host] = n;
    }
  }
  return out;
}

/** The limit for `host` (URL.host: name, and port when not the scheme's default): its own, else the default. */
export function limitFor(limits: PerHost, host: string): number | undefined {
  const h = host.toLowerCase();
  return Object.hasOwn(limits.hosts, h) ? limits.hosts[h] : limits.default;
}

/**
 * Requests per second one process may start toward a host when `shares` processes (the fleet's
 * concurrent invocations) may run at once: a whole number, so that spacing requests 1/share apart
 * puts at most `share` of them in any one-second window, and the fleet at most `limit`.
 * Undefined when the limit is below one request per second per share: no share can hold it.
 */
export function requestShare(limit: number, shares: number): number | undefined {
  const share = Math.floor(limit / shares);
  return share >= 1 ? share : undefined;
}

/** Bytes per second one process may read from a host: its part of the fleet's limit (MB/s, 10^6 bytes). */
export function byteShare(limitMBps: number, shares: number): number {
  return (limitMBps * 1_000_000) / shares;
}

/**
 * Slack between two requests, above 1/rate: the origin counts arrivals, which the network and a
 * busy event loop bunch up by some milliseconds; 10 % keeps a window from seeing one request more.
 */
export const SPACING_MARGIN = 0.1;

/** Milliseconds between two request starts at `rate` per second. */
export function spacingMs(rate: number): number {
  return (1000 * (1 + SPACING_MARGIN)) / rate;
}

/** What an answer says about the origin's state. */
export type AnswerKind = 'ok' | 'throttled' | 'distress' | 'other';

/** One answer (or failure to get one) as the gate sees it. */
export interface Answer {
  status?: number | undefined;
  /** Seconds the origin asked to wait (Retry-After), when it did. */
  retryAfterSeconds?: number | undefined;
  /** An error code from the client when there was no answer (ORIGIN_TIMEOUT, ORIGIN_NETWORK). */
  errorCode?: string | undefined;
}

/**
 * `throttled`: the origin asks to be spared (429; 503 with a Retry-After; any answer with a
 * Retry-After). `distress`: it struggles without saying so (503 without Retry-After, 504, a timeout, a
 * reset). `ok`: an answer the origin gave without trouble (2xx, 3xx, 304, and 4xx such as a 404: the
 * origin is well). `other`: neither (a 500: a broken file, not load; a refused address).
 */
export function classifyAnswer(a: Answer): AnswerKind {
  const s = a.status;
  if (s === 429 || (a.retryAfterSeconds !== undefined && (s === undefined || s >= 400))) return 'throttled';
  if (s === 503 || s === 504) return 'distress';
  if (s === undefined)
    return a.errorCode === 'ORIGIN_TIMEOUT' || a.errorCode === 'ORIGIN_NETWORK' ? 'distress' : 'other';
  return s < 500 ? 'ok' : 'other';
}

/** The longest Retry-After honoured; an origin asking for more is waited on by the queue instead (a delayed message). */
export const MAX_RETRY_AFTER_SECONDS = 120;

/**
 * Seconds of a Retry-After header (RFC 9110 §10.2.3: delay-seconds or an HTTP-date), at most
 * MAX_RETRY_AFTER_SECONDS; undefined when absent or unreadable.
 */
export function parseRetryAfter(header: string | undefined, nowMs: number): number | undefined {
  const v = header?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Math.min(Number(v), MAX_RETRY_AFTER_SECONDS);
  const at = Date.parse(v);
  if (!Number.isFinite(at) || !/[a-z]/i.test(v)) return undefined;
  return Math.min(Math.max(0, Math.ceil((at - nowMs) / 1000)), MAX_RETRY_AFTER_SECONDS);
}

/** The rate control of one host in one process. */
export interface RateState {
  /** Requests per second allowed now; undefined: unlimited (no limit set and no trouble seen). */
  rate: number | undefined;
  /** The configured share (requests/s), the most `rate` returns to; undefined when no limit is set. */
  ceiling: number | undefined;
  /** Without a ceiling: the rate seen when the trouble began; back at it, the host is unlimited again. */
  recoverTo: number | undefined;
  /** When the rate last went down, and last went up (ms). */
  decreasedAt: number;
  increasedAt: number;
}

/** The rate is never brought below this (requests/s): a host that throttles everything is still asked, slowly. */
export const MIN_RATE = 0.5;
/** How much a sign of trouble keeps of the rate. */
export const DECREASE_FACTOR = 0.5;
/** At most one decrease per this long: the answers of one overload arrive together and are one signal. */
export const DECREASE_EVERY_MS = 1000;
/** A second with healthy answers adds this share of the rate being recovered to (at least MIN_RATE). */
export const INCREASE_SHARE = 0.1;

export function initialRate(ceiling: number | undefined): RateState {
  return { rate: ceiling, ceiling, recoverTo: undefined, decreasedAt: -Infinity, increasedAt: -Infinity };
}

/**
 * A sign of trouble (throttled or distress): the rate halves (from the rate seen recently when it
 * was unlimited), at most once per DECREASE_EVERY_MS, never below MIN_RATE.
 */
export function onTrouble(s: RateState, nowMs: number, observedRate: number): RateState {
  if (nowMs - s.decreasedAt < DECREASE_EVERY_MS) return s;
  const from = s.rate ?? Math.max(observedRate, MIN_RATE);
  return {
    ...s,
    rate: Math.max(MIN_RATE, from * DECREASE_FACTOR),
    recoverTo: s.ceiling === undefined ? Math.max(s.recoverTo ?? 0, from) : undefined,
    decreasedAt: nowMs,
    increasedAt: nowMs,
  };
}

/**
 * A healthy answer: at most once a second the rate grows by INCREASE_SHARE of what it recovers to
 * (seconds without answers earn nothing: the origin said nothing about them); at the ceiling (or,
 * unlimited, at the rate it was throttled at) the control lets go.
 */
export function onHealthy(s: RateState, nowMs: number): RateState {
  if (s.rate === undefined || s.rate === s.ceiling) return s;
  if (nowMs - s.increasedAt < 1000) return s;
  const target = s.ceiling ?? s.recoverTo ?? s.rate;
  const rate = s.rate + Math.max(MIN_RATE, target * INCREASE_SHARE);
  if (rate >= target) return { ...s, rate: s.ceiling, recoverTo: undefined, increasedAt: nowMs };
  return { ...s, rate, increasedAt: nowMs };
}

/** When a request may start: not before `next` (the spacing), or a pause the origin asked for. */
export function startAt(nowMs: number, next: number, pausedUntil: number): number {
  return Math.max(nowMs, next, pausedUntil);
}

/**
 * Share of a process's byte share its bucket may hold. A token bucket of rate r and capacity b lets
 * through at most b + r·T bytes in any window of T seconds; with b + r equal to the share, no
 * one-second window at the origin carries more than the share. A quarter keeps a burst of 64 KiB
 * chunks possible at shares down to 256 KB/s, and the steady rate at three quarters of the share.
 */
export const BURST_SHARE = 0.25;

/** The bucket of one host in one process: tokens (bytes) as of `at` (ms). */
export interface ByteBucket {
  tokens: number;
  at: number;
}

/** Steady rate (bytes/s) and burst (bytes) of a byte share: rate + burst = share. */
export function bucketOf(share: number): { rate: number; burst: number } {
  const burst = share * BURST_SHARE;
  return { rate: share - burst, burst };
}

/** The bucket at `nowMs`: refilled at the rate since `at` (full when `at` is -Infinity), never above the burst. */
export function refill(b: ByteBucket, share: number, nowMs: number): ByteBucket {
  const { rate, burst } = bucketOf(share);
  return { tokens: Math.min(burst, b.tokens + (rate * Math.max(0, nowMs - b.at)) / 1000), at: nowMs };
}

/** Bytes taken for an answer the origin did not send (shorter than prepaid, or none) go back, never above the burst. */
export function refund(b: ByteBucket, share: number, bytes: number): ByteBucket {
  return { tokens: Math.min(bucketOf(share).burst, b.tokens + bytes), at: b.at };
}

/**
 * How much of `wanted` bytes may be taken now, and else how long to wait: at most one burst at a
 * time (a chunk larger than the burst is paid in parts), and only what the bucket holds, so the
 * bucket never goes below zero and the b + r·T bound holds.
 */
export function take(b: ByteBucket, share: number, wanted: number): { bytes: number; waitMs: number } {
  const { rate, burst } = bucketOf(share);
  const part = Math.min(wanted, burst);
  if (part <= b.tokens) return { bytes: part, waitMs: 0 };
  return { bytes: 0, waitMs: ((part - b.tokens) / rate) * 1000 };
}

/**
 * Most deferrals of one chunk (or crawl) for throttling, about two hours of waiting; beyond it the
 * failure takes the ordinary path (deliveries, DLQ).
 */
export const MAX_DEFERRALS = 100;

/**
 * Seconds a throttled job waits in its queue (SQS DelaySeconds, at most 900): what the origin asked
 * for, and at least 5 s doubling with each deferral up to 80 s. The gate already slows the process;
 * the delay only keeps a throttled chunk from coming straight back, so it stays short.
 */
export function deferralSeconds(deferrals: number, retryAfterSeconds: number | undefined): number {
  const backoff = 5 * 2 ** Math.min(deferrals, 4);
  return Math.min(900, Math.max(retryAfterSeconds ?? 0, backoff));
}
