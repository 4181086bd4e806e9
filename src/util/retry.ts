import { setTimeout as sleep } from 'node:timers/promises';
import { isRetryable } from '../errors.ts';

export interface RetryOptions {
  /** Total attempts, including the first. */
  attempts: number;
  /** Base delay of the exponential backoff, in milliseconds. */
  baseDelayMs: number;
  /** Upper bound of a single delay, in milliseconds. */
  maxDelayMs: number;
  /** Decides whether an error is worth another attempt; defaults to `isRetryable`. */
  retryable?: (err: unknown) => boolean;
  /**
   * Errors retried at once, without a pause (still counted against `attempts`): e.g. an optimistic
   * write whose condition another writer overtook, where the next attempt reads afresh and decides again.
   */
  immediate?: (err: unknown) => boolean;
  /** Called before each retry, e.g. to count retries. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  signal?: AbortSignal;
}

/** Runs `fn` with bounded, fully jittered exponential backoff; rethrows the last error. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const retryable = opts.retryable ?? isRetryable;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= opts.attempts || !retryable(err) || opts.signal?.aborted) throw err;
      if (opts.immediate?.(err)) {
        opts.onRetry?.(err, attempt, 0);
        continue;
      }
      // Full jitter keeps many workers that failed together from retrying together.
      const cap = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** (attempt - 1));
      const delay = Math.round(Math.random() * cap);
      opts.onRetry?.(err, attempt, delay);
      await sleep(delay, undefined, opts.signal ? { signal: opts.signal } : undefined);
    }
  }
}
