// The dashboard's pure parts: snapshot from a ledger and queues, HTML and JSON rendering, routing.
import { describe, expect, it } from 'vitest';
import { clientScript } from '../../src/dashboard/client.ts';
import {
  collectSnapshot,
  escapeHtml,
  formatBytes,
  handleDashboardRequest,
  renderHtml,
  renderJson,
  type DashboardSnapshot,
} from '../../src/dashboard/index.ts';
import type { ClassRecord } from '../../src/domain/ledger/records.ts';
import type { QueueName } from '../../src/domain/ports/job-queue.ts';

const NOW = new Date('2026-11-29T12:00:00.000Z');

const records: ClassRecord[] = [
  {
    classId: 'c-complete',
    status: 'COMPLETE',
    title: 'Done',
    totalFiles: 10,
    doneFiles: 10,
    doneBytes: 5_000_000,
    updatedAt: '2026-11-28T10:00:00Z',
  },
  { classId: 'c-pending', status: 'PENDING', title: 'Waiting', updatedAt: '2026-11-29T11:00:00Z' },
  {
    classId: 'c-failed',
    status: 'FAILED',
    title: '<script>alert("t")</script>',
    totalFiles: 4,
    doneFiles: 3,
    doneBytes: 1234,
    failedFiles: 1,
    lastError: `origin answered HTTP 404 for <img src=x onerror=alert(1)> ${'x'.repeat(400)}`,
    updatedAt: '2026-11-29T09:00:00Z',
  },
  {
    classId: 'c-moving-old',
    status: 'TRANSFERRING',
    totalFiles: 100,
    doneFiles: 50,
    doneBytes: 10,
    updatedAt: '2026-11-29T08:00:00Z',
  },
  {
    classId: 'c-moving-new',
    status: 'TRANSFERRING',
    totalFiles: 0,
    doneFiles: 0,
    doneBytes: 0,
    updatedAt: '2026-11-29T10:00:00Z',
  },
];

const depths: Partial<Record<QueueName, { visible: number; inFlight: number; delayed: number }>> = {
  scan: { visible: 0, inFlight: 1, delayed: 0 },
  crawl: { visible: 2, inFlight: 0, delayed: 0 },
  transfer: { visible: 40, inFlight: 8, delayed: 1 },
  'crawl-dlq': { visible: 0, inFlight: 0, delayed: 0 },
  'transfer-dlq': { visible: 3, inFlight: 0, delayed: 0 },
};

const sources = (over: { listClasses?: () => Promise<ClassRecord[]> } = {}) => ({
  stage: 'prod',
  ledger: { listClasses: over.listClasses ?? (async () => records), pageFailures: async () => ({ failures: [] }) },
  queue: {
    async depth(name: QueueName) {
      const d = depths[name];
      if (!d) throw Object.assign(new Error('Access to the resource is denied'), { code: 'AccessDenied' });
      return d;
    },
  },
  now: () => NOW,
});

describe('collectSnapshot', () => {
  it('counts every class, lists them FAILED first then by recency, and reports every queue', async () => {
    const s = await collectSnapshot(sources(), { now: () => NOW });
    expect(s.generatedAt).toBe(NOW.toISOString());
    expect(s.counts).toEqual({ FAILED: 1, TRANSFERRING: 2, CRAWLING: 0, PENDING: 1, COMPLETE: 1 });
    expect(s.totals).toEqual({ classes: 5, doneFiles: 63, totalFiles: 114, doneBytes: 5_001_244, failedFiles: 1 });
    expect(s.classes.map((c) => c.classId)).toEqual([
      'c-failed',
      'c-moving-new',
      'c-moving-old',
      'c-pending',
      'c-complete',
    ]);
    // Both lanes of each stage, the fresh lane first (issue 25), then the DLQs the same way.
    expect(s.queues.map((q) => q.name)).toEqual([
      'scan-fresh',
      'scan',
      'crawl-fresh',
      'crawl',
      'transfer-fresh',
      'transfer',
      'scan-fresh-dlq',
      'scan-dlq',
      'crawl-fresh-dlq',
      'crawl-dlq',
      'transfer-fresh-dlq',
      'transfer-dlq',
    ]);
    // One unreadable queue is shown as such, the rest still are.
    expect(s.queues.find((q) => q.name === 'scan-dlq')).toMatchObject({
      visible: undefined,
      error: expect.stringContaining('denied'),
    });
    expect(s.queues.find((q) => q.name === 'transfer')).toMatchObject({ visible: 40, inFlight: 8, delayed: 1 });
  });

  it('filters by status and caps the rows, while the counts still cover everything', async () => {
    const s = await collectSnapshot(sources(), { status: 'TRANSFERRING', limit: 1 });
    expect(s.classes.map((c) => c.classId)).toEqual(['c-moving-new']);
    expect(s.omitted).toBe(1);
    expect(s.filter).toBe('TRANSFERRING');
    expect(s.totals.classes).toBe(5);
  });
});

