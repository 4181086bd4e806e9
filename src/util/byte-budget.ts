/**
 * A counting semaphore over bytes: upload buffers held at once across an invocation stay within the
 * function's memory however many files and jobs run together. Waiters are served in arrival order,
 * so a large file is never starved by a stream of small ones.
 */
export class ByteBudget {
  private used = 0;
  private readonly waiting: Array<{ bytes: number; grant: () => void }> = [];

  constructor(readonly total: number) {
    if (!(total > 0)) throw new RangeError('a byte budget must be positive');
  }

  /** Bytes currently held. */
  get inUse(): number {
    return this.used;
  }

  /** Waits until `bytes` (at most the whole budget) fit, holds them, and returns the function that gives them back. */
  async acquire(bytes: number, signal?: AbortSignal): Promise<() => void> {
    const want = Math.min(Math.max(0, Math.ceil(bytes)), this.total);
    if (this.waiting.length === 0 && this.used + want <= this.total) {
      this.used += want;
      return this.releaser(want);
    }
    await new Promise<void>((resolve, reject) => {
      const entry = { bytes: want, grant: resolve };
      this.waiting.push(entry);
      signal?.addEventListener(
        'abort',
        () => {
          const i = this.waiting.indexOf(entry);
          if (i >= 0) {
            this.waiting.splice(i, 1);
            this.drain();
            reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason ?? 'aborted')));
          }
        },
        { once: true },
      );
    });
    return this.releaser(want);
  }

  private releaser(bytes: number): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= bytes;
      this.drain();
    };
  }

  private drain(): void {
    while (this.waiting.length > 0 && this.used + this.waiting[0]!.bytes <= this.total) {
      const next = this.waiting.shift()!;
      this.used += next.bytes;
      next.grant();
    }
  }
}
