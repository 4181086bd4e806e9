import { OriginError } from '../domain/ports/origin.ts';
import { classifyAnswer, deferralSeconds, MAX_DEFERRALS } from '../domain/origin/politeness.ts';

/** What a throttled job tells its class and its delay: the origin's words. */
export interface ThrottleCause {
  host: string;
  /** `HTTP 429`, `HTTP 503`. */
  what: string;
  retryAfterSeconds: number | undefined;
}

/** The origin's throttling answer behind an error (however wrapped), if that is what it is. */
export function throttleCause(err: unknown): ThrottleCause | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof OriginError) {
      if (classifyAnswer({ status: e.status, retryAfterSeconds: e.retryAfterSeconds }) !== 'throttled')
        return undefined;
      let host = '';
      try {
        host = new URL(e.url).host;
      } catch {
        // An unparsable URL still names no host; the note says "the origin".
      }
      return { host, what: `HTTP ${e.status}`, retryAfterSeconds: e.retryAfterSeconds };
    }
    // Only an Error's cause is followed (a FlantsError is one); a plain object's `cause` is no answer.
    if (!(e instanceof Error)) return undefined;
  }
  return undefined;
}

/**
 * Whether a failed delivery goes back to its queue with a delay instead of spending a delivery:
 * only when every failure is the origin throttling, the delivery is not the last (that one has
 * recorded itself already), and the job has not been deferred MAX_DEFERRALS times.
 */
export function deferral(
  causes: ReadonlyArray<ThrottleCause | undefined>,
  deferrals: number,
  final: boolean,
): { delaySeconds: number; cause: ThrottleCause } | undefined {
  if (final || causes.length === 0 || deferrals >= MAX_DEFERRALS) return undefined;
  if (causes.some((c) => c === undefined)) return undefined;
  const all = causes as readonly ThrottleCause[];
  const asked = Math.max(...all.map((c) => c.retryAfterSeconds ?? 0));
  return { delaySeconds: deferralSeconds(deferrals, asked || undefined), cause: all[0]! };
}

/** The class note of a deferred job: why it is slow, in the words the dashboard and status show. */
export function throttledNote(cause: ThrottleCause, files: number, delaySeconds: number, deferrals: number): string {
  const asked = cause.retryAfterSeconds === undefined ? '' : ` (Retry-After ${cause.retryAfterSeconds} s)`;
  return (
    `throttled by the origin: ${cause.host || 'the origin'} answered ${cause.what}${asked}; ` +
    `${files} file(s) wait ${delaySeconds} s in the queue (deferral ${deferrals} of at most ${MAX_DEFERRALS}), ` +
    `the fleet slows toward it (ORIGIN_MAX_REQUESTS_PER_SECOND caps it for good)`
  );
}