describe('renderHtml', () => {
  it('escapes every value that came from the catalog, the origin or an error', async () => {
    const html = renderHtml(await collectSnapshot(sources(), { now: () => NOW }));
    // One script: the page's own, which the CSP allows by its hash.
    expect(html.split('<script').length - 1).toBe(1);
    expect(html).toContain(`<script>${clientScript().script}</script>`);
    expect(html).not.toContain('<img');
    expect(html).toContain('&#60;script&#62;alert(&#34;t&#34;)&#60;/script&#62;');
    expect(html).toContain('&#60;img src=x onerror=alert(1)&#62;');
    // Long reasons are cut on the page (the JSON keeps them whole).
    expect(html).not.toContain('x'.repeat(400));
  });

  it('shows progress, bytes, queue depths and a flagged non-empty DLQ', async () => {
    const html = renderHtml(await collectSnapshot(sources(), { now: () => NOW }));
    expect(html).toContain('<title>FLAnts prod</title>');
    expect(html).toContain('3 / 4 (75%)');
    expect(html).toContain('50 / 100 (50%)');
    expect(html).toContain('>0 / ?</td>');
    expect(html).toContain('5.0 MB');
    expect(html).toMatch(/<tr class="s-failed"><td>transfer-dlq<\/td><td class="n">3<\/td>/);
    expect(html).toContain('FAILED 1 · TRANSFERRING 2 · CRAWLING 0 · PENDING 1 · COMPLETE 1');
  });

  it('says when there is nothing yet, and when rows were left out', () => {
    const empty: DashboardSnapshot = {
      stage: 'dev',
      generatedAt: NOW.toISOString(),
      counts: { FAILED: 0, TRANSFERRING: 0, CRAWLING: 0, PENDING: 0, COMPLETE: 0 },
      totals: { classes: 0, doneFiles: 0, totalFiles: 0, doneBytes: 0, failedFiles: 0 },
      classes: [],
      omitted: 0,
      next: undefined,
      filter: undefined,
      queues: [],
      version: 'v0',
    };
    expect(renderHtml(empty)).toContain('No classes in the ledger yet.');
    expect(renderHtml({ ...empty, omitted: 7 })).toContain('7 more classes not listed');
  });
});

describe('freshness (issue 11)', () => {
  it("shows the median, p95 and worst of the last 24 hours, and each class's own figure in the JSON", async () => {
    const done = (id: string, seconds: number, hoursAgo: number): ClassRecord => ({
      classId: id,
      status: 'COMPLETE',
      completedAt: new Date(NOW.getTime() - hoursAgo * 3_600_000).toISOString(),
      updatedAt: NOW.toISOString(),
      freshnessSeconds: seconds,
    });
    const s = await collectSnapshot(
      sources({
        listClasses: async () => [done('a', 30, 1), done('b', 90, 2), done('c', 600, 3), done('old', 9999, 30)],
      }),
      { now: () => NOW },
    );
    expect(s.freshness).toMatchObject({
      classes: 3,
      medianSeconds: 90,
      p95Seconds: 600,
      worstSeconds: 600,
      worstClassId: 'c',
    });
    expect(renderHtml(s)).toContain(
      'freshness (last 24 h, 3 classes): median 1.5 min, p95 10.0 min, worst 10.0 min (c)',
    );
    expect((JSON.parse(renderJson(s)) as DashboardSnapshot).classes.find((c) => c.classId === 'old')).toMatchObject({
      freshnessSeconds: 9999,
    });
  });
});

