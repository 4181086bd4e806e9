// Issue 22: the pure rules of `flants verify` (src/verify/findings.ts), each comparison, boundary and branch.
import { describe, expect, it } from 'vitest';
import {
  classifyUnlisted,
  compareObject,
  countFindings,
  describeCounts,
  exitCodeOf,
  mustReadPlaylist,
  objectDifference,
  rangeEnd,
  referenceFindings,
  verdictOf,
  verifyRequests,
  type CountedFile,
  type ObjectFacts,
} from '../../src/verify/findings.ts';

const file = (f: Partial<CountedFile> = {}): CountedFile => ({
  key: 'c/h/a.ts',
  bytes: 100,
  etag: 'e1',
  crc32: 'AAAAAA==',
  playlist: false,
  ...f,
});
const head = (h: Partial<ObjectFacts> = {}): ObjectFacts => ({
  size: 100,
  etag: 'e1',
  crc32: 'AAAAAA==',
  generation: 1,
  ...h,
});

describe('compareObject', () => {
  it('the same size and CRC32 of the same generation: nothing', () => {
    expect(compareObject(file(), head(), 1)).toEqual([]);
  });
  it('no object: missing, saying what was counted', () => {
    expect(compareObject(file(), undefined, 1)).toEqual([
      { kind: 'missing', key: 'c/h/a.ts', detail: 'counted (100 bytes), not in the bucket' },
    ]);
  });
  it('another size: sizeMismatch, both sizes named (even with the same CRC32)', () => {
    expect(compareObject(file(), head({ size: 99 }), 1)).toEqual([
      { kind: 'sizeMismatch', key: 'c/h/a.ts', detail: '99 bytes in the bucket, 100 counted' },
    ]);
    expect(compareObject(file(), head({ size: 101 }), 1)[0]!.kind).toBe('sizeMismatch');
  });
  it('another CRC32: checksumMismatch, both named; the ETag is not looked at then', () => {
    expect(compareObject(file(), head({ crc32: 'BBBBBB==', etag: 'e1' }), 1)).toEqual([
      { kind: 'checksumMismatch', key: 'c/h/a.ts', detail: 'CRC32 BBBBBB== in the bucket, AAAAAA== counted' },
    ]);
    expect(compareObject(file(), head({ etag: 'other' }), 1)).toEqual([]);
  });
  it('no CRC32 on either side: the ETag decides (quotes ignored)', () => {
    expect(compareObject(file({ crc32: undefined }), head({ etag: '"e2"' }), 1)).toEqual([
      { kind: 'checksumMismatch', key: 'c/h/a.ts', detail: 'ETag e2 in the bucket, e1 counted' },
    ]);
    expect(compareObject(file(), head({ crc32: undefined, etag: '"e1"' }), 1)).toEqual([]);
    expect(compareObject(file({ crc32: undefined, etag: '' }), head({ etag: 'x' }), 1)).toEqual([]);
    expect(compareObject(file({ crc32: undefined }), head({ etag: undefined }), 1)).toEqual([]);
  });
  it('an object of a newer generation than the ledger: ledgerBehindBucket alone, with what differs', () => {
    expect(compareObject(file(), head({ generation: 2 }), 1)).toEqual([
      {
        kind: 'ledgerBehindBucket',
        key: 'c/h/a.ts',
        detail: "the bucket's object was written by generation 2, the ledger is at generation 1",
      },
    ]);
    expect(compareObject(file(), head({ generation: 3, size: 7 }), 2)[0]!.detail).toBe(
      "the bucket's object was written by generation 3, the ledger is at generation 2 (7 bytes in the bucket, 100 counted)",
    );
  });
  it('an object of the same or an older generation (kept unchanged by a later copy) or none: compared as usual', () => {
    expect(compareObject(file(), head({ generation: 2 }), 2)).toEqual([]);
    expect(compareObject(file(), head({ generation: 1, size: 5 }), 2)[0]!.kind).toBe('sizeMismatch');
    expect(compareObject(file(), head({ generation: undefined }), 2)).toEqual([]);
  });
  it('objectDifference: undefined when equal', () => {
    expect(objectDifference(file(), head())).toBeUndefined();
  });
});

