/**
 * The demo's progress when stdout is not a terminal (a CI log, a pipe): a line now and then, only when
 * something moved, never the same line twice, and a time left only once a rate has been measured
 * (cli-progress without a TTY repeated the 100 % line and guessed "7m30s left" before any file). Pure.
 */
import { formatSeconds } from '../src/views/freshness.ts';

export interface PlainProgressInput {
  filesDone: number;
  filesTotal: number;
  classesComplete: number;
  classesTotal: number;
  bytesDone: number;
}

/** Seconds of measured progress before a time left is shown. */
export const ETA_AFTER_MS = 3_000;

export class PlainProgress {
  private last = '';
  private lastAt = Number.NEGATIVE_INFINITY;
  private first: { at: number; done: number } | undefined;

  constructor(private readonly everyMs = 5_000) {}

  /** The line to print now, or undefined (nothing new, or too soon after the last one). */
  line(p: PlainProgressInput, now: number): string | undefined {
    if (p.filesTotal === 0) return undefined;
    this.first ??= { at: now, done: p.filesDone };
    const finished = p.filesDone >= p.filesTotal;
    if (!finished && now - this.lastAt < this.everyMs) return undefined;
    const pct = Math.floor((p.filesDone / p.filesTotal) * 100);
    const moved = `transfer ${p.filesDone}/${p.filesTotal} files (${pct}%) · ${p.classesComplete}/${p.classesTotal} classes complete · ${(p.bytesDone / 1e6).toFixed(1)} MB`;
    // Only what moved makes a new line: a time left that grows while nothing moves is no news.
    if (moved === this.last) return undefined;
    this.last = moved;
    this.lastAt = now;
    return finished ? moved : `${moved}${this.left(p, now)}`;
  }

  private left(p: PlainProgressInput, now: number): string {
    const f = this.first!;
    const span = now - f.at;
    const rate = (p.filesDone - f.done) / span;
    if (span < ETA_AFTER_MS || !(rate > 0)) return '';
    return ` · about ${formatSeconds((p.filesTotal - p.filesDone) / rate / 1000)} left`;
  }
}
