// The terminal twin's pure parts: bars, rates, ETAs, stuck classes and the frame itself.
import { describe, expect, it } from 'vitest';
import {
  barCells,
  barText,
  countBits,
  formatDuration,
  ProgressTracker,
  RateTracker,
  timeToComplete,
} from '../../src/dashboard/progress.ts';
import { collectSnapshot, type ClassRow, type DashboardSnapshot } from '../../src/dashboard/snapshot.ts';
import { renderTerminal, type TerminalView } from '../../src/dashboard/terminal.ts';
import { encodeBits } from '../../src/views/report.ts';
import type { ClassRecord } from '../../src/domain/ledger/records.ts';

const T0 = Date.parse('2026-11-29T12:00:00.000Z');
const ESC = '\x1b[';

describe('bars', () => {
  it('squeezes bits into cells: all done, some, none, or any failed', () => {
    const bits = { unit: 'chunk' as const, total: 8, done: encodeBits(8, [0, 1, 2]), failed: encodeBits(8, [7]) };
    expect(barCells(bits, 4)).toEqual(['done', 'part', 'wait', 'fail']);
    expect(barText(bits, 8)).toBe('███░░░░✕');
    // Fewer bits than cells: each bit is stretched over its share of the bar.
    expect(barText({ unit: 'chunk', total: 2, done: '8', failed: '0' }, 6)).toBe('███░░░');
    expect(barCells({ unit: 'chunk', total: 0, done: '', failed: '' }, 6)).toEqual([]);
    expect(countBits('f1')).toBe(5);
  });
});

describe('RateTracker', () => {
  it('measures files and bytes per second over a window, counting only increases', () => {
    const r = new RateTracker();
    expect(r.rate(60_000, T0)).toBeUndefined();
    r.add(T0, 100, 1_000_000);
    r.add(T0 + 10_000, 150, 6_000_000);
    // A forced copy restarted a class: totals drop, which is not negative progress.
    r.add(T0 + 20_000, 120, 5_000_000);
    r.add(T0 + 30_000, 180, 8_000_000);
    expect(r.rate(5 * 60_000, T0 + 30_000)).toEqual({
      filesPerSecond: 110 / 30,
      bytesPerSecond: 8_000_000 / 30,
      spanMs: 30_000,
    });
    // The last 15 s hold two samples 10 s apart.
    expect(r.rate(15_000, T0 + 30_000)).toEqual({ filesPerSecond: 6, bytesPerSecond: 300_000, spanMs: 10_000 });
    expect(r.series(40_000, 4, T0 + 30_000)).toEqual([0, 0, 5, 6]);
  });
});

const row = (over: Partial<ClassRow> & Pick<ClassRow, 'classId' | 'status'>): ClassRow => ({
  title: undefined,
  doneFiles: 0,
  totalFiles: undefined,
  doneBytes: 0,
  failedFiles: 0,
  lastError: undefined,
  updatedAt: undefined,
  bits: undefined,
  gen: 1,
  failedAttempts: 0,
  waitUntil: undefined,
  createdAt: undefined,
  completedAt: undefined,
  ...over,
});

describe('ProgressTracker', () => {
  it('knows a class is stuck once it has not moved for N minutes, unless it waits on purpose', () => {
    const p = new ProgressTracker();
    const moving = row({
      classId: 'a',
      status: 'TRANSFERRING',
      doneFiles: 10,
      totalFiles: 100,
      updatedAt: new Date(T0).toISOString(),
    });
    const waiting = row({
      classId: 'w',
      status: 'PENDING',
      updatedAt: new Date(T0).toISOString(),
      waitUntil: new Date(T0 + 3_600_000).toISOString(),
    });
    const failed = row({ classId: 'f', status: 'FAILED', updatedAt: new Date(T0).toISOString() });
    p.observe([moving, waiting, failed], T0 + 60_000);
    expect(p.isStuck(moving, 10, T0 + 9 * 60_000)).toBe(false);
    expect(p.isStuck(moving, 10, T0 + 10 * 60_000)).toBe(true);
    expect(p.isStuck(waiting, 10, T0 + 30 * 60_000)).toBe(false);
    expect(p.isStuck(failed, 10, T0 + 30 * 60_000)).toBe(false);
    // It moved: the clock starts again.
    p.observe([{ ...moving, doneFiles: 20 }], T0 + 11 * 60_000);
    expect(p.isStuck({ ...moving, doneFiles: 20 }, 10, T0 + 12 * 60_000)).toBe(false);
  });

  it("estimates a class's ETA from its own recent rate", () => {
    const p = new ProgressTracker();
    const at = (doneFiles: number) => row({ classId: 'a', status: 'TRANSFERRING', doneFiles, totalFiles: 100 });
    p.observe([at(10)], T0);
    expect(p.eta(at(10))).toBeUndefined();
    p.observe([at(30)], T0 + 10_000);
    // 2 files/s, 70 left.
    expect(p.eta(at(30))).toBe(35_000);
    expect(p.eta(row({ classId: 'a', status: 'FAILED', doneFiles: 30, totalFiles: 100 }))).toBeUndefined();
  });
});

