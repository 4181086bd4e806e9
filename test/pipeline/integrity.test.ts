// What the transfer counts as a verified copy: S3's CRC32 when it reports one, a plain MD5 ETag
// otherwise, and nothing else; and the body checker's counts, exact at every boundary.
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyStored } from '../../src/pipeline/integrity.ts';
import {
  BodyChecker,
  expectedCrc32,
  expectedEtag,
  readDigest,
  type StreamDigest,
} from '../../src/pipeline/body-checker.ts';
import { etagNotMd5Under } from '../../src/adapters/s3/upload.ts';
import { crc32Base64 } from '../../src/util/crc.ts';
import { transferDigest, uploadResult } from '../helpers/upload-digest.ts';

const PART = 4096;
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

/** The digest a transfer verifies with: the checker's, plus the CRC32s the uploader sent. */
const digestOf = (data: Buffer, opts: { expectedBytes?: number; md5?: boolean } = {}): StreamDigest =>
  transferDigest(data, { partSize: PART, url: 'https://o/x', ...opts });

const stored = uploadResult;

function failure(fn: () => unknown): { code: string; retryable: boolean; message: string } {
  try {
    fn();
  } catch (err) {
    return err as { code: string; retryable: boolean; message: string };
  }
  throw new Error('expected a refusal');
}

describe('verifyStored: a CRC32 reported by S3 decides', () => {
  const data = randomBytes(10_000);
  const d = digestOf(data);

  it('accepts a matching full-object or composite CRC32, whatever the ETag or encryption says', () => {
    const full = { crc32: expectedCrc32(d, 'FULL_OBJECT'), composite: false };
    expect(
      verifyStored(
        'k',
        d,
        stored({ checksum: full, etag: 'not-an-md5', etagNotMd5: etagNotMd5Under('aws:kms') }),
        PART,
      ),
    ).toBe('crc32');
    const composite = { crc32: expectedCrc32(d, 'COMPOSITE'), composite: true };
    expect(verifyStored('k', d, stored({ checksum: composite }), PART)).toBe('crc32');
  });

  it('refuses a CRC32 that differs, retryably, naming both values and the key', () => {
    const e = failure(() =>
      verifyStored(
        'media/a.ts',
        d,
        stored({ checksum: { crc32: crc32Base64(1), composite: false }, etag: md5(data) }),
        PART,
      ),
    );
    expect(e).toMatchObject({ code: 'CHECKSUM_MISMATCH', retryable: true });
    expect(e.message).toBe(
      `S3 stored media/a.ts with CRC32 AAAAAQ== (FULL_OBJECT), expected ${expectedCrc32(d, 'FULL_OBJECT')} from the bytes streamed`,
    );
  });
});

describe('verifyStored: without a CRC32, an MD5 ETag only where it is one', () => {
  const small = randomBytes(1000);
  const ds = digestOf(small);

  it('accepts a single-part ETag equal to the MD5, unencrypted or under SSE-S3', () => {
    expect(verifyStored('k', ds, stored({ etag: md5(small) }), PART)).toBe('md5-etag');
    expect(verifyStored('k', ds, stored({ etag: md5(small), etagNotMd5: etagNotMd5Under('AES256') }), PART)).toBe(
      'md5-etag',
    );
  });

  it('accepts a multipart ETag equal to the MD5 of the part MD5s', () => {
    const data = randomBytes(10_000);
    const d = digestOf(data, { expectedBytes: 10_000 });
    expect(d.md5).toBeUndefined();
    expect(verifyStored('k', d, stored({ etag: expectedEtag(d, PART) }), PART)).toBe('md5-etag');
  });

  it('accepts the ETag of an upload of ten parts or more', () => {
    const data = randomBytes(10 * PART + 1);
    const d = digestOf(data, { expectedBytes: data.length });
    expect(expectedEtag(d, PART)).toMatch(/-11$/);
    expect(verifyStored('k', d, stored({ etag: expectedEtag(d, PART) }), PART)).toBe('md5-etag');
  });

  it('names both forms it would have accepted when the length was not known', () => {
    const data = randomBytes(2 * PART);
    const d = digestOf(data);
    const e = failure(() => verifyStored('k', d, stored({ etag: 'e'.repeat(32) }), PART));
    expect(e.message).toBe(
      `S3 stored k with ETag ${'e'.repeat(32)}, expected ${md5(data)} or ${expectedEtag(d, PART)}`,
    );
  });

  it('refuses an MD5-shaped ETag that differs, retryably, naming what it expected', () => {
    const e = failure(() => verifyStored('k', ds, stored({ etag: 'e'.repeat(32) }), PART));
    expect(e).toMatchObject({ code: 'CHECKSUM_MISMATCH', retryable: true });
    expect(e.message).toBe(`S3 stored k with ETag ${'e'.repeat(32)}, expected ${md5(small)}`);
  });

  it('never compares an ETag under KMS, DSSE or customer keys: it cannot be verified, and retrying will not help', () => {
    for (const sse of ['aws:kms', 'aws:kms:dsse', 'AES256-C']) {
      const e = failure(() =>
        verifyStored('k', ds, stored({ etag: md5(small), etagNotMd5: etagNotMd5Under(sse) }), PART),
      );
      expect(e).toMatchObject({ code: 'CHECKSUM_UNAVAILABLE', retryable: false });
      expect(e.message).toContain(`under ${sse} encryption`);
    }
  });

  it('cannot verify without an ETag, with one that is no MD5, or without MD5s of the body: retryable', () => {
    const noMd5 = digestOf(small, { md5: false });
    for (const [d, etag] of [
      [ds, undefined],
      [ds, ''],
      [ds, 'W/"abc"'],
      [ds, `${md5(small)}x`],
      [ds, `x${md5(small)}`],
      [ds, md5(small).toUpperCase()],
      [noMd5, md5(small)],
    ] as const) {
      const e = failure(() => verifyStored('k', d, stored({ etag }), PART));
      expect(e).toMatchObject({ code: 'CHECKSUM_UNAVAILABLE', retryable: true });
      expect(e.message).toBe(
        `cannot verify k: S3 reported no checksum and ETag ${etag || '(none)'} cannot be compared with what was streamed`,
      );
    }
  });
});

