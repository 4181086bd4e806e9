import { FlantsError } from '../errors.ts';
import type { UploadResult } from '../domain/ports/object-store.ts';
import { expectedCrc32, expectedEtag, type StreamDigest } from './body-checker.ts';

const MD5_ETAG = /^[0-9a-f]{32}(-\d+)?$/;

/** How an object's integrity was established. */
export type IntegrityMethod = 'crc32' | 'md5-etag';

/**
 * Checks that the store kept exactly the bytes that streamed through the `BodyChecker`. The store's own CRC32
 * (S3 computes it whatever the bucket's encryption) is compared when the response carries one;
 * the ETag is trusted as an MD5 only when the store did not say it is none (S3: a KMS- or
 * customer-key-encrypted object's ETag looks like an MD5 but is not). Anything else cannot be verified and is refused.
 */
export function verifyStored(
  key: string,
  digest: StreamDigest,
  stored: UploadResult,
  partSize: number,
): IntegrityMethod {
  if (stored.checksum) {
    const type = stored.checksum.composite ? 'COMPOSITE' : 'FULL_OBJECT';
    const expected = expectedCrc32(digest, type);
    if (stored.checksum.crc32 !== expected) {
      throw new FlantsError(
        'CHECKSUM_MISMATCH',
        `S3 stored ${key} with CRC32 ${stored.checksum.crc32} (${type}), expected ${expected} from the bytes streamed`,
        { retryable: true },
      );
    }
    return 'crc32';
  }
  if (stored.etagNotMd5 !== undefined) {
    // The store says its ETag is no MD5 of the data (S3: KMS, DSSE, SSE-C): comparing it would fail every file.
    throw new FlantsError(
      'CHECKSUM_UNAVAILABLE',
      `cannot verify ${key}: S3 reported no checksum, and ${stored.etagNotMd5} its ETag is not an MD5 (the endpoint must return x-amz-checksum-crc32)`,
    );
  }
  const etag = stored.etag;
  // Up to one part the ETag form is the body's MD5 itself: one candidate, named once.
  const candidates = [...new Set([digest.md5, expectedEtag(digest, partSize)])].filter(
    (c): c is string => c !== undefined,
  );
  if (!etag || !MD5_ETAG.test(etag) || candidates.length === 0) {
    // Retryable: the next attempt hashes MD5s too once the store has seen an answer without checksums.
    throw new FlantsError(
      'CHECKSUM_UNAVAILABLE',
      `cannot verify ${key}: S3 reported no checksum and ETag ${etag || '(none)'} cannot be compared with what was streamed`,
      { retryable: true },
    );
  }
  if (!candidates.includes(etag)) {
    throw new FlantsError(
      'CHECKSUM_MISMATCH',
      `S3 stored ${key} with ETag ${etag}, expected ${candidates.join(' or ')}`,
      { retryable: true },
    );
  }
  return 'md5-etag';
}