describe('files gone at the origin (issue 18 case 4)', () => {
  it('a COMPLETE class whose origin purged files carries them in its row and says so in the page, escaped', async () => {
    const purged: ClassRecord = {
      classId: 'c-purged',
      status: 'COMPLETE',
      totalFiles: 10,
      doneFiles: 10,
      doneBytes: 1000,
      updatedAt: '2026-11-29T10:00:00Z',
      goneAtOrigin: { count: 25, keys: ['m/<b>seg-1</b>.ts', 'm/seg-2.ts'] },
    };
    const s = await collectSnapshot(sources({ listClasses: async () => [purged, records[0]!] }), { now: () => NOW });
    expect(s.classes.find((c) => c.classId === 'c-purged')).toMatchObject({
      status: 'COMPLETE',
      goneAtOrigin: { count: 25, keys: ['m/<b>seg-1</b>.ts', 'm/seg-2.ts'] },
    });
    // Only a class with such files carries the field.
    expect(s.classes.find((c) => c.classId === 'c-complete')).not.toHaveProperty('goneAtOrigin');
    const html = renderHtml(s);
    expect(html).toContain(
      '25 file(s) gone at the origin, their verified copies kept in the bucket: m/&#60;b&#62;seg-1&#60;/b&#62;.ts, m/seg-2.ts, ...',
    );
    expect(html).not.toContain('<b>seg-1');
  });
});

describe('renderJson', () => {
  it('is the snapshot with exact numbers and explicit nulls', async () => {
    const s = await collectSnapshot(sources(), { now: () => NOW });
    const parsed = JSON.parse(renderJson(s)) as DashboardSnapshot & { classes: Array<Record<string, unknown>> };
    expect(parsed.totals.doneBytes).toBe(5_001_244);
    expect(parsed.classes[0]).toMatchObject({
      classId: 'c-failed',
      status: 'FAILED',
      doneFiles: 3,
      totalFiles: 4,
      failedFiles: 1,
    });
    expect(parsed.classes[0]!.lastError).toHaveLength(s.classes[0]!.lastError!.length);
    expect(parsed.classes.find((c) => c.classId === 'c-pending')).toMatchObject({ totalFiles: null, lastError: null });
  });
});

describe('helpers', () => {
  it('escapes the five HTML specials and the backtick', () => {
    expect(escapeHtml(`<a href="x" title='y'>&\``)).toBe('&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;&#96;');
    expect(escapeHtml(undefined)).toBe('');
  });
  it('formats bytes in decimal units', () => {
    expect([0, 999, 1000, 1_500_000, 2_000_000_000_000].map(formatBytes)).toEqual([
      '0 B',
      '999 B',
      '1.0 KB',
      '1.5 MB',
      '2.0 TB',
    ]);
  });
});

