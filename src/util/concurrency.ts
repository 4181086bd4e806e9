/** Runs `fn` over `items` with at most `limit` running at once; results keep the input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The outcome of one task: its value or what it threw. */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

/** Like mapLimit, but never rejects: every outcome, in input order (the caller decides which error wins). */
export function settleAll<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<Array<Settled<R>>> {
  return mapLimit(items, Math.max(1, limit), async (item): Promise<Settled<R>> => {
    try {
      return { ok: true, value: await fn(item) };
    } catch (error) {
      return { ok: false, error };
    }
  });
}
