import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboardServer, type DashboardServer } from '../../src/dashboard/index.ts';
import { createLedger } from '../../src/adapters/dynamodb/ledger.ts';
import type { ClassRecord, LandedFile } from '../../src/domain/ledger/records.ts';
import type { Ledger } from '../../src/domain/ports/ledger.ts';
import { createJobQueue } from '../../src/adapters/sqs/queue.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

// Debian's Chromium (apt package "chromium"), which .ci/run installs; Playwright drives it.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const DONE = '◉';
const WAITING = '◯';
const FAILED = '✕';

let t: TestStack;
let ledger: Ledger;
let server: DashboardServer;
let url: string;
let browser: Browser;
let movingGen: number;

const landed = (chunk: number, n = 3): LandedFile[] =>
  Array.from({ length: n }, (_, i) => ({ key: `m/${chunk}-${i}.ts`, bytes: 400_000, etag: 'e' }));

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  t = await startTestStack({ services: ['sqs', 's3', 'dynamodb'] });
  ledger = createLedger(t.aws.ddb, t.cfg.tableName);
  const info = (title: string) => ({ title, manifestUrl: 'http://origin.test/m.m3u8' });
  // One class in each state, written through the ledger as the pipeline writes them.
  await ledger.markPending('c-pending', info('Pending <b>not bold</b>'));
  await ledger.markCrawling('c-done', info('Finished lecture'));
  const done = await ledger.recordPlan('c-done', { planId: 'aaaa0000', totalFiles: 2, totalChunks: 1 });
  await ledger.countChunk('c-done', done.gen, 0, [
    { key: 'a', bytes: 2_000_000, etag: 'e' },
    { key: 'b', bytes: 500_000, etag: 'f' },
  ]);
  await ledger.markCrawling('c-failed', info('Broken lecture'));
  const failed = await ledger.recordPlan('c-failed', { planId: 'bbbb0000', totalFiles: 3, totalChunks: 2 });
  await ledger.countChunk('c-failed', failed.gen, 0, landed(0, 2));
  await ledger.recordChunkFailure('c-failed', failed.gen, 1, [
    {
      key: 'x/seg-1.ts',
      src: 'http://origin.test/x/seg-1.ts',
      reason: 'origin answered HTTP 404 for http://origin.test/x/seg-1.ts',
    },
  ]);
  await ledger.markCrawling('c-moving', info('Lecture in flight'));
  movingGen = (await ledger.recordPlan('c-moving', { planId: 'cccc0000', totalFiles: 36, totalChunks: 12 })).gen;
  await ledger.countChunk('c-moving', movingGen, 0, landed(0));
  await ledger.countChunk('c-moving', movingGen, 5, landed(5));
  const queue = createJobQueue(t.aws.sqs, t.cfg);
  await queue.sendRaw('transfer-dlq', '{"v":2}', { 'flants-error': 'test' });
  server = createDashboardServer({ stage: t.cfg.stage, ledger, queue });
  // A fast poll keeps the test short; the page's default is 2 s.
  url = `${await server.listen(0)}?interval=400`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await t?.stop();
});

/** A page that records script errors and CSP violations (Chromium reports both on the console). */
async function openPage(
  viewport = { width: 1280, height: 900 },
  target = url,
): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport });
  const problems: string[] = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
  const res = await page.goto(target);
  expect(res?.status()).toBe(200);
  await page.locator('#live').waitFor({ state: 'visible' });
  return { page, problems };
}

// Browser-side code is passed as text: the project compiles for Node (no DOM types), and this
// keeps the test runner's transforms out of what runs in the page.
const js = <T>(page: Page, expression: string): Promise<T> => page.evaluate<T>(expression);
/** Polls an expression from here: waitForFunction would evaluate text inside the page, which its CSP forbids. */
async function until(page: Page, expression: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await js<boolean>(page, expression))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${expression}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const refreshes = (page: Page) =>
  js<number>(page, "Number(document.getElementById('live').getAttribute('data-refreshes'))");

/** Waits until the page has refreshed `n` more times. */
async function nextRefreshes(page: Page, n = 1): Promise<void> {
  const from = await refreshes(page);
  await until(page, `Number(document.getElementById('live').getAttribute('data-refreshes')) >= ${from + n}`);
}

