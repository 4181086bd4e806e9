import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { crc32 } from 'node:zlib';
import { BodyChecker, expectedCrc32, expectedEtag } from '../../src/pipeline/body-checker.ts';
import { crc32Base64 } from '../../src/util/crc.ts';

/** Feeds `data` to a checker in `chunk`-byte pieces, as a body arrives, and ends it (a refusal rejects). */
async function run(
  data: Buffer,
  opts: { partSize: number; expectedBytes?: number; maxBytes?: number; md5?: boolean },
  chunk = 777,
) {
  const v = new BodyChecker({
    partSize: opts.partSize,
    expectedBytes: opts.expectedBytes,
    maxBytes: opts.maxBytes ?? 1e9,
    url: 'http://o/x',
    ...(opts.md5 === undefined ? {} : { md5: opts.md5 }),
  });
  for (let i = 0; i < data.length; i += chunk) v.take(data.subarray(i, i + chunk));
  v.end();
  return v.digest();
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

describe('BodyChecker, fed a body in pieces', () => {
  it('computes S3 ETags for single and multipart uploads, whatever the chunking', async () => {
    const data = randomBytes(10_000);
    const d = await run(data, { partSize: 4096 });
    expect(d.bytes).toBe(10_000);
    expect(d.md5).toBe(md5(data));
    const parts = [data.subarray(0, 4096), data.subarray(4096, 8192), data.subarray(8192)];
    const composite = createHash('md5')
      .update(Buffer.concat(parts.map((p) => createHash('md5').update(p).digest())))
      .digest('hex');
    expect(expectedEtag(d, 4096)).toBe(`${composite}-3`);
    const small = await run(data.subarray(0, 100), { partSize: 4096 });
    expect(expectedEtag(small, 4096)).toBe(md5(data.subarray(0, 100)));
  });

  it('fails a body shorter than its Content-Length, as retryable', async () => {
    await expect(run(randomBytes(100), { partSize: 4096, expectedBytes: 150 })).rejects.toMatchObject({
      code: 'ORIGIN_TRUNCATED',
      retryable: true,
    });
  });

  it('fails a body longer than its Content-Length or the size cap', async () => {
    await expect(run(randomBytes(200), { partSize: 4096, expectedBytes: 150 })).rejects.toMatchObject({
      code: 'ORIGIN_LENGTH_MISMATCH',
    });
    await expect(run(randomBytes(200), { partSize: 4096, maxBytes: 100 })).rejects.toMatchObject({
      code: 'FILE_TOO_LARGE',
      retryable: false,
    });
  });

  it('with a known length, hashes only the MD5 form the upload uses', async () => {
    const data = randomBytes(10_000);
    const multi = await run(data, { partSize: 4096, expectedBytes: 10_000 });
    expect(multi.md5).toBeUndefined();
    expect(multi.partMd5s).toHaveLength(3);
    expect(expectedEtag(multi, 4096)).toMatch(/^[0-9a-f]{32}-3$/);
    const single = await run(data.subarray(0, 4096), { partSize: 4096, expectedBytes: 4096 });
    expect(single.md5).toBe(md5(data.subarray(0, 4096)));
    const none = await run(data, { partSize: 4096, md5: false });
    expect(none.md5).toBeUndefined();
    expect(expectedEtag(none, 4096)).toBeUndefined();
  });
});

describe('expectedCrc32', () => {
  it('derives the checksums S3 reports from the CRC32s sent: whole object, and composite of the parts', () => {
    const data = randomBytes(10_000);
    const parts = [data.subarray(0, 4096), data.subarray(4096, 8192), data.subarray(8192)];
    const d = { crc32: crc32(data), partCrc32s: parts.map((p) => crc32(p)) };
    expect(expectedCrc32(d, 'FULL_OBJECT')).toBe(crc32Base64(crc32(data)));
    const joined = Buffer.concat(parts.map((p) => Buffer.from(crc32Base64(crc32(p)), 'base64')));
    expect(expectedCrc32(d, 'COMPOSITE')).toBe(`${crc32Base64(crc32(joined))}-3`);
    expect(expectedCrc32({ crc32: 0, partCrc32s: [0] }, 'FULL_OBJECT')).toBe('AAAAAA==');
  });
});

describe('BodyChecker', () => {
  const checker = (
    o: {
      expectedBytes?: number;
      maxBytes?: number;
      expectedSha256?: string;
      firstRead?: { bytes: number; sha256: string };
    } = {},
  ) =>
    new BodyChecker({
      partSize: 4096,
      expectedBytes: o.expectedBytes,
      maxBytes: o.maxBytes ?? 1e9,
      url: 'http://o/x',
      expectedSha256: o.expectedSha256,
      firstRead: o.firstRead,
    });

  it('gives the same digest however the body is cut into chunks (part boundaries inside chunks)', async () => {
    const data = randomBytes(10_000);
    const whole = await run(data, { partSize: 4096, expectedBytes: 10_000 }, 10_000);
    for (const size of [1, 777, 4096, 4097]) {
      expect(await run(data, { partSize: 4096, expectedBytes: 10_000 }, size)).toEqual(whole);
    }
    expect(whole.partMd5s).toEqual([0, 4096, 8192].map((o) => md5(data.subarray(o, o + 4096))));
  });

  it('throws at the chunk that goes over the declared length or the cap, before it is passed on', () => {
    const c = checker({ expectedBytes: 150 });
    c.take(Buffer.alloc(100));
    expect(() => c.take(Buffer.alloc(100))).toThrow(
      expect.objectContaining({ code: 'ORIGIN_LENGTH_MISMATCH', retryable: true }),
    );
    const capped = checker({ maxBytes: 100 });
    expect(() => capped.take(Buffer.alloc(101))).toThrow(
      expect.objectContaining({ code: 'FILE_TOO_LARGE', retryable: false }),
    );
  });

  it('throws at the end for a short body, or a playlist with other bytes than enumerated', () => {
    const short = checker({ expectedBytes: 150 });
    short.take(Buffer.alloc(100));
    expect(() => short.end()).toThrow(expect.objectContaining({ code: 'ORIGIN_TRUNCATED', retryable: true }));
    const body = Buffer.from('#EXTM3U\n');
    const changed = checker({ expectedSha256: createHash('sha256').update('#EXTM3U\n#EXT-X-ENDLIST\n').digest('hex') });
    changed.take(body);
    expect(() => changed.end()).toThrow(expect.objectContaining({ code: 'PLAYLIST_CHANGED' }));
    const same = checker({ expectedSha256: createHash('sha256').update(body).digest('hex') });
    same.take(body);
    expect(() => same.end()).not.toThrow();
  });

  it('holds an unframed body to its first read: a shorter or other second read throws at the end', () => {
    const data = randomBytes(1000);
    const firstRead = { bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
    const cut = checker({ firstRead });
    cut.take(data.subarray(0, 600));
    expect(() => cut.end()).toThrow(
      expect.objectContaining({
        code: 'ORIGIN_UNFRAMED_MISMATCH',
        retryable: true,
        message: expect.stringMatching(/1000 bytes, then 600/),
      }),
    );
    const other = checker({ firstRead });
    other.take(randomBytes(1000));
    expect(() => other.end()).toThrow(expect.objectContaining({ code: 'ORIGIN_UNFRAMED_MISMATCH' }));
    const same = checker({ firstRead });
    same.take(data);
    expect(() => same.end()).not.toThrow();
  });
});
