// The dashboard's terminal twin (`flants status --watch`): the same picture as the page, a bar per
// class instead of a line of bits, redrawn in place on a TTY and printed frame after frame elsewhere.
import { count } from '../util/plural.ts';
import { formatBytes } from './render.ts';
import { formatSeconds } from '../views/freshness.ts';
import {
  barCells,
  formatDuration,
  RATE_WINDOWS,
  type BarCell,
  type ProgressTracker,
  type Rate,
  type RateTracker,
} from './progress.ts';
import { oldestAsOfSeconds, oldestSeconds, STATUS_ORDER, type ClassRow, type DashboardSnapshot } from './snapshot.ts';
import { describeAsOf } from '../domain/lifecycle/queue-age.ts';

/** How to draw one frame. */
export interface TerminalView {
  /** ANSI colours: only when stdout is a TTY. */
  color: boolean;
  /** Columns available. */
  width: number;
  /** Rows available (a TTY's height): classes that do not fit are counted, not drawn. */
  height?: number | undefined;
  /** Time of the frame (ms). */
  now: number;
  rates: RateTracker;
  progress: ProgressTracker;
  stuckMinutes: number;
  /** Seconds between frames, for the header. */
  intervalSeconds: number;
  /** Why the latest read failed, if it did: the frame then shows the last data it had, marked stale. */
  error?: string | undefined;
  /** When the data shown was read (ms). */
  readAt: number;
}

const ANSI = {
  red: '\x1b[31m',
  green: '\x1b[32m',
  yellow: '\x1b[33m',
  dim: '\x1b[2m',
  bold: '\x1b[1m',
  reset: '\x1b[0m',
} as const;
type Tint = keyof typeof ANSI;

const CELL_CHAR: Record<BarCell, string> = { done: '█', part: '▓', wait: '░', fail: '✕' };
const CELL_TINT: Record<BarCell, Tint> = { done: 'green', part: 'green', wait: 'dim', fail: 'red' };

/** Cuts text to `n` columns (one column per code point is close enough for ids, titles and reasons). */
function fit(text: string, n: number): string {
  const chars = [...text];
  if (n <= 0) return '';
  return chars.length <= n ? text : `${chars.slice(0, Math.max(0, n - 1)).join('')}…`;
}

/** A bar's cells as text, one colour escape per run of like cells rather than per cell. */
function paintCells(cells: readonly BarCell[], paint: (tint: Tint, text: string) => string): string {
  let out = '';
  for (let i = 0; i < cells.length;) {
    let j = i;
    while (j < cells.length && cells[j] === cells[i]) j++;
    out += paint(CELL_TINT[cells[i]!], CELL_CHAR[cells[i]!].repeat(j - i));
    i = j;
  }
  return out;
}

/** Breaks text into lines of at most `n` columns at spaces (a word longer than a line is cut). */
function wrap(text: string, n: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && [...line].length + 1 + [...word].length > n) {
      out.push(line);
      line = '';
    }
    line = fit(line ? `${line} ${word}` : word, n);
  }
  if (line) out.push(line);
  return out;
}

function rateText(r: Rate | undefined, label: string): string {
  if (!r) return `— (${label})`;
  return `${r.filesPerSecond.toFixed(r.filesPerSecond >= 100 ? 0 : 1)} files/s, ${(r.bytesPerSecond / 1e6).toFixed(2)} MB/s (${label})`;
}