describe('mustReadPlaylist', () => {
  const pl = file({ playlist: true });
  it('not a playlist, or no object: never read', () => {
    expect(mustReadPlaylist(file(), head({ crc32: 'x' }), true)).toBe(false);
    expect(mustReadPlaylist(pl, undefined, true)).toBe(false);
  });
  it('a playlist whose CRC32 is the one recorded: not read, unless the class has findings on objects', () => {
    expect(mustReadPlaylist(pl, head(), false)).toBe(false);
    expect(mustReadPlaylist(pl, head(), true)).toBe(true);
  });
  it('changed, or either CRC32 unknown: read', () => {
    expect(mustReadPlaylist(pl, head({ crc32: 'x' }), false)).toBe(true);
    expect(mustReadPlaylist(file({ playlist: true, crc32: undefined }), head(), false)).toBe(true);
    expect(mustReadPlaylist(pl, head({ crc32: undefined }), false)).toBe(true);
    // Neither known: two unknowns are not a match.
    expect(mustReadPlaylist(file({ playlist: true, crc32: undefined }), head({ crc32: undefined }), false)).toBe(true);
  });
});

describe('rangeEnd and referenceFindings', () => {
  it('reads length@offset, nothing else', () => {
    expect(rangeEnd('10@5')).toBe(15);
    expect(rangeEnd(' 10@0 ')).toBe(10);
    expect(rangeEnd('10')).toBeUndefined();
    expect(rangeEnd('a@1')).toBeUndefined();
    expect(rangeEnd('1@2@3')).toBeUndefined();
  });
  const sizes = new Map([
    ['k/seg.ts', 100],
    ['k/empty.ts', 0],
  ]);
  const sizeOf = (k: string) => sizes.get(k);
  it('a reference to an object that exists, whole or with a range ending within or at its end: nothing', () => {
    expect(
      referenceFindings(
        'k/p.m3u8',
        [
          { uri: 'seg.ts', key: 'k/seg.ts' },
          { uri: 'seg.ts', key: 'k/seg.ts', range: '100@0' },
          { uri: 'seg.ts', key: 'k/seg.ts', range: '1@99' },
          { uri: 'empty.ts', key: 'k/empty.ts' },
        ],
        sizeOf,
      ),
    ).toEqual([]);
  });
  it('a range one byte past the end: rangeBeyondObject, naming range, end and size', () => {
    expect(referenceFindings('k/p.m3u8', [{ uri: 'seg.ts', key: 'k/seg.ts', range: '2@99' }], sizeOf)).toEqual([
      {
        kind: 'rangeBeyondObject',
        key: 'k/p.m3u8',
        target: 'k/seg.ts',
        detail: 'byte range 2@99 of k/seg.ts ends at 101, the object has 100 bytes',
      },
    ]);
  });
  it('an unreadable range: rangeBeyondObject saying so', () => {
    expect(referenceFindings('k/p.m3u8', [{ uri: 's', key: 'k/seg.ts', range: 'x' }], sizeOf)[0]).toEqual({
      kind: 'rangeBeyondObject',
      key: 'k/p.m3u8',
      target: 'k/seg.ts',
      detail: 'byte range "x" of k/seg.ts cannot be read',
    });
  });
  it('no object, or no key at all: danglingReference', () => {
    expect(
      referenceFindings(
        'k/p.m3u8',
        [
          { uri: 'gone.ts', key: 'k/gone.ts', range: '1@0' },
          { uri: '../../x', error: 'escapes' },
        ],
        sizeOf,
      ),
    ).toEqual([
      {
        kind: 'danglingReference',
        key: 'k/p.m3u8',
        target: 'k/gone.ts',
        detail: 'gone.ts names k/gone.ts, which is not in the bucket',
      },
      { kind: 'danglingReference', key: 'k/p.m3u8', detail: '../../x resolves to no key: escapes' },
    ]);
  });
});

