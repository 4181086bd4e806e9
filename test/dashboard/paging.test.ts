// Gap 5 (issue 10): status.json?limit=5000 with long errors used to exceed Lambda's 6 MB response
// limit. Pages are cut to fit, and `next` continues exactly where a page ended.
import { describe, expect, it } from 'vitest';
import {
  handleDashboardRequest,
  MAX_RESPONSE_BYTES,
  responseBytes,
  type DashboardSnapshot,
} from '../../src/dashboard/index.ts';
import type { ClassRecord, ClassStatus } from '../../src/domain/ledger/records.ts';

const LAMBDA_LIMIT = 6 * 1024 * 1024;
const STATUSES: ClassStatus[] = ['FAILED', 'TRANSFERRING', 'CRAWLING', 'PENDING', 'COMPLETE'];
const records: ClassRecord[] = Array.from({ length: 5000 }, (_, i) => ({
  classId: `class-${String(i).padStart(5, '0')}`,
  status: STATUSES[i % 5]!,
  title: `Lecture "${i}" <b>`,
  totalFiles: 100,
  doneFiles: i % 100,
  doneBytes: i * 1000,
  failedFiles: i % 5 === 0 ? 3 : 0,
  // The ledger keeps up to 1000 characters of a reason: quotes and angle brackets grow in JSON and HTML.
  lastError: `origin answered HTTP 404 for "https://cdn.example.com/${'x/'.repeat(450)}seg.ts" <${i}>`.slice(0, 1000),
  updatedAt: new Date(Date.UTC(2026, 0, 1) + (i % 977) * 60_000).toISOString(),
}));
const deps = {
  stage: 'prod',
  ledger: { listClasses: async () => records, pageFailures: async () => ({ failures: [] }) },
  queue: { depth: async () => ({ visible: 0, inFlight: 0, delayed: 0 }) },
};

const get = (path: string, query: string) =>
  handleDashboardRequest({ method: 'GET', path, query: new URLSearchParams(query) }, deps);

describe('dashboard pages fit in a Lambda response', () => {
  it('cuts status.json?limit=5000 to what fits, and `next` walks every class exactly once', async () => {
    const seen: string[] = [];
    let query = 'limit=5000';
    let pages = 0;
    for (;;) {
      const res = await get('/status.json', query);
      expect(res.status).toBe(200);
      expect(responseBytes(res)).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
      expect(responseBytes(res)).toBeLessThan(LAMBDA_LIMIT);
      const page = JSON.parse(res.body) as DashboardSnapshot & { next: string | null };
      expect(page.counts.FAILED).toBe(1000);
      seen.push(...page.classes.map((c) => c.classId));
      pages++;
      expect(page.omitted).toBe(records.length - seen.length);
      if (page.next === null) break;
      query = `limit=5000&cursor=${encodeURIComponent(page.next)}`;
    }
    expect(pages).toBeGreaterThan(1);
    expect(seen).toHaveLength(records.length);
    expect(new Set(seen).size).toBe(records.length);
    // Pages follow the dashboard's order: FAILED first.
    expect(seen.slice(0, 1000).every((id) => Number(id.slice(6)) % 5 === 0)).toBe(true);
  });

  it('does the same for the HTML page, which links to the next one', async () => {
    expect(responseBytes(await get('/', 'limit=5000'))).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
    const first = await get('/', 'limit=10');
    const next = /<a href="\?cursor=([^"]+)">next page<\/a>/.exec(first.body);
    expect(next).not.toBeNull();
    const second = await get('/', `limit=10&cursor=${next![1]}`);
    expect(second.status).toBe(200);
    const ids = (html: string) => [...html.matchAll(/<td><code>(class-\d+)<\/code><\/td>/g)].map((m) => m[1]);
    expect(ids(first.body)).toHaveLength(10);
    expect(ids(second.body)).toHaveLength(10);
    expect(ids(second.body).filter((id) => ids(first.body).includes(id))).toEqual([]);
  });

  it('keeps the status filter across pages, and refuses a cursor it did not give out', async () => {
    const first = JSON.parse((await get('/status.json', 'status=FAILED&limit=10')).body) as DashboardSnapshot & {
      next: string;
    };
    const second = JSON.parse(
      (await get('/status.json', `status=FAILED&limit=10&cursor=${first.next}`)).body,
    ) as DashboardSnapshot;
    expect(second.classes.every((c) => c.status === 'FAILED')).toBe(true);
    expect(second.classes[0]!.classId).not.toBe(first.classes[0]!.classId);
    expect((await get('/status.json', 'cursor=not-a-cursor')).status).toBe(400);
  });
});
