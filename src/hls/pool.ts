/** The outcome of one task: its value or what it threw. */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

/** Runs `fn` over `items`, at most `limit` at once, and returns every outcome in input order (never rejects). */
export async function settleAll<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<Settled<R>[]> {
  const out = new Array<Settled<R>>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        out[i] = { ok: true, value: await fn(items[i]!) };
      } catch (error) {
        out[i] = { ok: false, error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}
