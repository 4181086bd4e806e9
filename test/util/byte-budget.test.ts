import { describe, expect, it } from 'vitest';
import { ByteBudget } from '../../src/util/byte-budget.ts';

describe('ByteBudget', () => {
  it('holds at most its total, serves waiters in arrival order, and clamps one oversized request to the whole', async () => {
    const b = new ByteBudget(100);
    const r1 = await b.acquire(60);
    const order: string[] = [];
    const big = b.acquire(80).then((r) => (order.push('big'), r));
    const small = b.acquire(10).then((r) => (order.push('small'), r));
    await new Promise((r) => setTimeout(r, 5));
    // 60 + 10 would fit, but the small one waits behind the big one: nothing starves.
    expect(order).toEqual([]);
    expect(b.inUse).toBe(60);
    r1();
    const rBig = await big;
    const rSmall = await small;
    expect(order).toEqual(['big', 'small']);
    expect(b.inUse).toBe(90);
    rBig();
    rBig(); // releasing twice gives back once
    rSmall();
    expect(b.inUse).toBe(0);
    const huge = await b.acquire(10_000);
    expect(b.inUse).toBe(100);
    huge();
  });

  it('gives up a wait when its signal aborts, and lets the next waiter in', async () => {
    const b = new ByteBudget(10);
    const held = await b.acquire(10);
    const ac = new AbortController();
    const waiting = b.acquire(5, ac.signal);
    const after = b.acquire(5);
    ac.abort(new Error('timeout'));
    await expect(waiting).rejects.toThrow('timeout');
    held();
    (await after)();
    expect(b.inUse).toBe(0);
  });
});
