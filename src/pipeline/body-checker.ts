import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { FlantsError } from '../errors.ts';
import { crc32Base64 } from '../util/crc.ts';

/** What a BodyChecker saw: the length, and the MD5s an endpoint without checksums needs, of exactly the bytes taken. */
export interface BodyDigest {
  bytes: number;
  /** MD5 of the whole body, hex, when it was computed (a plain single-part ETag is this). */
  md5: string | undefined;
  /** MD5 per `partSize` slice, hex, when computed: a plain multipart ETag is derived from these. */
  partMd5s: string[] | undefined;
}

/**
 * Everything known of a copied body: the checker's digest and the uploader's CRC32s of the very
 * buffers it sent (computed once, there, for S3's checksum headers).
 */
export interface StreamDigest extends BodyDigest {
  /** CRC32 of the whole body: what S3 reports as a FULL_OBJECT CRC32 checksum, whatever the encryption. */
  crc32: number;
  /** CRC32 per `partSize` slice: S3's COMPOSITE multipart checksum is derived from these. */
  partCrc32s: number[];
}

export interface BodyCheckerOptions {
  partSize: number;
  expectedBytes: number | undefined;
  maxBytes: number;
  url: string;
  /**
   * Compute MD5s too, for an S3 endpoint that reports no checksum (only its ETag). With a known
   * length only the form the upload will use is hashed: the whole body up to one part, per part above.
   */
  md5?: boolean;
  /** The SHA-256 the crawler enumerated (playlists): other bytes fail the stream, so nothing is written. */
  expectedSha256?: string | undefined;
  /**
   * Length and SHA-256 of an earlier read of a body nothing framed (no Content-Length, no chunks):
   * this read must be the same bytes, or the stream fails (ORIGIN_UNFRAMED_MISMATCH) and nothing is written.
   */
  firstRead?: { bytes: number; sha256: string } | undefined;
}

/**
 * Counts (and, for playlists or an endpoint without checksums, hashes) bytes on their way from the
 * origin to S3, one chunk at a time, and throws
 * when the body is shorter or longer than declared. A plain object, not a stream: the transfer calls
 * it from the loop that reads the origin, with no Transform (and its per-chunk stream events) between.
 */
export class BodyChecker {
  private readonly whole: Hash | undefined;
  private part: Hash | undefined;
  private readonly parts: string[] = [];
  private readonly hashParts: boolean;
  private partBytes = 0;
  private count = 0;
  private readonly sha: Hash | undefined;

  constructor(private readonly opts: BodyCheckerOptions) {
    this.sha = opts.expectedSha256 || opts.firstRead ? createHash('sha256') : undefined;
    const md5 = opts.md5 ?? true;
    const known = opts.expectedBytes;
    this.whole = md5 && (known === undefined || known <= opts.partSize) ? createHash('md5') : undefined;
    this.hashParts = md5 && (known === undefined || known > opts.partSize);
    this.part = this.hashParts ? createHash('md5') : undefined;
  }

