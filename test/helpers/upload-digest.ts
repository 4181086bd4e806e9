import { crc32 } from 'node:zlib';
import { BodyChecker, type BodyCheckerOptions, type StreamDigest } from '../../src/pipeline/body-checker.ts';
import type { UploadResult } from '../../src/domain/ports/object-store.ts';

/**
 * The digest a transfer verifies a copy with: the body checker's over `data`, plus the CRC32s the
 * uploader sent (the whole body's and each part's). Shared by the tests of verifyStored, which differ
 * only in what S3 answers.
 */
export function transferDigest(
  data: Buffer,
  opts: Pick<BodyCheckerOptions, 'partSize' | 'url'> & Partial<Pick<BodyCheckerOptions, 'expectedBytes' | 'md5'>>,
): StreamDigest {
  const { partSize } = opts;
  const v = new BodyChecker({ expectedBytes: undefined, maxBytes: 1e9, ...opts });
  v.take(data);
  v.end();
  const partCrc32s: number[] = [];
  for (let i = 0; i < Math.max(data.length, 1); i += partSize) partCrc32s.push(crc32(data.subarray(i, i + partSize)));
  return { ...v.digest(), crc32: crc32(data), partCrc32s };
}

/** What an upload reported, everything unknown but `r`: the S3 answer a verifyStored test sets up. */
export const uploadResult = (r: Partial<UploadResult>): UploadResult => ({
  etag: undefined,
  checksum: undefined,
  etagNotMd5: undefined,
  parts: 1,
  extraRequests: 0,
  sent: { crc32: 0, partCrc32s: [0] },
  written: true,
  ...r,
});
