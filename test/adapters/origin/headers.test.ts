// What a response's headers say, rule by rule, at the edges a real server's answers rarely reach: the
// length an answer declares (plain digits only), the validators FLAnts keeps and sends (printable ASCII, trimmed, at most 200 characters), and when
// chunked transfer-coding frames a body (only as the last coding). Part of the mutation target
// `origin-client` (docs/testing.md); test/security/origin-client.test.ts covers the same rules end to end.
import { describe, expect, it } from 'vitest';
import { conditionalHeaders, declaredLength, isChunked, validatorsOf } from '../../../src/adapters/origin/headers.ts';

const DATE = 'Wed, 01 Apr 2026 00:00:00 GMT';

describe('the declared length', () => {
  it('a Content-Length is a length only when it is plain digits, all of it', () => {
    expect(declaredLength({ 'content-length': '10' })).toBe(10);
    expect(declaredLength({ 'content-length': '0' })).toBe(0);
    expect(declaredLength({ 'content-length': '010' })).toBe(10);
    for (const odd of ['10 ', '+10', '-1', ' 10', '1e1', '0x0a', '10.0', 'ten', '10a', 'a10', ''])
      expect(declaredLength({ 'content-length': odd }), JSON.stringify(odd)).toBeUndefined();
    expect(declaredLength({})).toBeUndefined();
    // A repeated header: the first value counts.
    expect(declaredLength({ 'content-length': ['12', '10'] })).toBe(12);
  });
});

describe('validators: kept and sent only when usable', () => {
  it('a validator is sent trimmed of the spaces around it', () => {
    expect(conditionalHeaders({ ifNoneMatch: '  "v1"\t' })).toEqual({ 'if-none-match': '"v1"' });
    expect(conditionalHeaders({ ifModifiedSince: ` ${DATE}  ` })).toEqual({ 'if-modified-since': DATE });
    expect(validatorsOf({ etag: ' W/"v2" ' })).toEqual({ etag: 'W/"v2"' });
  });

  it('a validator of 200 characters is kept; of 201, dropped (the date is sent instead of such an ETag)', () => {
    const at = `"${'x'.repeat(198)}"`;
    expect(at).toHaveLength(200);
    expect(conditionalHeaders({ ifNoneMatch: at })).toEqual({ 'if-none-match': at });
    expect(validatorsOf({ etag: at })).toEqual({ etag: at });
    const over = `"${'x'.repeat(199)}"`;
    expect(conditionalHeaders({ ifNoneMatch: over, ifModifiedSince: DATE })).toEqual({ 'if-modified-since': DATE });
    expect(validatorsOf({ etag: over })).toEqual({});
  });

  it('a validator with any character outside printable ASCII is dropped, wherever the character is', () => {
    for (const bad of ['\x01"v1"', '"v1"\x01', '"v\x7f1"', '"vé1"', '"v1"\u2028x']) {
      expect(conditionalHeaders({ ifNoneMatch: bad, ifModifiedSince: DATE }), JSON.stringify(bad)).toEqual({
        'if-modified-since': DATE,
      });
      expect(conditionalHeaders({ ifModifiedSince: bad }), JSON.stringify(bad)).toEqual({});
      expect(validatorsOf({ etag: bad }), JSON.stringify(bad)).toEqual({});
    }
    // Space and tilde are the ends of the printable range, and inside a validator they are kept.
    expect(conditionalHeaders({ ifNoneMatch: '"a b~"' })).toEqual({ 'if-none-match': '"a b~"' });
  });

  it('an empty or blank validator is none; an ETag wins over a date; a Last-Modified must be a date', () => {
    expect(conditionalHeaders({ ifNoneMatch: '   ', ifModifiedSince: '' })).toEqual({});
    expect(conditionalHeaders({})).toEqual({});
    expect(conditionalHeaders({ ifNoneMatch: '"v1"', ifModifiedSince: DATE })).toEqual({ 'if-none-match': '"v1"' });
    expect(validatorsOf({ etag: '"v1"', 'last-modified': DATE })).toEqual({ etag: '"v1"', lastModified: DATE });
    expect(validatorsOf({ etag: '', 'last-modified': 'not a date' })).toEqual({});
    // A repeated header: the first value counts.
    expect(validatorsOf({ etag: ['"a"', '"b"'] })).toEqual({ etag: '"a"' });
  });
});

describe('chunked framing', () => {
  it('chunked frames a body when it is the last transfer coding, in any case and around spaces', () => {
    expect(isChunked({ 'transfer-encoding': 'chunked' })).toBe(true);
    expect(isChunked({ 'transfer-encoding': ' Chunked ' })).toBe(true);
    expect(isChunked({ 'transfer-encoding': 'gzip, chunked' })).toBe(true);
    expect(isChunked({ 'transfer-encoding': 'gzip,chunked' })).toBe(true);
  });

  it('chunked anywhere but last does not frame the body: the connection close ends it (RFC 9112 §6.3)', () => {
    expect(isChunked({ 'transfer-encoding': 'chunked, gzip' })).toBe(false);
    expect(isChunked({ 'transfer-encoding': 'chunked,gzip' })).toBe(false);
  });

  it('repeated Transfer-Encoding headers are one list, read in order', () => {
    expect(isChunked({ 'transfer-encoding': ['gzip', 'chunked'] })).toBe(true);
    expect(isChunked({ 'transfer-encoding': ['chunked', 'gzip'] })).toBe(false);
  });

  it('no Transfer-Encoding, or another coding merely ending in "chunked", is no chunked framing', () => {
    expect(isChunked({})).toBe(false);
    expect(isChunked({ 'transfer-encoding': 'gzip' })).toBe(false);
    expect(isChunked({ 'transfer-encoding': 'xchunked' })).toBe(false);
    expect(isChunked({ 'content-length': '10' })).toBe(false);
  });
});
