import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { FlantsError } from '../errors.ts';

/** What a VerifyingStream saw: the length and checksums of exactly the bytes that passed through. */
export interface StreamDigest {
  bytes: number;
  /** MD5 of the whole body, hex. */
  md5: string;
  /** MD5 per `partSize` slice, hex: S3's multipart ETag is derived from these. */
  partMd5s: string[];
}

/**
 * Counts and hashes bytes on their way from the origin to S3, and fails the stream (so the
 * upload aborts instead of completing) when the body is shorter or longer than declared.
 */
export class VerifyingStream extends Transform {
  private readonly whole = createHash('md5');
  private part: Hash = createHash('md5');
  private partBytes = 0;
  private readonly parts: string[] = [];
  private count = 0;
  private readonly sha: Hash | undefined;

  constructor(
    private readonly opts: {
      partSize: number;
      expectedBytes: number | undefined;
      maxBytes: number;
      url: string;
      /** The SHA-256 the crawler enumerated (playlists): other bytes fail the stream, so nothing is written. */
      expectedSha256?: string | undefined;
    },
  ) {
    super();
    this.sha = opts.expectedSha256 ? createHash('sha256') : undefined;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.count += chunk.length;
    if (this.count > this.opts.maxBytes) {
      cb(new FlantsError('FILE_TOO_LARGE', `${this.opts.url} is over the ${this.opts.maxBytes}-byte cap (TRANSFER_MAX_FILE_MB)`));
      return;
    }
    if (this.opts.expectedBytes !== undefined && this.count > this.opts.expectedBytes) {
      cb(new FlantsError('ORIGIN_LENGTH_MISMATCH', `origin sent more than its Content-Length ${this.opts.expectedBytes} for ${this.opts.url}`, { retryable: true }));
      return;
    }
    this.whole.update(chunk);
    this.sha?.update(chunk);
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(chunk.length - offset, this.opts.partSize - this.partBytes);
      this.part.update(take === chunk.length ? chunk : chunk.subarray(offset, offset + take));
      this.partBytes += take;
      offset += take;
      if (this.partBytes === this.opts.partSize) {
        this.parts.push(this.part.digest('hex'));
        this.part = createHash('md5');
        this.partBytes = 0;
      }
    }
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.opts.expectedBytes !== undefined && this.count !== this.opts.expectedBytes) {
      cb(new FlantsError('ORIGIN_TRUNCATED', `origin sent ${this.count} of ${this.opts.expectedBytes} bytes for ${this.opts.url}`, { retryable: true }));
      return;
    }
    if (this.sha && this.sha.digest('hex') !== this.opts.expectedSha256) {
      cb(new FlantsError('PLAYLIST_CHANGED', `${this.opts.url} changed at the origin since the class was crawled (${this.count} bytes, not the ones enumerated)`));
      return;
    }
    if (this.partBytes > 0 || this.parts.length === 0) this.parts.push(this.part.digest('hex'));
    cb();
  }

  /** The digest of everything that passed; valid once the stream has ended. */
  digest(): StreamDigest {
    return { bytes: this.count, md5: this.whole.copy().digest('hex'), partMd5s: [...this.parts] };
  }
}

/** The ETag S3 gives an object uploaded as these parts (plain MD5 for a single PutObject). */
export function expectedEtag(d: StreamDigest, partSize: number): string {
  if (d.bytes <= partSize) return d.md5;
  const joined = Buffer.concat(d.partMd5s.map((h) => Buffer.from(h, 'hex')));
  return `${createHash('md5').update(joined).digest('hex')}-${d.partMd5s.length}`;
}