describe('handleDashboardRequest', () => {
  const get = (path: string, query = '', accept?: string) =>
    handleDashboardRequest({ method: 'GET', path, query: new URLSearchParams(query), accept }, sources());

  it('serves HTML at / and JSON at /status.json (or by Accept or ?format=json), never cached, only its own script', async () => {
    const html = await get('/');
    expect(html.status).toBe(200);
    expect(html.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(html.headers['cache-control']).toBe('no-store');
    expect(html.headers['content-security-policy']).toContain("default-src 'none'");
    expect(html.headers['content-security-policy']).toContain(`script-src '${clientScript().hash}';`);
    expect(html.headers['content-security-policy']).not.toMatch(/script-src[^;]*'unsafe-/);
    for (const r of [
      await get('/status.json'),
      await get('/', 'format=json'),
      await get('/', '', 'application/json'),
    ]) {
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
      expect((JSON.parse(r.body) as DashboardSnapshot).counts.FAILED).toBe(1);
    }
  });

  it('filters and limits from the query string, and refuses bad values', async () => {
    const r = JSON.parse((await get('/status.json', 'status=failed&limit=10')).body) as DashboardSnapshot;
    expect(r.classes.map((c) => c.classId)).toEqual(['c-failed']);
    expect((await get('/status.json', 'status=DONE')).status).toBe(400);
    expect((await get('/status.json', 'limit=-1')).status).toBe(400);
    expect((await get('/status.json', 'limit=abc')).status).toBe(400);
  });

  it('answers 404 elsewhere, 405 to other methods, and HEAD without a body', async () => {
    expect((await get('/admin')).status).toBe(404);
    const post = await handleDashboardRequest({ method: 'POST', path: '/', query: new URLSearchParams() }, sources());
    expect([post.status, post.headers.allow]).toEqual([405, 'GET, HEAD']);
    const head = await handleDashboardRequest({ method: 'HEAD', path: '/', query: new URLSearchParams() }, sources());
    expect([head.status, head.body]).toEqual([200, '']);
  });

  it('answers 503 without details when the ledger cannot be read, and logs why', async () => {
    const logged: string[] = [];
    const log = {
      debug() {},
      info() {},
      warn() {},
      error: (m: string, f?: Record<string, unknown>) => logged.push(`${m} ${JSON.stringify(f)}`),
      child: () => log,
    };
    const r = await handleDashboardRequest(
      { method: 'GET', path: '/', query: new URLSearchParams() },
      {
        ...sources({
          listClasses: async () => {
            throw new Error('User: arn:aws:sts::123:assumed-role/x is not authorized to perform dynamodb:Scan');
          },
        }),
        log,
      },
    );
    expect(r.status).toBe(503);
    expect(r.body).not.toContain('arn:aws');
    expect(logged.join()).toContain('dynamodb:Scan');
  });
});

describe('the verified mark (issue 22)', () => {
  const verified = (over: Partial<ClassRecord>): ClassRecord => ({
    classId: 'c-verified',
    status: 'COMPLETE',
    gen: 2,
    totalFiles: 3,
    doneFiles: 3,
    verifiedAt: '2026-11-29T11:00:00Z',
    verifiedGen: 2,
    verifyResult: 'OK',
    verifyFindings: {},
    ...over,
  });
  const page = async (r: ClassRecord) => {
    const s = await collectSnapshot(sources({ listClasses: async () => [r] }), { now: () => NOW });
    return { row: s.classes[0]!, html: renderHtml(s) };
  };

  it('a class verified OK at its generation carries a ✓ and the time; the JSON row has it', async () => {
    const { row, html } = await page(verified({}));
    expect(row.verified).toEqual({ at: '2026-11-29T11:00:00Z', gen: 2, result: 'OK', findings: {}, stale: false });
    expect(html).toContain('<div class="verified">✓ verified 2026-11-29T11:00:00Z: OK</div>');
  });

  it('findings are shown with their counts; a verification of an earlier generation says to verify again', async () => {
    const bad = await page(verified({ verifyResult: 'missing 1', verifyFindings: { missing: 1 } }));
    expect(bad.html).toContain('<div class="unverified">verified 2026-11-29T11:00:00Z: missing 1</div>');
    const stale = await page(verified({ verifiedGen: 1 }));
    expect(stale.row.verified!.stale).toBe(true);
    expect(stale.html).toContain(
      'verified 2026-11-29T11:00:00Z: OK (of generation 1, copied again since: verify again)',
    );
    expect(stale.html).not.toContain('✓');
  });

  it('a class never verified has no mark', async () => {
    const { row, html } = await page(verified({ verifiedAt: undefined }));
    expect(row.verified).toBeUndefined();
    expect(html).not.toContain('verified 2026');
  });
});