describe('BodyChecker: exact counts', () => {
  const checker = (o: { expectedBytes?: number; maxBytes?: number; md5?: boolean } = {}) =>
    new BodyChecker({
      partSize: PART,
      expectedBytes: o.expectedBytes,
      maxBytes: o.maxBytes ?? 1e9,
      url: 'https://o/x',
      ...(o.md5 === undefined ? {} : { md5: o.md5 }),
    });

  it('takes exactly the cap and exactly the declared length; one byte more is refused', () => {
    const atCap = checker({ maxBytes: 100 });
    atCap.take(Buffer.alloc(100));
    expect(() => atCap.take(Buffer.alloc(1))).toThrow(
      expect.objectContaining({
        code: 'FILE_TOO_LARGE',
        message: 'https://o/x is over the 100-byte cap (TRANSFER_MAX_FILE_MB)',
      }),
    );
    const atLength = checker({ expectedBytes: 100 });
    atLength.take(Buffer.alloc(100));
    atLength.end();
    expect(atLength.digest().bytes).toBe(100);
    expect(() => atLength.take(Buffer.alloc(1))).toThrow(
      expect.objectContaining({
        message: 'origin sent more than its Content-Length 100 for https://o/x',
      }),
    );
  });

  it('says how many bytes of how many arrived when a body falls short', () => {
    const short = checker({ expectedBytes: 150 });
    short.take(Buffer.alloc(100));
    expect(() => short.end()).toThrow(
      expect.objectContaining({ message: 'origin sent 100 of 150 bytes for https://o/x' }),
    );
  });

  it('hashes an empty body as one empty part', () => {
    const empty = checker();
    empty.end();
    const d = empty.digest();
    expect(d).toEqual({ bytes: 0, md5: md5(Buffer.alloc(0)), partMd5s: [md5(Buffer.alloc(0))] });
    expect(expectedEtag(d, PART)).toBe(md5(Buffer.alloc(0)));
  });

  it('with a length of exactly one part, hashes the whole body only; one byte more, the parts only', () => {
    const data = randomBytes(PART + 1);
    const one = digestOf(data.subarray(0, PART), { expectedBytes: PART });
    expect(one.md5).toBe(md5(data.subarray(0, PART)));
    expect(one.partMd5s).toEqual([md5(data.subarray(0, PART))]);
    const two = digestOf(data, { expectedBytes: PART + 1 });
    expect(two.md5).toBeUndefined();
    expect(two.partMd5s).toEqual([md5(data.subarray(0, PART)), md5(data.subarray(PART))]);
  });

  it('with an unknown length, hashes both the whole body and its parts', () => {
    const data = randomBytes(2 * PART);
    const d = digestOf(data);
    expect(d.md5).toBe(md5(data));
    expect(d.partMd5s).toEqual([md5(data.subarray(0, PART)), md5(data.subarray(PART))]);
    expect(d.bytes).toBe(2 * PART);
  });

  it('hashes nothing when told not to', () => {
    expect(digestOf(randomBytes(10), { md5: false })).toMatchObject({ md5: undefined, partMd5s: undefined });
  });

  it('derives the ETag from the parts only above one part', () => {
    const md5s = [md5(Buffer.from('a')), md5(Buffer.from('b'))];
    expect(expectedEtag({ bytes: PART, md5: 'whole', partMd5s: md5s }, PART)).toBe('whole');
    expect(expectedEtag({ bytes: PART + 1, md5: 'whole', partMd5s: undefined }, PART)).toBeUndefined();
    const joined = Buffer.concat(md5s.map((h) => Buffer.from(h, 'hex')));
    expect(expectedEtag({ bytes: PART + 1, md5: undefined, partMd5s: md5s }, PART)).toBe(
      `${createHash('md5').update(joined).digest('hex')}-2`,
    );
  });
});

