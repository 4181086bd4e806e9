import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../src/util/buffer-pool.ts';

describe('BufferPool', () => {
  it('gives buffers of the exact size asked, and reuses a handed-back one of the same class', () => {
    const pool = new BufferPool(1 << 20);
    const a = pool.take(300_000);
    expect(a.length).toBe(300_000);
    expect(a.buffer.byteLength).toBe(524_288);
    a.fill(7);
    pool.give(a);
    expect(pool.idleBytes()).toBe(524_288);
    const b = pool.take(400_000);
    expect(b.buffer).toBe(a.buffer);
    expect(b.length).toBe(400_000);
    expect(pool.idleBytes()).toBe(0);
    // Another class is a new buffer.
    expect(pool.take(600_000).buffer).not.toBe(a.buffer);
  });

  it('keeps no more idle bytes than its cap, and ignores buffers it did not give', () => {
    const pool = new BufferPool(600_000);
    const [x, y] = [pool.take(300_000), pool.take(300_000)];
    pool.give(x);
    pool.give(y);
    expect(pool.idleBytes()).toBe(524_288);
    pool.give(Buffer.alloc(300_000));
    pool.give(Buffer.allocUnsafe(100));
    expect(pool.idleBytes()).toBe(524_288);
    // Small sizes are plain allocations, never pooled.
    const small = pool.take(1000);
    pool.give(small);
    expect(pool.idleBytes()).toBe(524_288);
  });
});
