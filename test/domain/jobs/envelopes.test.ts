// Each message constructor's output is a message its receiver accepts, as it travels (JSON).
import { describe, expect, it } from 'vitest';
import { crawlJob, scanRequest, transferJob } from '../../../src/domain/jobs/envelopes.ts';
import {
  CrawlJobSchema,
  MESSAGE_VERSION,
  parseMessage,
  ScanRequestSchema,
  TransferJobSchema,
} from '../../../src/domain/jobs/schemas.ts';

const travelled = <T>(schema: Parameters<typeof parseMessage<T>>[0], message: unknown, what: string): T =>
  parseMessage(schema, JSON.stringify(message), what);

describe('message constructors stamp the version and type their schema requires', () => {
  it('crawlJob: the fewest fields, and every optional one', () => {
    const least = crawlJob({ classId: 'c-1', manifestUrl: 'http://origin.test/m.m3u8' });
    expect(least).toEqual({
      v: MESSAGE_VERSION,
      type: 'crawl',
      classId: 'c-1',
      manifestUrl: 'http://origin.test/m.m3u8',
    });
    expect(travelled(CrawlJobSchema, least, 'crawl')).toEqual(least);
    const most = crawlJob({
      classId: 'c-1',
      manifestUrl: 'http://origin.test/m.m3u8',
      title: 'Lecture',
      force: true,
      requestedAt: '2026-01-01T00:00:00.000Z',
      endedAt: '2026-01-01T00:00:00.000Z',
      recheck: true,
      replan: { gen: 2, replans: 1, key: 'c-1/m.m3u8', src: 'http://origin.test/m.m3u8' },
      deferrals: 3,
    });
    expect(travelled(CrawlJobSchema, most, 'crawl')).toEqual(most);
  });

  it('transferJob: a chunk of files, and a deferred one with what it copied', () => {
    const job = transferJob({
      classId: 'c-1',
      gen: 1,
      planId: '0123456789abcdef',
      chunk: 0,
      files: [
        { src: 'http://origin.test/a.ts', key: 'c-1/a.ts', kind: 'segment' },
        { src: 'http://origin.test/m.m3u8', key: 'c-1/m.m3u8', kind: 'playlist', bytes: 10, sha256: 'a'.repeat(64) },
      ],
    });
    expect(job).toMatchObject({ v: MESSAGE_VERSION, type: 'transfer' });
    expect(travelled(TransferJobSchema, job, 'transfer')).toEqual(job);
    const deferred = transferJob({ ...job, recopy: true, replans: 1, deferrals: 2, copied: [1] });
    expect(travelled(TransferJobSchema, deferred, 'transfer')).toEqual(deferred);
  });

  it('scanRequest: each mode', () => {
    const requests = [
      scanRequest({ mode: 'catalog' }),
      scanRequest({ mode: 'catalog', scanId: 's1', full: true, force: true, token: 'ab12cd34-0000' }),
      scanRequest({ mode: 'class', classId: 'c-1', force: true }),
      scanRequest({ mode: 'recheck' }),
      scanRequest({ mode: 'recheck', scanId: 's1', shard: 2, token: 'ab12cd34-0000' }),
    ];
    for (const r of requests) {
      expect(r).toMatchObject({ v: MESSAGE_VERSION, type: 'scan' });
      expect(travelled(ScanRequestSchema, r, 'scan')).toEqual(r);
    }
  });
});