/** One frame: header, rates, queues, then a bar per class (FAILED and stuck first, COMPLETE summed up). */
export function renderTerminal(s: DashboardSnapshot, v: TerminalView): string {
  const paint = (tint: Tint, text: string) => (v.color && text ? `${ANSI[tint]}${text}${ANSI.reset}` : text);
  const lines: string[] = [];
  const clock = new Date(v.now).toLocaleTimeString();
  const stale = v.error
    ? paint(
        'yellow',
        ` · stale: ${fit(v.error, Math.max(20, v.width - 60))} (data of ${new Date(v.readAt).toLocaleTimeString()})`,
      )
    : '';
  lines.push(`${paint('bold', `FLAnts ${s.stage}`)} · ${clock} · every ${v.intervalSeconds} s (Ctrl-C stops)${stale}`);
  lines.push(
    fit(
      `${count(s.totals.classes, 'class', 'classes')}: ${STATUS_ORDER.map((st) => `${st} ${s.counts[st] ?? 0}`).join(' · ')}`,
      v.width,
    ),
  );
  lines.push(
    fit(
      `files ${s.totals.doneFiles}/${s.totals.totalFiles} · ${formatBytes(s.totals.doneBytes)} copied · ${count(s.totals.failedFiles, 'failed file')}`,
      v.width,
    ),
  );

  const recent = v.rates.rate(RATE_WINDOWS.recentMs, v.now);
  const hour = v.rates.rate(RATE_WINDOWS.hourMs, v.now);
  const hourLabel =
    hour && hour.spanMs < RATE_WINDOWS.hourMs - 60_000 ? `over the ${formatDuration(hour.spanMs)} seen` : 'last hour';
  const inFlight = s.classes.filter((r) => r.status === 'TRANSFERRING' && r.totalFiles !== undefined);
  const left = inFlight.reduce((n, r) => n + Math.max(0, r.totalFiles! - r.doneFiles), 0);
  const eta =
    inFlight.length === 0
      ? 'nothing in flight'
      : recent && recent.filesPerSecond > 0
        ? `${formatDuration((left / recent.filesPerSecond) * 1000)} for ${count(inFlight.length, 'class', 'classes')} in flight`
        : `— for ${count(inFlight.length, 'class', 'classes')} in flight`;
  lines.push(fit(`rate  ${rateText(recent, 'last 5 min')} · ${rateText(hour, hourLabel)}`, v.width));
  lines.push(fit(`ETA   ${eta}`, v.width));
  // The ledger's freshness (class end → COMPLETE) over the last 24 hours, as the page shows it.
  if (s.freshnessText) lines.push(paint('dim', fit(s.freshnessText, v.width)));

  // A fresh lane shows while it holds something: idle, it would only push the line past the terminal's width.
  const queueRows = s.queues.filter(
    (q) => !q.name.includes('-fresh') || q.error || (q.visible ?? 0) + (q.inFlight ?? 0) + (q.delayed ?? 0) > 0,
  );
  const queues = queueRows.map((q) => {
    if (q.error) return paint('yellow', `${q.name} ?`);
    const oldest = oldestSeconds(q, s.generatedAt);
    const text = `${q.name} ${q.visible ?? 0}${q.inFlight ? ` (+${q.inFlight} in flight)` : ''}${oldest ? `, oldest ${formatSeconds(oldest)}${describeAsOf(oldestAsOfSeconds(q, s.generatedAt), formatSeconds)}` : ''}`;
    return q.advice ? paint('red', text) : text;
  });
  lines.push(`queues ${queues.join(' · ')}`);
  // Advice is what to do next: wrapped, never cut.
  for (const q of s.queues)
    if (q.advice) for (const l of wrap(`${q.name}: ${q.advice}`, v.width - 2)) lines.push(paint('red', `  ${l}`));
  lines.push('');

  const now = v.now;
  const rank = (r: ClassRow) => (r.status === 'FAILED' ? 0 : v.progress.isStuck(r, v.stuckMinutes, now) ? 1 : 2);
  const listed = s.classes.filter((r) => r.status !== 'COMPLETE').sort((a, b) => rank(a) - rank(b));
  const complete = s.classes.filter((r) => r.status === 'COMPLETE');
  // Status, id, percent, files, bytes and ETA take 84 columns; the bar gets what is left but 16 for the title.
  const barWidth = Math.max(10, Math.min(60, v.width - 84 - 16));
  // Rows left for classes once the header and the two closing lines are drawn.
  let budget = v.height === undefined ? Infinity : Math.max(0, v.height - lines.length - 2);
  let shown = 0;
  for (const r of listed) {
    const note = r.lastError;
    const need = note ? 2 : 1;
    if (need > budget) break;
    budget -= need;
    shown++;
    const stuck = rank(r) === 1;
    const status = paint(
      r.status === 'FAILED' ? 'red' : stuck ? 'yellow' : 'bold',
      (stuck ? 'STUCK' : r.status).padEnd(12),
    );
    const bar =
      r.bits && r.bits.total > 0 ? paintCells(barCells(r.bits, barWidth), paint) : paint('dim', '·'.repeat(barWidth));
    const pct = r.totalFiles ? `${String(Math.floor((r.doneFiles / r.totalFiles) * 100)).padStart(3)}%` : '   -';
    const files = `${r.doneFiles}/${r.totalFiles ?? '?'}`.padStart(11);
    const etaMs = v.progress.eta(r);
    const tail = `${formatBytes(r.doneBytes).padStart(8)} ${(etaMs === undefined ? '' : `eta ${formatDuration(etaMs)}`).padEnd(16)}`;
    const head = `${status} ${fit(r.classId, 24).padEnd(24)} `;
    const fixed = 12 + 1 + 24 + 1 + barWidth + 2 + 1 + 4 + 1 + 11 + 1 + tail.length + 1;
    lines.push(`${head}[${bar}] ${pct} ${files} ${tail} ${fit(r.title ?? '', v.width - fixed)}`.trimEnd());
    if (note) lines.push(paint(r.status === 'FAILED' ? 'red' : 'dim', `${' '.repeat(13)}${fit(note, v.width - 13)}`));
  }
  if (shown < listed.length)
    lines.push(
      paint(
        'dim',
        `… ${listed.length - shown} more classes not drawn (a taller terminal, or "flants status" for the list)`,
      ),
    );
  if (complete.length > 0) {
    const bytes = complete.reduce((n, r) => n + r.doneBytes, 0);
    lines.push(
      paint(
        'green',
        `✓ ${count(complete.length, 'COMPLETE class', 'COMPLETE classes')}, ${count(
          complete.reduce((n, r) => n + r.doneFiles, 0),
          'file',
        )}, ${formatBytes(bytes)}`,
      ),
    );
  }
  if (s.classes.length === 0) lines.push(`No classes on stage ${s.stage} yet.`);
  return `${lines.join('\n')}\n`;
}
