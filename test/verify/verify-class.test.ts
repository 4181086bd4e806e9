// Issue 22: the verify engine over an in-memory ledger and bucket, for what the local stack's library does not have.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { LandedFile } from '../../src/domain/ledger/records.ts';
import type { ObjectHead } from '../../src/domain/ports/object-store.ts';
import { verifyClass } from '../../src/verify/verify-class.ts';

const root = 'p/c1/';
function fixture(objects: Record<string, string>, landed: LandedFile[]) {
  const ledger = {
    getClass: () => Promise.resolve({ classId: 'c1', status: 'COMPLETE' as const, gen: 1 }),
    async *eachChunk() {
      await Promise.resolve();
      yield { chunk: 0, files: landed };
    },
  };
  const store = {
    async *list(prefix: string) {
      await Promise.resolve();
      for (const [key, body] of Object.entries(objects))
        if (key.startsWith(prefix)) yield { key, size: Buffer.byteLength(body), etag: undefined };
    },
    head: (key: string): Promise<ObjectHead | undefined> =>
      Promise.resolve(
        objects[key] === undefined
          ? undefined
          : {
              key,
              size: Buffer.byteLength(objects[key]),
              etag: undefined,
              crc32: undefined,
              generation: 1,
              metadata: {},
            },
      ),
    get: (key: string) => Promise.resolve(Readable.from([Buffer.from(objects[key] ?? '')])),
  };
  return { ledger, store };
}

describe('verifyClass (in memory)', () => {
  it('a DASH manifest read again is not parsed as an HLS playlist (no false playlistUnparsable)', async () => {
    const mpd = '<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static"></MPD>';
    const key = `${root}h/manifest.mpd`;
    const { ledger, store } = fixture({ [key]: mpd }, [{ key, bytes: Buffer.byteLength(mpd), etag: '', sha256: 'x' }]);
    const v = await verifyClass('c1', ledger, store, { destPrefix: 'p/', maxPlaylistBytes: 1 << 20 });
    expect(v).toMatchObject({ verdict: 'OK', playlistsRead: 1, findings: [] });
  });

  it('a copied HLS playlist that no longer parses is playlistUnparsable; a reference without a key dangles', async () => {
    const bad = `${root}h/a.m3u8`;
    const esc = `${root}h/b.m3u8`;
    const text = '#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nhttps://h/%2e%2e/%2e%2e/x.ts\n#EXT-X-ENDLIST\n';
    const { ledger, store } = fixture({ [bad]: 'not a playlist', [esc]: text }, [
      { key: bad, bytes: 14, etag: '', sha256: 'x' },
      { key: esc, bytes: Buffer.byteLength(text), etag: '', sha256: 'y' },
    ]);
    const v = await verifyClass('c1', ledger, store, { destPrefix: 'p/', maxPlaylistBytes: 1 << 20 });
    expect(v.findings.map((f) => [f.kind, f.key])).toEqual(
      expect.arrayContaining([
        ['playlistUnparsable', bad],
        ['danglingReference', esc],
      ]),
    );
    expect(v.findings).toHaveLength(2);
  });

  it('a class not in the ledger is an ERROR saying so', async () => {
    const v = await verifyClass(
      'nope',
      { getClass: () => Promise.resolve(undefined), eachChunk: fixture({}, []).ledger.eachChunk },
      fixture({}, []).store,
      { destPrefix: 'p/', maxPlaylistBytes: 1 },
    );
    expect(v).toMatchObject({
      verdict: 'ERROR',
      error: 'class nope is not in the ledger',
      result: 'could not verify: class nope is not in the ledger',
    });
  });
});
