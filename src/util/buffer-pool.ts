/**
 * Reusable body buffers, by power-of-two size class.
 *
 * Every file's body is gathered into one buffer for its PutObject. Allocating a fresh one per file
 * (about 1 GB per GB copied) costs page faults and, because V8 counts buffers as external memory,
 * a garbage collection every few dozen megabytes; a buffer handed back after a successful write is
 * used again instead. Only buffers whose write S3 has answered are handed back (all their bytes
 * have left the process then); on any failure a buffer is simply dropped.
 */
export class BufferPool {
  private readonly free = new Map<number, Buffer[]>();
  private held = 0;

  /** `maxIdleBytes`: what the pool keeps between uses at most; `minBytes`: below this, plain allocations. */
  constructor(
    private readonly maxIdleBytes: number,
    private readonly minBytes = 16 * 1024,
  ) {}

  /** A buffer of exactly `size` bytes (uninitialised), from the pool when one of its class is free. */
  take(size: number): Buffer {
    if (size < this.minBytes) return Buffer.allocUnsafe(size);
    const cls = 2 ** Math.ceil(Math.log2(size));
    const reused = this.free.get(cls)?.pop();
    if (reused) {
      this.held -= cls;
      return reused.subarray(0, size);
    }
    // Slow (unpooled) allocation: the buffer owns its whole ArrayBuffer, so it can be handed back.
    return Buffer.allocUnsafeSlow(cls).subarray(0, size);
  }

  /** Hands back a buffer `take` gave; anything else, or more than the pool keeps, is left to the collector. */
  give(buf: Buffer): void {
    const cls = buf.buffer.byteLength;
    if (buf.byteOffset !== 0 || cls < this.minBytes || (cls & (cls - 1)) !== 0) return;
    if (this.held + cls > this.maxIdleBytes) return;
    const list = this.free.get(cls) ?? [];
    list.push(Buffer.from(buf.buffer, 0, cls));
    this.free.set(cls, list);
    this.held += cls;
  }

  /** Bytes kept idle now. */
  idleBytes(): number {
    return this.held;
  }
}
