/**
 * What left the origin over the network, as opposed to what its application wrote. On Linux a
 * write returns as soon as the kernel holds the bytes: on loopback a connection's send buffer grows
 * to ~4 MB at once, so an origin that counts its writes sees a whole file "sent" the instant it
 * answers, however slowly the client reads it. A byte limit is about the network, so the lab origin
 * also counts bytes the client's TCP acknowledged: written by the socket, less what the kernel still
 * holds unacknowledged (`tx_queue` of /proc/net/tcp), sampled every SAMPLE_MS while connections are
 * open. Bytes acknowledged between two samples are counted at the later one, so a one-second window
 * of this meter holds at most what the network carried in 1 s + SAMPLE_MS: the meter's own error,
 * SAMPLE_MS × the rate (2 % at 20 ms). Where /proc/net/tcp cannot be read, nothing is counted.
 */
import { readFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { RateMeter } from './rate-meter.ts';

export const SAMPLE_MS = 20;

/**
 * Unacknowledged bytes (tx_queue) of the established connections whose local port is `port`, by
 * remote port, from the text of /proc/net/tcp or /proc/net/tcp6.
 */
export function sendQueues(procNetTcp: string, port: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of procNetTcp.split('\n')) {
    const f = line.trim().split(/\s+/);
    // sl local rem st tx:rx …; state 01 is ESTABLISHED.
    if (f.length < 5 || f[3] !== '01') continue;
    const local = f[1]!.split(':');
    if (parseInt(local[local.length - 1]!, 16) !== port) continue;
    const rem = f[2]!.split(':');
    out.set(parseInt(rem[rem.length - 1]!, 16), parseInt(f[4]!.split(':')[0]!, 16));
  }
  return out;
}

export class WireMeter {
  readonly meter = new RateMeter();
  private readonly counted = new Map<Socket, number>();
  private timer: NodeJS.Timeout | undefined;
  private reading = false;

  constructor(private readonly port: number) {}

  /** Follows a connection until it closes. */
  track(socket: Socket): void {
    this.counted.set(socket, 0);
    socket.once('close', () => {
      // Whatever it wrote has left (or never will): counted now, at the latest.
      this.add(socket, socket.bytesWritten);
      this.counted.delete(socket);
      if (this.counted.size === 0) this.stop();
    });
    this.timer ??= setInterval(() => void this.sample(), SAMPLE_MS).unref();
  }

  private add(socket: Socket, acked: number): void {
    const before = this.counted.get(socket);
    if (before === undefined || acked <= before) return;
    this.meter.sent(acked - before);
    this.counted.set(socket, acked);
  }

  private async sample(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      const text = (
        await Promise.all(['/proc/net/tcp', '/proc/net/tcp6'].map((f) => readFile(f, 'utf8').catch(() => '')))
      ).join('\n');
      const queues = sendQueues(text, this.port);
      for (const socket of this.counted.keys()) {
        const q = socket.remotePort === undefined ? undefined : queues.get(socket.remotePort);
        if (q === undefined) continue;
        this.add(socket, socket.bytesWritten - socket.writableLength - q);
      }
    } finally {
      this.reading = false;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