  /** Accounts for the next chunk; throws FILE_TOO_LARGE or ORIGIN_LENGTH_MISMATCH before it is passed on. */
  take(chunk: Buffer): void {
    this.count += chunk.length;
    if (this.count > this.opts.maxBytes) {
      throw new FlantsError(
        'FILE_TOO_LARGE',
        `${this.opts.url} is over the ${this.opts.maxBytes}-byte cap (TRANSFER_MAX_FILE_MB)`,
      );
    }
    if (this.opts.expectedBytes !== undefined && this.count > this.opts.expectedBytes) {
      throw new FlantsError(
        'ORIGIN_LENGTH_MISMATCH',
        `origin sent more than its Content-Length ${this.opts.expectedBytes} for ${this.opts.url}`,
        { retryable: true },
      );
    }
    this.whole?.update(chunk);
    this.sha?.update(chunk);
    if (!this.part) return;
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(chunk.length - offset, this.opts.partSize - this.partBytes);
      const slice = take === chunk.length ? chunk : chunk.subarray(offset, offset + take);
      this.part.update(slice);
      this.partBytes += take;
      offset += take;
      if (this.partBytes === this.opts.partSize) this.endPart(this.part);
    }
  }

  private endPart(part: Hash): void {
    this.parts.push(part.digest('hex'));
    this.part = createHash('md5');
    this.partBytes = 0;
  }

  /**
   * Closes the body; throws ORIGIN_TRUNCATED when it fell short, PLAYLIST_CHANGED when a playlist's
   * digest differs, ORIGIN_UNFRAMED_MISMATCH when an unframed body differs from its first read.
   */
  end(): void {
    if (this.opts.expectedBytes !== undefined && this.count !== this.opts.expectedBytes) {
      throw new FlantsError(
        'ORIGIN_TRUNCATED',
        `origin sent ${this.count} of ${this.opts.expectedBytes} bytes for ${this.opts.url}`,
        { retryable: true },
      );
    }
    const sha = this.sha?.digest('hex');
    const first = this.opts.firstRead;
    if (first && (sha !== first.sha256 || this.count !== first.bytes)) {
      throw new FlantsError(
        'ORIGIN_UNFRAMED_MISMATCH',
        `${this.opts.url} came with no Content-Length and no chunked framing, so only the connection's close ended it and a body cut short looks whole; two reads disagree (${first.bytes} bytes, then ${this.count}${first.bytes === this.count ? ' other ones' : ''}), so neither is counted. Retried; if it persists, the origin cuts bodies short or serves other bytes each time: have it send a Content-Length`,
        { retryable: true },
      );
    }
    if (this.opts.expectedSha256 !== undefined && sha !== this.opts.expectedSha256) {
      throw new FlantsError(
        'PLAYLIST_CHANGED',
        `${this.opts.url} changed at the origin since the class was crawled (${this.count} bytes, not the ones enumerated)`,
      );
    }
    if (this.part && (this.partBytes > 0 || this.parts.length === 0)) this.endPart(this.part);
  }

  /** The digest of everything taken; valid once end() has passed. */
  digest(): BodyDigest {
    const md5 = this.whole?.copy().digest('hex');
    // One part: its MD5 is the whole body's, whichever of the two was hashed.
    const partMd5s = this.hashParts ? [...this.parts] : md5 !== undefined ? [md5] : undefined;
    return {
      bytes: this.count,
      md5: md5 ?? (partMd5s?.length === 1 ? partMd5s[0] : undefined),
      partMd5s,
    };
  }
}

/** Length and SHA-256 of a whole body, read and dropped (the first read of an unframed body); throws FILE_TOO_LARGE past `maxBytes`. */
export async function readDigest(
  body: AsyncIterable<Buffer>,
  maxBytes: number,
  url: string,
): Promise<{ bytes: number; sha256: string }> {
  const sha = createHash('sha256');
  let bytes = 0;
  for await (const chunk of body) {
    bytes += chunk.length;
    if (bytes > maxBytes)
      throw new FlantsError('FILE_TOO_LARGE', `${url} is over the ${maxBytes}-byte cap (TRANSFER_MAX_FILE_MB)`);
    sha.update(chunk);
  }
  return { bytes, sha256: sha.digest('hex') };
}

/** The ETag plain S3 (SSE-S3 or none) gives an object uploaded as these parts; undefined when its MD5s were not computed. */
export function expectedEtag(d: BodyDigest, partSize: number): string | undefined {
  if (d.bytes <= partSize) return d.md5;
  if (!d.partMd5s) return undefined;
  const joined = Buffer.concat(d.partMd5s.map((h) => Buffer.from(h, 'hex')));
  return `${createHash('md5').update(joined).digest('hex')}-${d.partMd5s.length}`;
}

/** The checksum S3 reports for an object: FULL_OBJECT is the CRC32 of the whole body; COMPOSITE the CRC32 of the part CRC32s, with "-<parts>". */
export function expectedCrc32(
  d: Pick<StreamDigest, 'crc32' | 'partCrc32s'>,
  type: 'FULL_OBJECT' | 'COMPOSITE',
): string {
  if (type === 'FULL_OBJECT') return crc32Base64(d.crc32);
  const joined = Buffer.concat(d.partCrc32s.map((c) => Buffer.from(crc32Base64(c), 'base64')));
  return `${crc32Base64(crc32(joined))}-${d.partCrc32s.length}`;
}
