// What the catalog rules accept, and how a refusal names its cause: bounded (a hostile document
// cannot flood the scan's summary) and specific enough to fix the document.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';
import { judgeClass } from '../../../src/domain/planning/class-rules.ts';
// Documents as MongoDB stores them, handed to the rules as the catalog port does.
import { toCatalogDocument } from '../../../src/adapters/mongodb/catalog.ts';

const cfg = loadConfig({ ORIGIN_ALLOWED_HOSTS: 'cdn.example.com' });
const fields = cfg.mongo.fields;
const hosts = cfg.originAllowedHosts;
const ready = {
  _id: 'class-1',
  title: 'Intro',
  status: 'broadcast',
  isTest: false,
  manifestUrl: 'https://cdn.example.com/v/1/master.m3u8',
  endedAt: '2024-03-01T10:00:00.000Z',
};

describe('catalog rules: what is accepted', () => {
  it('accepts an http:// manifest as well as https:// (an origin on plain http is still an origin)', () => {
    expect(
      judgeClass(toCatalogDocument({ ...ready, manifestUrl: 'http://cdn.example.com/v/1/master.m3u8' }), fields, hosts),
    ).toEqual({
      ok: true,
      cls: {
        classId: 'class-1',
        title: 'Intro',
        manifestUrl: 'http://cdn.example.com/v/1/master.m3u8',
        endedAt: '2024-03-01T10:00:00.000Z',
      },
    });
  });

  it('trims any whitespace around the manifest URL, a pasted non-breaking space included', () => {
    const v = judgeClass(
      toCatalogDocument({ ...ready, manifestUrl: '\u00a0 https://cdn.example.com/m.m3u8\u00a0\n' }),
      fields,
      hosts,
    );
    expect(v).toMatchObject({ ok: true, cls: { manifestUrl: 'https://cdn.example.com/m.m3u8' } });
  });

  it('counts a manifest URL of only whitespace as missing, not as invalid', () => {
    expect(judgeClass(toCatalogDocument({ ...ready, manifestUrl: ' \t ' }), fields, hosts)).toEqual({
      ok: false,
      classId: 'class-1',
      reason: 'missing manifestUrl',
    });
  });

  it('accepts ids of letters, digits, "_", "-", "." and ":" up to 128 characters, and no longer', () => {
    for (const id of ['a', 'lecture.2024:01_b-c', 'x'.repeat(128)])
      expect(judgeClass(toCatalogDocument({ ...ready, _id: id }), fields, hosts)).toMatchObject({
        ok: true,
        cls: { classId: id },
      });
    for (const id of ['', 'x'.repeat(129), 'a b', 'a/b', 'ü', '../a', 'a\n'])
      expect(judgeClass(toCatalogDocument({ ...ready, _id: id }), fields, hosts)).toMatchObject({
        ok: false,
        reason: 'invalid id',
      });
  });

  it('keeps the first 1024 characters of a long title', () => {
    const v = judgeClass(toCatalogDocument({ ...ready, title: 't'.repeat(5000) }), fields, hosts);
    expect(v).toMatchObject({ ok: true, cls: { title: 't'.repeat(1024) } });
  });
});

describe('catalog rules: what a refusal says', () => {
  it('names an invalid id by its first 64 characters and says which characters an id may hold', () => {
    expect(judgeClass(toCatalogDocument({ ...ready, _id: `${'y'.repeat(100)} z` }), fields, hosts)).toEqual({
      ok: false,
      classId: 'y'.repeat(64),
      reason: 'invalid id',
      detail: 'ids may hold letters, digits, "_", "-", ".", ":"',
    });
  });

  it('says which status a class not yet broadcast has, null when it has none', () => {
    expect(judgeClass(toCatalogDocument({ ...ready, status: 'live' }), fields, hosts)).toMatchObject({
      detail: 'status is "live"',
    });
    expect(judgeClass(toCatalogDocument({ ...ready, status: undefined }), fields, hosts)).toMatchObject({
      reason: 'not broadcast yet',
      detail: 'status is null',
    });
  });

  it('quotes an unparsable manifest URL, cut to 200 characters', () => {
    const bad = `not a url ${'q'.repeat(300)}`;
    expect(judgeClass(toCatalogDocument({ ...ready, manifestUrl: bad }), fields, hosts)).toEqual({
      ok: false,
      classId: 'class-1',
      reason: 'invalid manifestUrl',
      detail: bad.slice(0, 200),
    });
  });

  it('names the scheme of a manifest URL that is not http(s)', () => {
    expect(
      judgeClass(toCatalogDocument({ ...ready, manifestUrl: 'ftp://cdn.example.com/m.m3u8' }), fields, hosts),
    ).toMatchObject({
      reason: 'invalid manifestUrl',
      detail: 'scheme ftp:',
    });
  });

  it('names the host and the setting when the manifest host is not allowed', () => {
    expect(
      judgeClass(toCatalogDocument({ ...ready, manifestUrl: 'https://evil.example.net:8443/m.m3u8' }), fields, hosts),
    ).toEqual({
      ok: false,
      classId: 'class-1',
      reason: 'manifest host not allowed',
      detail: 'host evil.example.net:8443 is not in ORIGIN_ALLOWED_HOSTS',
    });
  });
});