describe('classifyUnlisted', () => {
  it('gone since the listing, or written by an earlier generation (kept on purpose): no finding', () => {
    expect(classifyUnlisted('k', undefined, 2)).toBeUndefined();
    expect(classifyUnlisted('k', { generation: 1, size: 3 }, 2)).toBeUndefined();
  });
  it("in a class not yet COMPLETE, its own generation's objects are files of chunks not counted yet; others are judged as usual", () => {
    expect(classifyUnlisted('k', { generation: 2, size: 3 }, 2, false)).toBeUndefined();
    expect(classifyUnlisted('k', { generation: undefined, size: 3 }, 2, false)!.kind).toBe('unexpected');
    expect(classifyUnlisted('k', { generation: 3, size: 3 }, 2, false)!.kind).toBe('ledgerBehindBucket');
    expect(classifyUnlisted('k', { generation: 1, size: 3 }, 2, false)).toBeUndefined();
    expect(classifyUnlisted('k', { generation: 2, size: 3 }, 2, true)!.kind).toBe('unexpected');
  });

  it('written by a newer generation: ledgerBehindBucket', () => {
    expect(classifyUnlisted('k', { generation: 3, size: 3 }, 2)).toEqual({
      kind: 'ledgerBehindBucket',
      key: 'k',
      detail: "not in the ledger's generation 2, written by generation 3",
    });
  });
  it("no generation, or this generation's: unexpected", () => {
    expect(classifyUnlisted('k', { generation: undefined, size: 3 }, 2)).toEqual({
      kind: 'unexpected',
      key: 'k',
      detail: '3 bytes under the class root, not in the plan of generation 2',
    });
    expect(classifyUnlisted('k', { generation: 2, size: 3 }, 2)!.detail).toBe(
      '3 bytes under the class root, not in the plan of generation 2 (yet written by it)',
    );
  });
});

describe('counts, verdicts and exit codes', () => {
  it('counts per kind and describes them in the fixed order', () => {
    const c = countFindings([{ kind: 'unexpected' }, { kind: 'missing' }, { kind: 'unexpected' }]);
    expect(c).toEqual({ missing: 1, unexpected: 2 });
    expect(describeCounts(c)).toBe('missing 1, unexpected 2');
    expect(describeCounts({})).toBe('OK');
    expect(describeCounts({ missing: 0 })).toBe('OK');
  });
  it('verdicts: an error wins, then any finding', () => {
    expect(verdictOf({}, false)).toBe('OK');
    expect(verdictOf({ missing: 0 }, false)).toBe('OK');
    expect(verdictOf({ missing: 1 }, false)).toBe('FINDINGS');
    expect(verdictOf({ missing: 1 }, true)).toBe('ERROR');
  });
  it('exit 0 only when every class is OK, 1 on findings, 2 when any could not be verified', () => {
    expect(exitCodeOf([])).toBe(0);
    expect(exitCodeOf(['OK', 'OK'])).toBe(0);
    expect(exitCodeOf(['OK', 'FINDINGS', 'OK'])).toBe(1);
    expect(exitCodeOf(['FINDINGS', 'ERROR'])).toBe(2);
    expect(exitCodeOf(['ERROR', 'FINDINGS'])).toBe(2);
  });
  it('requests: a LIST per 1,000 keys (at least one), a HEAD per file, GETs for playlists read or every file with --deep', () => {
    expect(verifyRequests(0)).toEqual({ list: 1, head: 0, get: 0 });
    expect(verifyRequests(1000)).toEqual({ list: 1, head: 1000, get: 0 });
    expect(verifyRequests(1001, { playlistsRead: 3 })).toEqual({ list: 2, head: 1001, get: 3 });
    expect(verifyRequests(200_000, { deep: true, playlistsRead: 5 })).toEqual({
      list: 200,
      head: 200_000,
      get: 200_000,
    });
    expect(verifyRequests(10, { listed: 2500 })).toEqual({ list: 3, head: 10, get: 0 });
  });
});
