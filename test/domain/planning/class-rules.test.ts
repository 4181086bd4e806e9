import { ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';
import { judgeClass, judgeEndedAt } from '../../../src/domain/planning/class-rules.ts';
// Documents as MongoDB stores them, handed to the rules as the catalog port does.
import { classIdOf, toCatalogDocument } from '../../../src/adapters/mongodb/catalog.ts';

const cfg = loadConfig({ ORIGIN_ALLOWED_HOSTS: 'cdn.example.com' });
const fields = cfg.mongo.fields;
const hosts = cfg.originAllowedHosts;
const ready = {
  _id: new ObjectId('65a000000000000000000001'),
  title: 'Intro',
  status: 'broadcast',
  isTest: false,
  manifestUrl: 'https://cdn.example.com/v/1/master.m3u8',
  endedAt: new Date(),
};

describe('catalog rules', () => {
  it('accepts a broadcast, non-test class with a manifest and an end, id as ObjectId hex', () => {
    expect(judgeClass(toCatalogDocument(ready), fields, hosts)).toEqual({
      ok: true,
      cls: {
        classId: '65a000000000000000000001',
        title: 'Intro',
        manifestUrl: 'https://cdn.example.com/v/1/master.m3u8',
        endedAt: ready.endedAt.toISOString(),
      },
    });
  });

  it('accepts string ids as they are (real MongoDB allows them; CongoDB does not, hence this unit test)', () => {
    expect(classIdOf('lecture-2024-01')).toBe('lecture-2024-01');
    expect(judgeClass(toCatalogDocument({ ...ready, _id: 'lecture-2024-01' }), fields, hosts)).toMatchObject({
      ok: true,
      cls: { classId: 'lecture-2024-01' },
    });
    expect(judgeClass(toCatalogDocument({ ...ready, _id: 'bad id/../x' }), fields, hosts)).toMatchObject({
      ok: false,
      reason: 'invalid id',
    });
  });

  it.each([
    [{ isTest: true }, 'test class'],
    [{ status: 'aborted' }, 'aborted'],
    [{ status: 'live' }, 'not broadcast yet'],
    [{ status: 'scheduled' }, 'not broadcast yet'],
    [{ manifestUrl: undefined }, 'missing manifestUrl'],
    [{ manifestUrl: '' }, 'missing manifestUrl'],
    [{ manifestUrl: 'not a url' }, 'invalid manifestUrl'],
    [{ manifestUrl: 'ftp://cdn.example.com/m.m3u8' }, 'invalid manifestUrl'],
    [{ manifestUrl: 'https://evil.example.net/m.m3u8' }, 'manifest host not allowed'],
    [{ endedAt: undefined }, 'missing endedAt'],
    [{ endedAt: 'yesterday-ish' }, 'missing endedAt'],
  ])('skips %o as %s', (patch, reason) => {
    expect(judgeClass(toCatalogDocument({ ...ready, ...patch }), fields, hosts)).toMatchObject({ ok: false, reason });
  });

  it('honours configured field names', () => {
    const custom = loadConfig({
      ORIGIN_ALLOWED_HOSTS: 'cdn.example.com',
      CATALOG_FIELDS: 'manifestUrl=hls,endedAt=finishedAt,isTest=test',
    }).mongo.fields;
    const doc = {
      _id: 'x1',
      status: 'broadcast',
      test: false,
      hls: ready.manifestUrl,
      finishedAt: new Date().toISOString(),
    };
    expect(judgeClass(toCatalogDocument(doc), custom, hosts)).toMatchObject({ ok: true });
    expect(judgeClass(toCatalogDocument({ ...doc, test: true }), custom, hosts)).toMatchObject({
      ok: false,
      reason: 'test class',
    });
  });
});

describe('endedAt plausibility (issue 18 case 8)', () => {
  const now = new Date('2026-03-01T12:00:00.000Z');
  const DAY = 24 * 3_600_000;

  it.each([
    ['the epoch (a common catalog default)', '1970-01-01T00:00:00.000Z'],
    ['a date before 2000', '1999-12-31T23:59:59.000Z'],
    ['more than a day in the future', new Date(now.getTime() + DAY + 1_000).toISOString()],
  ])('treats %s as missing, with a warning that names it', (_what, value) => {
    const verdict = judgeEndedAt(value, now);
    expect(verdict.endedAt).toBeUndefined();
    expect(verdict.warning).toBe(
      `endedAt ${value} is implausible (before 2000 or more than a day in the future); treated as missing`,
    );
  });

  it('keeps a plausible date, as an ISO instant', () => {
    expect(judgeEndedAt('2000-01-01T00:00:00Z', now)).toEqual({ endedAt: '2000-01-01T00:00:00.000Z' });
    expect(judgeEndedAt('2026-02-28T10:00:00+01:00', now)).toEqual({ endedAt: '2026-02-28T09:00:00.000Z' });
    // Clocks disagree: up to a day ahead is a skewed clock, not a default.
    const soon = new Date(now.getTime() + DAY - 1_000).toISOString();
    expect(judgeEndedAt(soon, now)).toEqual({ endedAt: soon });
  });

  it('says nothing of a missing date, and names one that is not a date', () => {
    expect(judgeEndedAt(undefined, now)).toEqual({});
    expect(judgeEndedAt('yesterday-ish', now)).toEqual({
      warning: 'endedAt "yesterday-ish" is not a date; treated as missing',
    });
  });

  it('the catalog rules still accept a class whose endedAt is implausible: the crawl job carries it, the crawler judges it', () => {
    expect(judgeClass(toCatalogDocument({ ...ready, endedAt: new Date(0) }), fields, hosts)).toMatchObject({
      ok: true,
      cls: { endedAt: '1970-01-01T00:00:00.000Z' },
    });
  });
});
