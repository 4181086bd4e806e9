// withRetry's `immediate` errors (src/util/retry.ts): retried at once, without a pause, yet counted
// against the attempts, as the ledger's optimistic writes need when another writer overtook their guard.
import { describe, expect, it } from 'vitest';
import { withRetry } from '../../src/util/retry.ts';

const overtaken = () => Object.assign(new Error('guard overtaken'), { name: 'Overtaken' });
const busy = () => Object.assign(new Error('busy'), { name: 'Busy' });
const named = (name: string) => (err: unknown) => (err as Error).name === name;

describe('withRetry with immediate errors', () => {
  it('retries an immediate error without a pause and a retryable one after a pause', async () => {
    const delays: number[] = [];
    const errors = [overtaken(), busy(), overtaken()];
    const result = await withRetry(
      async (attempt) => {
        const err = errors[attempt - 1];
        if (err) throw err;
        return attempt;
      },
      {
        attempts: 5,
        baseDelayMs: 1,
        maxDelayMs: 1,
        retryable: (err) => named('Overtaken')(err) || named('Busy')(err),
        immediate: named('Overtaken'),
        onRetry: (_err, _attempt, delayMs) => delays.push(delayMs),
      },
    );
    expect(result).toBe(4);
    expect(delays).toHaveLength(3);
    expect(delays[0]).toBe(0);
    expect(delays[2]).toBe(0);
  });

  it('counts immediate retries against the attempts and rethrows the last error', async () => {
    let calls = 0;
    const run = withRetry(
      async () => {
        calls++;
        throw overtaken();
      },
      { attempts: 3, baseDelayMs: 1, maxDelayMs: 1, retryable: () => true, immediate: () => true },
    );
    await expect(run).rejects.toThrow('guard overtaken');
    expect(calls).toBe(3);
  });

  it('never retries an immediate error the classifier refuses', async () => {
    let calls = 0;
    const run = withRetry(
      async () => {
        calls++;
        throw overtaken();
      },
      { attempts: 3, baseDelayMs: 1, maxDelayMs: 1, retryable: () => false, immediate: () => true },
    );
    await expect(run).rejects.toThrow('guard overtaken');
    expect(calls).toBe(1);
  });
});
