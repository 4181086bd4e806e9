/**
 * What an origin saw per second: the most requests that arrived within any one second (a sliding
 * window over every arrival), and the most body bytes sent within any one second (10 ms buckets).
 * The lab origin's throttling mode and the politeness test and benchmark read it.
 */
export class RateMeter {
  /** Arrival times (ms) within the last second. */
  private readonly window: number[] = [];
  private peakRequests = 0;
  private readonly byteBuckets = new Map<number, number>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Counts an arrival; returns how many arrived within the last second, this one included. */
  arrive(): number {
    const t = this.now();
    while (this.window.length > 0 && this.window[0]! <= t - 1000) this.window.shift();
    this.window.push(t);
    this.peakRequests = Math.max(this.peakRequests, this.window.length);
    return this.window.length;
  }

  /** How many arrived within the last second, without counting one. */
  recent(): number {
    const t = this.now();
    while (this.window.length > 0 && this.window[0]! <= t - 1000) this.window.shift();
    return this.window.length;
  }

  /** Counts body bytes sent now. */
  sent(bytes: number): void {
    const b = Math.floor(this.now() / 10);
    this.byteBuckets.set(b, (this.byteBuckets.get(b) ?? 0) + bytes);
  }

  /** The most requests within any one second so far. */
  peakRequestsPerSecond(): number {
    return this.peakRequests;
  }

  /** The most bytes sent within any one second (100 consecutive 10 ms buckets) so far. */
  peakBytesPerSecond(): number {
    const keys = [...this.byteBuckets.keys()].sort((a, b) => a - b);
    let peak = 0;
    let sum = 0;
    let lo = 0;
    for (let hi = 0; hi < keys.length; hi++) {
      sum += this.byteBuckets.get(keys[hi]!)!;
      while (keys[hi]! - keys[lo]! >= 100) sum -= this.byteBuckets.get(keys[lo++]!)!;
      peak = Math.max(peak, sum);
    }
    return peak;
  }

  reset(): void {
    this.window.length = 0;
    this.peakRequests = 0;
    this.byteBuckets.clear();
  }
}
