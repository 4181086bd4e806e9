import { describe, expect, it } from 'vitest';
import { PoisonMessageError } from '../../src/errors.ts';
import { CrawlJobSchema, parseMessage, ScanRequestSchema, TransferJobSchema } from '../../src/jobs/schemas.ts';

const transfer = { v: 2, type: 'transfer', classId: 'abc', gen: 1, planId: '0123456789abcdef', chunk: 3, files: [{ src: 'https://cdn/a.ts', key: 'a.ts', kind: 'segment' }] };

describe('message schemas', () => {
  it('accepts every message kind FLAnts sends', () => {
    expect(parseMessage(ScanRequestSchema, '{"v":2,"type":"scan","mode":"catalog"}', 'scan')).toEqual({ v: 2, type: 'scan', mode: 'catalog' });
    expect(parseMessage(ScanRequestSchema, '{"v":2,"type":"scan","mode":"class","classId":"x-1","force":true}', 'scan')).toMatchObject({ classId: 'x-1', force: true });
    expect(parseMessage(CrawlJobSchema, JSON.stringify({ v: 2, type: 'crawl', classId: 'c', manifestUrl: 'http://o/m.m3u8' }), 'crawl').classId).toBe('c');
    expect(parseMessage(TransferJobSchema, JSON.stringify(transfer), 'transfer').files).toHaveLength(1);
  });

  it.each([
    ['not json', /not JSON/],
    ['{"v":1,"type":"transfer"}', /schema version 1; this build reads version 2/],
    [JSON.stringify({ ...transfer, gen: 0 }), /invalid at gen/],
    [JSON.stringify({ ...transfer, files: [{ src: 'https://cdn/a.m3u8', key: 'a.m3u8', kind: 'playlist', sha256: 'abc' }] }), /invalid at files\.0\.sha256/],
    [JSON.stringify({ ...transfer, chunk: -1 }), /invalid at chunk/],
    [JSON.stringify({ ...transfer, files: [] }), /invalid at files/],
    [JSON.stringify({ ...transfer, files: [{ src: 'skd://key', key: 'k', kind: 'key' }] }), /invalid at files\.0\.src: must be an absolute http\(s\) URL/],
    [JSON.stringify({ ...transfer, files: [{ src: 'http://o/a', key: 'k', kind: 'movie' }] }), /invalid at files\.0\.kind/],
    [JSON.stringify({ ...transfer, extra: 1 }), /invalid/],
    [JSON.stringify({ ...transfer, classId: '../etc' }), /invalid at classId/],
  ])('refuses %s as a poison message', (body, reason) => {
    expect(() => parseMessage(TransferJobSchema, body, 'transfer')).toThrow(PoisonMessageError);
    expect(() => parseMessage(TransferJobSchema, body, 'transfer')).toThrow(reason);
  });
});