describe('helpers', () => {
  it('says durations as people do, and sums up time to complete', () => {
    expect([0, 45_000, 200_000, 3_600_000, 7_500_000, 3 * 86_400_000].map(formatDuration)).toEqual([
      '0 s',
      '45 s',
      '3 min 20 s',
      '1 h',
      '2 h 5 min',
      '3 d 0 h',
    ]);
    const iso = (ms: number) => new Date(T0 + ms).toISOString();
    expect(
      timeToComplete([
        { createdAt: iso(0), completedAt: iso(60_000) },
        { createdAt: iso(0), completedAt: iso(180_000) },
        { createdAt: iso(0), completedAt: undefined },
        { createdAt: iso(0), completedAt: iso(120_000) },
      ]),
    ).toEqual({
      classes: 3,
      medianMs: 120_000,
      maxMs: 180_000,
    });
    expect(timeToComplete([])).toBeUndefined();
  });
});

describe('renderTerminal', () => {
  const records: ClassRecord[] = [
    {
      classId: 'c-done',
      status: 'COMPLETE',
      gen: 1,
      completedGen: 1,
      totalFiles: 4,
      totalChunks: 2,
      doneFiles: 4,
      doneBytes: 4_000_000,
      createdAt: new Date(T0 - 600_000).toISOString(),
      completedAt: new Date(T0 - 300_000).toISOString(),
      updatedAt: new Date(T0).toISOString(),
    },
    {
      classId: 'c-failed',
      status: 'FAILED',
      title: 'Broken',
      gen: 1,
      totalFiles: 4,
      totalChunks: 4,
      doneFiles: 2,
      doneBytes: 2_000,
      doneChunkIds: [0, 1],
      failedChunkIds: [3],
      failedFiles: 1,
      lastError: 'origin answered HTTP 404 for http://o/seg-9.ts',
      updatedAt: new Date(T0).toISOString(),
    },
    {
      classId: 'c-moving',
      status: 'TRANSFERRING',
      title: 'Lecture in flight',
      gen: 1,
      totalFiles: 8,
      totalChunks: 8,
      doneFiles: 2,
      doneBytes: 3_000_000,
      doneChunkIds: [0, 4],
      updatedAt: new Date(T0).toISOString(),
    },
  ];
  const depths = { visible: 0, inFlight: 0, delayed: 0 };
  async function frame(view: Partial<TerminalView> = {}): Promise<string> {
    const snapshot: DashboardSnapshot = await collectSnapshot(
      {
        stage: 'prod',
        ledger: { listClasses: async () => records, pageFailures: async () => ({ failures: [] }) },
        queue: { depth: async (name) => (name === 'transfer-dlq' ? { ...depths, visible: 2 } : depths) },
      },
      { now: () => new Date(T0) },
    );
    const rates = new RateTracker();
    const progress = new ProgressTracker();
    rates.add(T0 - 60_000, 0, 0);
    rates.add(T0, 60, 6_000_000);
    progress.observe(snapshot.classes, T0);
    return renderTerminal(snapshot, {
      color: false,
      width: 120,
      now: T0,
      rates,
      progress,
      stuckMinutes: 10,
      intervalSeconds: 2,
      readAt: T0,
      ...view,
    });
  }

  it("draws the page's picture as text: counts, rates, the DLQ's advice, a bar per class, COMPLETE summed up", async () => {
    const text = await frame();
    expect(text).not.toContain(ESC);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^FLAnts prod · .* · every 2 s/);
    expect(text).toContain('3 classes: FAILED 1 · TRANSFERRING 1 · CRAWLING 0 · PENDING 0 · COMPLETE 1');
    expect(text).toContain('rate  1.0 files/s, 0.10 MB/s (last 5 min)');
    // Without the messages' reasons (the deployed page only counts them) the advice says where they are.
    expect(text).toContain("transfer-dlq: 2 jobs dead-lettered: each message's flants-code and flants-error");
    expect(text.replace(/\n\s+/g, ' ')).toContain('flants redrive --queue transfer');
    const failed = lines.findIndex((l) => l.startsWith('FAILED'));
    const moving = lines.findIndex((l) => l.startsWith('TRANSFERRING'));
    expect(failed).toBeGreaterThan(0);
    expect(moving).toBeGreaterThan(failed);
    expect(lines[failed]).toContain(`[${'█'.repeat(10)}${'░'.repeat(5)}${'✕'.repeat(5)}]  50%         2/4`);
    expect(lines[failed + 1]!.trim()).toBe('origin answered HTTP 404 for http://o/seg-9.ts');
    // 20 cells for 8 bits: bits 0 and 4 done.
    expect(lines[moving]).toContain('[███░░░░░░░███░░░░░░░]  25%         2/8');
    expect(lines[moving]).toMatch(/ Lecture in flig…$/);
    expect(text).toContain('✓ 1 COMPLETE class, 4 files, 4.0 MB');
    // Freshness from the ledger (issue 21), not the first-enqueue stand-in it replaced.
    expect(text).toMatch(/^Freshness \(class end → COMPLETE, last 24 h/m);
    expect(text).not.toMatch(/stand-in|time to complete/);
    for (const l of lines) expect([...l].length, l).toBeLessThanOrEqual(120);
  });

  it('colours only when asked (a TTY), marks stuck classes, and fits a short terminal', async () => {
    const coloured = await frame({ color: true, now: T0 + 11 * 60_000 });
    expect(coloured).toContain(`${ESC}31m`);
    expect(coloured).toContain(`${ESC}33mSTUCK`);
    const short = await frame({ height: 13 });
    expect(short.trimEnd().split('\n').length).toBeLessThanOrEqual(13);
    expect(short).toContain('more classes not drawn');
  });

  it('keeps the last picture when a read fails, and says it is stale', async () => {
    expect(await frame({ error: 'connect ECONNREFUSED 127.0.0.1:8000' })).toMatch(
      /stale: connect ECONNREFUSED 127\.0\.0\.1:8000 \(data of /,
    );
  });
});