const bitsOf = async (page: Page, classId: string) =>
  (await page.locator(`.cls[data-id="${classId}"] .bits`).textContent()) ?? '';
const count = (text: string, mark: string) => [...text].filter((c) => c === mark).length;

describe('dashboard in a real browser', () => {
  it('draws every class with its bits, FAILED first with its failed mark and reason, escaped, with no script or CSP errors', async () => {
    const { page, problems } = await openPage();
    expect(await page.title()).toBe(`FLAnts ${t.cfg.stage}`);
    expect(await page.locator('#static').isHidden()).toBe(true);
    const ids = await page.locator('#list .cls').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
    expect(ids).toEqual(['c-failed', 'c-moving', 'c-pending', 'c-done']);
    // The failed class: one bit done, one failed, and the reason under it.
    const failed = page.locator('.cls[data-id="c-failed"]');
    expect(await bitsOf(page, 'c-failed')).toBe(`${DONE}${FAILED}`);
    expect(await failed.locator('.bits .f').textContent()).toBe(FAILED);
    expect(await failed.locator('.note').textContent()).toContain(
      'origin answered HTTP 404 for http://origin.test/x/seg-1.ts',
    );
    // The class in flight: chunks 0 and 5 of 12 done.
    expect(await bitsOf(page, 'c-moving')).toBe(`${DONE}${WAITING.repeat(4)}${DONE}${WAITING.repeat(6)}`);
    // A finished class collapses to a summary line.
    expect(await page.locator('.cls[data-id="c-done"] .bits').count()).toBe(0);
    expect(await page.locator('.cls[data-id="c-done"] .sum').textContent()).toContain('all 1 chunks done');
    // The title is text, not markup.
    expect(await page.locator('#live b', { hasText: 'not bold' }).count()).toBe(0);
    expect(await page.locator('#live').getByText('Pending <b>not bold</b>').count()).toBe(1);
    expect(await page.locator('#summary').textContent()).toContain('4 classes');
    // A DLQ holding a job says what to do.
    expect(await page.locator('#queues tr', { hasText: 'transfer-dlq' }).textContent()).toContain(
      'flants redrive --queue transfer',
    );
    expect(await page.locator('#stale').isHidden()).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('opens a failed class on its failed files with their reasons', async () => {
    const { page, problems } = await openPage();
    await page.locator('.cls[data-id="c-failed"] .line').click();
    const more = page.locator('.cls[data-id="c-failed"] .more');
    await more.locator('table').waitFor();
    expect(await more.locator('tbody tr').first().textContent()).toBe(
      '1x/seg-1.tsorigin answered HTTP 404 for http://origin.test/x/seg-1.ts',
    );
    expect(await more.textContent()).toContain('flants redrive');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('fills in bits and moves its rates between two refreshes, keeping filters, open rows and scroll', async () => {
    const { page, problems } = await openPage({ width: 1000, height: 420 });
    await nextRefreshes(page);
    // State a person set up: an open row, a search, and a scrolled page.
    await page.locator('.cls[data-id="c-moving"] .line').click();
    await page.locator('#q').fill('lecture');
    await until(page, "document.querySelectorAll('#list .cls').length === 3");
    await js(page, 'window.scrollTo(0, 300)');
    const scrolled = await js<number>(page, 'window.scrollY');
    expect(scrolled).toBeGreaterThan(100);
    // Rows are updated in place, not redrawn: a class whose data did not change keeps its very node.
    await js(page, `document.querySelector('.cls[data-id="c-failed"]').kept = true`);
    const before = await bitsOf(page, 'c-moving');
    expect(count(before, DONE)).toBe(2);
    // Nothing has moved yet: no rate, or (when a loaded machine let two refreshes pass already) a rate of zero.
    expect(await page.locator('#rate-files').textContent()).toMatch(/^(—|0(\.0+)?)$/);

    for (const chunk of [1, 2, 3]) await ledger.countChunk('c-moving', movingGen, chunk, landed(chunk));
    // A refresh can land between two of those counts (a loaded machine): wait for the one that saw all three.
    await until(
      page,
      `document.getElementById('rate-files').textContent !== '—' && document.querySelector('.cls[data-id="c-moving"] .bits').textContent.split('${DONE}').length - 1 === 5`,
    );
    const afterFirst = await bitsOf(page, 'c-moving');
    expect(afterFirst).toBe(`${DONE.repeat(4)}${WAITING}${DONE}${WAITING.repeat(6)}`);
    const rate1 = Number(await page.locator('#rate-files').textContent());
    expect(rate1).toBeGreaterThan(0);

    for (const chunk of [6, 7, 8, 9]) await ledger.countChunk('c-moving', movingGen, chunk, landed(chunk));
    await until(
      page,
      `document.querySelector('.cls[data-id="c-moving"] .bits').textContent.split('${DONE}').length - 1 === 9`,
    );
    await nextRefreshes(page);
    const rate2 = Number(await page.locator('#rate-files').textContent());
    expect(rate2).toBeGreaterThan(0);
    expect(rate2).not.toBe(rate1);
    expect(await page.locator('#eta').textContent()).toMatch(/\d+ (s|min)/);

    // What the person set up survived every refresh.
    expect(await page.locator('#q').inputValue()).toBe('lecture');
    expect(await page.locator('#list .cls').count()).toBe(3);
    expect(await page.locator('.cls[data-id="c-moving"]').getAttribute('class')).toContain('open');
    expect(await js(page, `document.querySelector('.cls[data-id="c-failed"]').kept`)).toBe(true);
    // Still where the person left it (Chromium's scroll anchoring may shift it by the height of a row that grew above).
    expect(Math.abs((await js<number>(page, 'window.scrollY')) - scrolled)).toBeLessThan(60);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('filters by status, sorts by a column, and shows when its data is stale', async () => {
    const { page } = await openPage();
    await page.locator('#chips button[data-f="FAILED"]').click();
    expect(await page.locator('#list .cls').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')))).toEqual([
      'c-failed',
    ]);
    await page.locator('#chips button[data-f=""]').click();
    await page.locator('#first').uncheck();
    await page.locator('.hdr button[data-sort="classId"]').click();
    expect(await page.locator('#list .cls').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')))).toEqual([
      'c-done',
      'c-failed',
      'c-moving',
      'c-pending',
    ]);
    await page.locator('.hdr button[data-sort="classId"]').click();
    expect(await page.locator('#list .cls').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')))).toEqual([
      'c-pending',
      'c-moving',
      'c-failed',
      'c-done',
    ]);
    // The ledger becomes unreachable: the page keeps its data and says it is stale, and why.
    await page.route('**/status.json*', (route) =>
      route.fulfill({ status: 503, body: 'the ledger could not be read' }),
    );
    await page.locator('#stale').waitFor({ state: 'visible', timeout: 15_000 });
    expect(await page.locator('#stale').textContent()).toContain('HTTP 503');
    expect(await js(page, "document.body.classList.contains('stale')")).toBe(true);
    expect(await page.locator('#list .cls').count()).toBe(4);
    await page.unroute('**/status.json*');
    await page.locator('#stale').waitFor({ state: 'hidden', timeout: 15_000 });
    await page.close();
  });

  it('follows the JSON link to the same data', async () => {
    const { page } = await openPage();
    await page.locator('#live').getByRole('link', { name: 'JSON' }).click();
    const body = JSON.parse((await page.locator('body').textContent()) ?? '{}') as {
      classes: Array<{ classId: string; status: string; bits: unknown }>;
    };
    expect(body.classes.map((c) => `${c.classId}:${c.status}`)).toEqual([
      'c-failed:FAILED',
      'c-moving:TRANSFERRING',
      'c-pending:PENDING',
      'c-done:COMPLETE',
    ]);
    expect(body.classes[0]!.bits).toEqual({ unit: 'chunk', total: 2, done: '8', failed: '4' });
    await page.close();
  });
});

describe('a class whose origin purged files (issue 18 case 4)', () => {
  let purged: DashboardServer;
  let purgedUrl: string;

  beforeAll(async () => {
    const records: ClassRecord[] = [
      {
        classId: 'c-purged',
        status: 'COMPLETE',
        title: 'Migrated lecture',
        gen: 2,
        completedGen: 2,
        totalFiles: 30,
        totalChunks: 3,
        doneFiles: 30,
        doneChunks: 3,
        doneBytes: 3_000_000,
        doneChunkIds: [0, 1, 2],
        updatedAt: '2026-01-01T00:00:00.000Z',
        goneAtOrigin: { count: 21, keys: Array.from({ length: 20 }, (_, i) => `m/<i>seg-${i}</i>.ts`) },
      },
    ];
    purged = createDashboardServer({
      stage: 'purged',
      ledger: { listClasses: async () => records, pageFailures: async () => ({ failures: [] }) },
      queue: { depth: async () => ({ visible: 0, inFlight: 0, delayed: 0 }) },
    });
    purgedUrl = `${await purged.listen(0)}?interval=400`;
  });
  afterAll(async () => purged?.close());

  it('says how many files the origin no longer has under the COMPLETE class, and lists their keys when opened', async () => {
    const { page, problems } = await openPage(undefined, purgedUrl);
    const row = page.locator('.cls[data-id="c-purged"]');
    expect(await row.locator('.gone').textContent()).toBe(
      '21 file(s) gone at the origin, their verified copies kept in the bucket',
    );
    await row.locator('.line').click();
    const keys = row.locator('.more ul.gone li');
    await keys.first().waitFor();
    expect(await keys.count()).toBe(20);
    expect(await keys.first().textContent()).toBe('m/<i>seg-0</i>.ts');
    expect(await row.locator('.more p.gone').textContent()).toContain('(the first 20 listed)');
    expect(problems).toEqual([]);
    await page.close();
  });
});

describe('dashboard at scale', () => {
  const CLASSES = 1000;
  const FILES = 5000;
  let big: DashboardServer;
  let bigUrl: string;

  beforeAll(async () => {
    // Synthetic records (one chunk per file: the most bits a class can draw), served by the real server.
    const statuses: ClassRecord['status'][] = ['TRANSFERRING', 'TRANSFERRING', 'FAILED', 'COMPLETE', 'PENDING'];
    const records: ClassRecord[] = Array.from({ length: CLASSES }, (_, i) => {
      const status = statuses[i % statuses.length]!;
      const doneIds = Array.from({ length: FILES }, (_, f) => f).filter(
        (f) => status === 'COMPLETE' || (f * 7 + i) % 10 < 6,
      );
      return {
        classId: `class-${String(i).padStart(4, '0')}`,
        status,
        title: `Synthetic lecture ${i}`,
        gen: 1,
        completedGen: status === 'COMPLETE' ? 1 : undefined,
        totalFiles: FILES,
        totalChunks: FILES,
        doneFiles: doneIds.length,
        doneChunks: doneIds.length,
        doneBytes: doneIds.length * 500_000,
        doneChunkIds: doneIds,
        failedChunkIds: status === 'FAILED' ? [3, 4999] : [],
        failedFiles: status === 'FAILED' ? 2 : 0,
        updatedAt: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
      };
    });
    big = createDashboardServer({
      stage: 'scale',
      ledger: { listClasses: async () => records, pageFailures: async () => ({ failures: [] }) },
      queue: { depth: async () => ({ visible: 0, inFlight: 0, delayed: 0 }) },
    });
    bigUrl = await big.listen(0);
  });
  afterAll(async () => big?.close());

  it(`draws ${CLASSES} classes of ${FILES} bits each (printing how long it took)`, { timeout: 120_000 }, async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    const started = Date.now();
    await page.goto(bigUrl);
    await page.locator('#live').waitFor({ state: 'visible', timeout: 60_000 });
    const wall = Date.now() - started;
    const renderMs = Number(await page.locator('#live').getAttribute('data-first-render-ms'));
    const fetchMs = Number(await page.locator('#live').getAttribute('data-fetch-ms'));
    expect(await page.locator('#list .cls').count()).toBe(CLASSES);
    const first = await page.locator('#list .cls').first().locator('.bits').textContent();
    expect([...(first ?? '')]).toHaveLength(FILES);
    // A filter redraws from the data in hand.
    const t0 = Date.now();
    await page.locator('#chips button[data-f="FAILED"]').click();
    await until(page, `document.querySelectorAll('#list .cls').length === ${CLASSES / 5}`);
    const filterMs = Date.now() - t0;
    console.log(
      `dashboard at scale: ${CLASSES} classes × ${FILES} bits: drawn in ${renderMs} ms after status.json arrived (${fetchMs} ms to fetch and parse it); ` +
        `${wall} ms from navigation to the live page; a status filter redrew in ${filterMs} ms`,
    );
    expect(problems).toEqual([]);
    await page.screenshot({ path: join(tmpdir(), 'flants-dashboard-scale.png') });
    await page.close();
  });
});