describe('a body nothing framed: its second read must be the first one, byte for byte', () => {
  const data = Buffer.from('a body only the connection close ends');
  const firstRead = { bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
  const reread = (body: Buffer) => {
    const c = new BodyChecker({
      partSize: PART,
      expectedBytes: undefined,
      maxBytes: 1e9,
      url: 'https://o/x',
      firstRead,
    });
    c.take(body);
    return () => c.end();
  };

  it('accepts the same bytes', () => {
    expect(reread(data)).not.toThrow();
  });

  it('refuses a shorter read, saying both lengths, retryably', () => {
    expect(reread(data.subarray(0, 10))).toThrow(
      expect.objectContaining({
        code: 'ORIGIN_UNFRAMED_MISMATCH',
        retryable: true,
        message: expect.stringContaining(`two reads disagree (${data.length} bytes, then 10), so neither is counted`),
      }),
    );
  });

  it('refuses other bytes of the same length, saying they are other ones', () => {
    const other = Buffer.from(data);
    other[0] = other[0]! ^ 1;
    expect(reread(other)).toThrow(
      expect.objectContaining({
        code: 'ORIGIN_UNFRAMED_MISMATCH',
        message: expect.stringContaining(`(${data.length} bytes, then ${data.length} other ones)`),
      }),
    );
  });
});

describe('readDigest: the first read of an unframed body', () => {
  async function* pieces(...chunks: Buffer[]) {
    for (const c of chunks) yield c;
  }

  it('gives its length and SHA-256, whatever the pieces', async () => {
    const data = randomBytes(1000);
    expect(await readDigest(pieces(data.subarray(0, 1), data.subarray(1)), 1000, 'https://o/x')).toEqual({
      bytes: 1000,
      sha256: createHash('sha256').update(data).digest('hex'),
    });
    expect(await readDigest(pieces(), 10, 'https://o/x')).toEqual({
      bytes: 0,
      sha256: createHash('sha256').update('').digest('hex'),
    });
  });

  it('refuses a body over the cap at the piece that crosses it', async () => {
    await expect(readDigest(pieces(Buffer.alloc(60), Buffer.alloc(41)), 100, 'https://o/x')).rejects.toMatchObject({
      code: 'FILE_TOO_LARGE',
      retryable: false,
      message: 'https://o/x is over the 100-byte cap (TRANSFER_MAX_FILE_MB)',
    });
  });
});

describe('BodyChecker: messages and part edges', () => {
  it('says a playlist changed, with the bytes it got', () => {
    const c = new BodyChecker({
      partSize: PART,
      expectedBytes: undefined,
      maxBytes: 1e9,
      url: 'https://o/p.m3u8',
      expectedSha256: '0'.repeat(64),
    });
    c.take(Buffer.from('#EXTM3U\n'));
    expect(() => c.end()).toThrow(
      expect.objectContaining({
        code: 'PLAYLIST_CHANGED',
        retryable: false,
        message:
          'https://o/p.m3u8 changed at the origin since the class was crawled (8 bytes, not the ones enumerated)',
      }),
    );
  });

  it('ends no extra part when the body ends on a part boundary, and one when it ends inside a part', () => {
    const data = randomBytes(2 * PART + 1);
    expect(digestOf(data.subarray(0, 2 * PART)).partMd5s).toHaveLength(2);
    expect(digestOf(data).partMd5s).toHaveLength(3);
    expect(digestOf(data, { expectedBytes: 2 * PART + 1 }).partMd5s).toEqual([
      md5(data.subarray(0, PART)),
      md5(data.subarray(PART, 2 * PART)),
      md5(data.subarray(2 * PART)),
    ]);
  });
});
