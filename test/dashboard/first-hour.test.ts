// Issue 21 on the page: freshness instead of the stand-in, the failed chunk's files accounted for, and
// done and failed bits that can be told apart.
import { describe, expect, it } from 'vitest';
import { rowHtml } from '../../src/dashboard/browser/rows.ts';
import type { StatusJson } from '../../src/dashboard/browser/wire.ts';
import { clientScript } from '../../src/dashboard/client.ts';
import { collectSnapshot, renderHtml, renderJson } from '../../src/dashboard/index.ts';
import type { ClassRecord } from '../../src/domain/ledger/records.ts';

const NOW = new Date('2026-12-07T12:00:00.000Z');
const records: ClassRecord[] = [
  {
    classId: 'c-done',
    status: 'COMPLETE',
    title: 'Done',
    gen: 1,
    completedGen: 1,
    totalFiles: 4,
    doneFiles: 4,
    totalChunks: 1,
    doneChunks: 1,
    completedAt: '2026-12-07T11:00:00.000Z',
    freshnessSeconds: 42,
    updatedAt: '2026-12-07T11:00:00.000Z',
  },
  {
    classId: 'c-failed',
    status: 'FAILED',
    title: 'Broken',
    gen: 1,
    totalFiles: 306,
    doneFiles: 286,
    failedFiles: 1,
    totalChunks: 16,
    doneChunks: 15,
    doneChunkIds: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14],
    failedChunkIds: [15],
    updatedAt: '2026-12-07T11:30:00.000Z',
  },
];
const queue = { depth: () => Promise.resolve({ visible: 0, inFlight: 0, delayed: 0 }) };
/** The dashboard's snapshot of `records` at NOW (empty queues): what every test here renders and reads. */
const snapshotOfRecords = () =>
  collectSnapshot(
    {
      stage: 'prod',
      ledger: {
        listClasses: () => Promise.resolve(records),
        pageFailures: () => Promise.reject(new Error('unused')),
      },
      queue,
    },
    { now: () => NOW },
  );

describe('the dashboard in the first hour', () => {
  it('carries freshness per class and the 24-hour line, and the client shows them instead of the stand-in', async () => {
    const s = await snapshotOfRecords();
    expect(s.freshnessText).toBe(
      'Freshness (class end → COMPLETE, last 24 h, 1 class): median 42 s, p95 42 s, worst 42 s (c-done)',
    );
    expect(s.classes.find((c) => c.classId === 'c-done')?.freshnessSeconds).toBe(42);
    // The page, from status.json as it reads it: the freshness line as given, each COMPLETE class's own.
    const page = JSON.parse(renderJson(s)) as StatusJson;
    const row = (id: string, open = false) =>
      rowHtml(
        page.classes.find((c) => c.classId === id)!,
        { stuck: false, eta: undefined },
        open,
        undefined,
      );
    expect(clientScript().script).toContain('.freshnessText');
    expect(row('c-done')).toContain(' · fresh in 42 s (class end → COMPLETE)');
    expect(row('c-done', true)).toContain('fresh in 42 s (class end → COMPLETE)');
    expect(clientScript().script).not.toMatch(/stand-in/);
    // The page adds the failed class up (item 4).
    expect(s.classes.find((c) => c.classId === 'c-failed')?.fileAccount).toBe(
      '286 done + 1 failed + 19 copied, waiting on the redrive of 1 failed chunk = 306 files',
    );
    expect(row('c-failed')).toContain(
      '<div class="muted account">286 done + 1 failed + 19 copied, waiting on the redrive of 1 failed chunk = 306 files</div>',
    );
    expect(renderHtml(s)).toContain('<strong>2 classes</strong>');
  });

  it('draws bits large enough to tell ◉ from ✕, a failed bit white on red', async () => {
    const s = await snapshotOfRecords();
    const html = renderHtml(s);
    const size = Number(/\.bits\{font:(\d+)px/.exec(html)?.[1]);
    expect(size).toBeGreaterThanOrEqual(16);
    expect(html).toContain('.bits .f{color:#fff;background:#c00;');
  });
});
