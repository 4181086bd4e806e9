import { withRetry } from '../util/retry.ts';
import type { Origin } from '../domain/ports/origin.ts';

export interface OriginRetry {
  attempts: number;
  baseDelayMs: number;
  onRetry?: (url: string, err: unknown) => void;
}

/** An origin whose playlist reads retry transient failures (5xx, resets, truncation) with jittered backoff. */
export function withPlaylistRetries(origin: Pick<Origin, 'fetchText'>, retry: OriginRetry): Pick<Origin, 'fetchText'> {
  return {
    fetchText: (url, opts) =>
      withRetry(() => origin.fetchText(url, opts), {
        attempts: retry.attempts,
        baseDelayMs: retry.baseDelayMs,
        maxDelayMs: 5_000,
        ...(opts.signal ? { signal: opts.signal } : {}),
        onRetry: (err) => retry.onRetry?.(url, err),
      }),
  };
}
