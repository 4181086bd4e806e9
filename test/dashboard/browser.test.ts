import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboardServer, type DashboardServer } from '../../src/dashboard/index.ts';
import { createLedger } from '../../src/store/ledger.ts';
import { createJobQueue } from '../../src/store/queue.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

// Debian's Chromium (apt package "chromium"), which .ci/run installs; Playwright drives it.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let t: TestStack;
let server: DashboardServer;
let url: string;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  t = await startTestStack({ services: ['sqs', 's3', 'dynamodb'] });
  const ledger = createLedger(t.aws.ddb, t.cfg.tableName);
  const info = (title: string) => ({ title, manifestUrl: 'http://origin.test/m.m3u8' });
  // One class in each state, written through the ledger as the pipeline writes them.
  await ledger.markPending('c-pending', info('Pending <b>not bold</b>'));
  await ledger.markCrawling('c-done', info('Finished lecture'));
  const done = await ledger.recordPlan('c-done', { planId: 'aaaa0000', totalFiles: 2, totalChunks: 1 });
  await ledger.countChunk('c-done', done.gen, 0, [{ key: 'a', bytes: 2_000_000, etag: 'e' }, { key: 'b', bytes: 500_000, etag: 'f' }]);
  await ledger.markCrawling('c-failed', info('Broken lecture'));
  const failed = await ledger.recordPlan('c-failed', { planId: 'bbbb0000', totalFiles: 3, totalChunks: 2 });
  await ledger.recordChunkFailure('c-failed', failed.gen, 1, [{ key: 'x/seg-1.ts', src: 'http://origin.test/x/seg-1.ts', reason: 'origin answered HTTP 404 for http://origin.test/x/seg-1.ts' }]);
  server = createDashboardServer({ stage: t.cfg.stage, ledger, queue: createJobQueue(t.aws.sqs, t.cfg) });
  url = await server.listen(0);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await t?.stop();
});

describe('dashboard in a real browser', () => {
  it('shows every class, FAILED first with its reason, escaped, with no script or CSP errors', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    const res = await page.goto(url);
    expect(res?.status()).toBe(200);
    expect(await page.title()).toBe(`FLAnts ${t.cfg.stage}`);
    const rows = page.locator('h2:has-text("Classes") + table tbody tr');
    expect(await rows.count()).toBe(3);
    expect(await rows.nth(0).textContent()).toContain('c-failed');
    expect(await rows.nth(0).textContent()).toContain('origin answered HTTP 404');
    // The title is text, not markup.
    expect(await page.locator('b', { hasText: 'not bold' }).count()).toBe(0);
    expect(await page.getByText('Pending <b>not bold</b>').count()).toBe(1);
    expect(await page.locator('body').textContent()).toContain('3 classes');
    const shot = join(tmpdir(), `flants-dashboard-${t.cfg.stage}.png`);
    // For a person to look at; the assertions above are the test.
    await page.screenshot({ path: shot, fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('follows the JSON link to the same data', async () => {
    const page = await browser.newPage();
    await page.goto(url);
    await page.getByRole('link', { name: 'JSON' }).click();
    const body = JSON.parse((await page.locator('body').textContent()) ?? '{}') as { classes: Array<{ classId: string; status: string }> };
    expect(body.classes.map((c) => `${c.classId}:${c.status}`)).toEqual(['c-failed:FAILED', 'c-pending:PENDING', 'c-done:COMPLETE']);
    await page.close();
  });
});
