// `npm run screenshots`: the dashboard pictures of README.md and docs/dashboard.md. Runs the local demo pipeline (a slow
// origin so it can be caught mid-flight, and one file lost at the origin so one class FAILS),
// serves the dashboard against it, and has Debian's Chromium photograph the live page mid-flight
// and once everything settled; prints the terminal twin's frame at the same moments. Run by hand
// when the page changes: `npm test` never rewrites the committed PNGs.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { collectSnapshot, createDashboardServer, type DashboardSources } from '../src/dashboard/index.ts';
import { ProgressTracker, RateTracker } from '../src/dashboard/progress.ts';
import { renderTerminal } from '../src/dashboard/terminal.ts';
import { startLocalPipeline } from '../lab/local-pipeline.ts';
import { parseFaultSpec } from '../lab/faults.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = (name: string) => join(root, 'docs', name);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const pipeline = await startLocalPipeline({
  library: { classes: 10, variants: 2, segmentsPerRendition: 30, segmentBytes: 24 * 1024, seed: 'screenshots' },
  faults: parseFaultSpec('slow=0.7,slowms=700,gone=1,seed=3'),
  // Small chunks draw more bits; quick retries let the lost file's class FAIL within the run.
  env: { TRANSFER_CHUNK_FILES: '4', RETRY_BACKOFF_SECONDS: '1,1' },
  concurrency: { transfer: 1, crawl: 1 },
});
const sources: DashboardSources = {
  stage: pipeline.cfg.stage,
  ledger: pipeline.deps.ledger,
  queue: pipeline.deps.queue,
};
const server = createDashboardServer(sources);
const url = `${await server.listen(0)}?interval=1000`;
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
const rates = new RateTracker();
const progress = new ProgressTracker();

/** Samples the ledger once a second for the terminal frames, as `flants status --watch` does. */
const sampler = setInterval(() => {
  void collectSnapshot(sources, { limit: 10_000 }).then((s) => {
    rates.add(Date.now(), s.totals.doneFiles, s.totals.doneBytes);
    progress.observe(s.classes, Date.now());
  });
}, 1000);

async function terminalFrame(): Promise<string> {
  const s = await collectSnapshot(sources, { limit: 10_000 });
  return renderTerminal(s, {
    color: false,
    width: 110,
    now: Date.now(),
    rates,
    progress,
    stuckMinutes: 10,
    intervalSeconds: 2,
    readAt: Date.now(),
  });
}

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: out(name), fullPage: false });
  console.log(`wrote docs/${name}`);
}

try {
  mkdirSync(join(root, 'docs'), { recursive: true });
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await page.goto(url);
  await page.locator('#live').waitFor({ state: 'visible' });
  await pipeline.scan();
  // Mid-flight: a good part copied, most classes still moving, rates measured over a few refreshes.
  for (;;) {
    const s = await collectSnapshot(sources, { limit: 10_000 });
    const total = pipeline.library.totalFiles;
    if (s.totals.doneFiles >= total * 0.45 && s.counts.TRANSFERRING >= 3) break;
    await sleep(250);
  }
  await sleep(1500);
  await shoot(page, 'dashboard-mid-flight.png');
  console.log(`\n${await terminalFrame()}`);
  await pipeline.settle({ timeoutMs: 5 * 60_000 });
  await sleep(2500);
  // Finished: one class FAILED (its file is gone at the origin), opened on its failed file and reason.
  const failed = page.locator('#list .cls.s-failed .line').first();
  if (await failed.count()) {
    await failed.click();
    await page.locator('#list .cls.s-failed .more table').first().waitFor();
  }
  await shoot(page, 'dashboard-finished.png');
  console.log(`\n${await terminalFrame()}`);
} finally {
  clearInterval(sampler);
  await browser.close();
  await server.close();
  await pipeline.stop();
}
