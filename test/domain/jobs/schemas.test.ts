import { describe, expect, it } from 'vitest';
import { PoisonMessageError } from '../../../src/errors.ts';
import {
  CrawlJobSchema,
  parseMessage,
  ScanRequestSchema,
  TransferJobSchema,
} from '../../../src/domain/jobs/schemas.ts';

const transfer = {
  v: 2,
  type: 'transfer',
  classId: 'abc',
  gen: 1,
  planId: '0123456789abcdef',
  chunk: 3,
  files: [{ src: 'https://cdn/a.ts', key: 'a.ts', kind: 'segment' }],
};

describe('message schemas', () => {
  it('accepts every message kind FLAnts sends', () => {
    expect(parseMessage(ScanRequestSchema, '{"v":2,"type":"scan","mode":"catalog"}', 'scan')).toEqual({
      v: 2,
      type: 'scan',
      mode: 'catalog',
    });
    expect(
      parseMessage(ScanRequestSchema, '{"v":2,"type":"scan","mode":"class","classId":"x-1","force":true}', 'scan'),
    ).toMatchObject({ classId: 'x-1', force: true });
    expect(
      parseMessage(
        CrawlJobSchema,
        JSON.stringify({ v: 2, type: 'crawl', classId: 'c', manifestUrl: 'http://o/m.m3u8' }),
        'crawl',
      ).classId,
    ).toBe('c');
    expect(parseMessage(TransferJobSchema, JSON.stringify(transfer), 'transfer').files).toHaveLength(1);
  });

  it('takes the optional fields of issue 11 and refuses what they do not allow', () => {
    const scan = (x: object) => parseMessage(ScanRequestSchema, JSON.stringify({ v: 2, type: 'scan', ...x }), 'scan');
    expect(scan({ mode: 'recheck' })).toEqual({ v: 2, type: 'scan', mode: 'recheck' });
    expect(scan({ mode: 'recheck', classId: 'x-1' })).toMatchObject({ classId: 'x-1' });
    expect(scan({ mode: 'recheck', scanId: 's', shard: 3, after: 'abc' })).toMatchObject({ shard: 3, after: 'abc' });
    const incremental = {
      mode: 'catalog',
      scanId: 's',
      since: '2026-01-01T00:00:00.000Z',
      startedAt: '2026-01-01T00:10:00.000Z',
      cursor: { field: 'endedAt', at: '2026-01-01T00:05:00.000Z', id: '65a000000000000000000001', oid: true },
    };
    expect(scan(incremental)).toEqual({ v: 2, type: 'scan', ...incremental });
    expect(scan({ mode: 'catalog', full: true })).toMatchObject({ full: true });
    // Issue 18 case 7: a scan page's claim token, kept in the body through a DLQ redrive.
    const token = '3b241101-e2bb-4255-8caf-4136c566a962';
    expect(scan({ mode: 'catalog', scanId: 's', token })).toMatchObject({ token });
    expect(scan({ mode: 'recheck', scanId: 's', shard: 1, token })).toMatchObject({ token });
    expect(() => scan({ mode: 'catalog', token: 'not a token' })).toThrow(/invalid at token/);
    expect(() => scan({ ...incremental, since: 'yesterday' })).toThrow(/invalid at since: must be an ISO-8601 instant/);
    expect(() => scan({ ...incremental, cursor: { field: 'createdAt' } })).toThrow(/invalid at cursor\.field/);
    expect(() => scan({ mode: 'recheck', force: true })).toThrow(PoisonMessageError);
    expect(
      parseMessage(
        CrawlJobSchema,
        JSON.stringify({ v: 2, type: 'crawl', classId: 'c', manifestUrl: 'http://o/m.m3u8', recheck: true }),
        'crawl',
      ).recheck,
    ).toBe(true);
    expect(parseMessage(TransferJobSchema, JSON.stringify({ ...transfer, recopy: true }), 'transfer').recopy).toBe(
      true,
    );
  });

  it.each([
    ['not json', /not JSON/],
    ['{"v":1,"type":"transfer"}', /schema version 1; this build reads version 2/],
    [JSON.stringify({ ...transfer, gen: 0 }), /invalid at gen/],
    [
      JSON.stringify({
        ...transfer,
        files: [{ src: 'https://cdn/a.m3u8', key: 'a.m3u8', kind: 'playlist', sha256: 'abc' }],
      }),
      /invalid at files\.0\.sha256/,
    ],
    [JSON.stringify({ ...transfer, chunk: -1 }), /invalid at chunk/],
    [JSON.stringify({ ...transfer, files: [] }), /invalid at files/],
    [
      JSON.stringify({ ...transfer, files: [{ src: 'skd://key', key: 'k', kind: 'key' }] }),
      /invalid at files\.0\.src: must be an absolute http\(s\) URL/,
    ],
    [
      JSON.stringify({ ...transfer, files: [{ src: 'http://o/a', key: 'k', kind: 'movie' }] }),
      /invalid at files\.0\.kind/,
    ],
    [JSON.stringify({ ...transfer, extra: 1 }), /invalid/],
    [JSON.stringify({ ...transfer, classId: '../etc' }), /invalid at classId/],
  ])('refuses %s as a poison message', (body, reason) => {
    expect(() => parseMessage(TransferJobSchema, body, 'transfer')).toThrow(PoisonMessageError);
    expect(() => parseMessage(TransferJobSchema, body, 'transfer')).toThrow(reason);
  });
});
