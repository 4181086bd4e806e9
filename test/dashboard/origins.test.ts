// Issue 23: the dashboard shows the origin's answer rates and latency per host.
import { describe, expect, it } from 'vitest';
import { originTable, renderHtml } from '../../src/dashboard/render.ts';
import { collectSnapshot } from '../../src/dashboard/snapshot.ts';
import type { OriginHealthRow } from '../../src/adapters/dynamodb/origin-health.ts';

const row: OriginHealthRow = {
  host: 'cdn.example.com',
  minutes: 5,
  ok: 2700,
  throttled: 30,
  distress: 0,
  other: 0,
  latencyMsMean: 41,
  lastThrottle: 'HTTP 429',
  lastThrottleAt: '2026-12-07T12:29',
};
const sources = (origins?: () => Promise<OriginHealthRow[]>) => ({
  stage: 'dev',
  ledger: { listClasses: () => Promise.resolve([]), pageFailures: () => Promise.resolve({ failures: [] }) },
  queue: { depth: () => Promise.resolve({ visible: 0, inFlight: 0, delayed: 0 }) },
  ...(origins ? { origins } : {}),
});

describe('the origin on the dashboard', () => {
  it('lists each host with answers and throttles per second, mean latency and the last throttle', () => {
    const html = originTable({ origins: [row, { ...row, host: 'b<i>', throttled: 0, lastThrottle: undefined }] });
    expect(html).toContain('<h2>Origin, last 5 min</h2>');
    expect(html).toContain(
      '<tr class="s-failed"><td>cdn.example.com</td><td class="n">9.10</td><td class="n">0.10</td>',
    );
    expect(html).toContain('41 ms');
    expect(html).toContain('throttled by the origin: HTTP 429 at 2026-12-07T12:29');
    expect(html).toContain('<tr><td>b&#60;i&#62;</td>');
    expect(originTable({})).toBe('');
    expect(originTable({ origins: [] })).toBe('');
  });

  it('a snapshot carries them (and its version changes with them); a failing read leaves them out', async () => {
    const a = await collectSnapshot(sources(() => Promise.resolve([row])));
    expect(a.origins).toEqual([row]);
    expect(renderHtml(a)).toContain('cdn.example.com');
    const b = await collectSnapshot(sources(() => Promise.resolve([{ ...row, throttled: 31 }])));
    expect(b.version).not.toBe(a.version);
    const c = await collectSnapshot(sources(() => Promise.reject(new Error('no table'))));
    expect(c.origins).toBeUndefined();
    expect((await collectSnapshot(sources())).origins).toBeUndefined();
  });
});
