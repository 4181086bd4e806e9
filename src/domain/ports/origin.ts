// The origin as the pipeline sees it: the port every origin adapter implements (src/adapters/origin/client.ts
// is the HTTP one) and the one error it raises. Pure types: the enumeration (src/hls, src/dash) and the
// verify engine name the origin through this module, never through an HTTP client.
import type { Readable } from 'node:stream';
import { FlantsError, type ErrorCode } from '../../errors.ts';

/** Why an origin request failed; `retryable` says whether trying again later may help. */
export class OriginError extends FlantsError {
  readonly url: string;
  readonly status: number | undefined;
  /** Seconds the origin asked to wait before asking again (its Retry-After), when it did. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { url: string; status?: number; retryable: boolean; cause?: unknown; retryAfterSeconds?: number | undefined },
  ) {
    super(code, message, { retryable: opts.retryable, cause: opts.cause });
    this.url = opts.url;
    this.status = opts.status;
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }
}

/** The origin's validators of a response (RFC 9110 §8.8): what a later conditional request names. */
export interface Validators {
  /** The ETag header as sent (quotes and W/ kept), when the origin sent a usable one. */
  etag?: string | undefined;
  /** The Last-Modified header as sent, when usable. */
  lastModified?: string | undefined;
}

/**
 * A conditional request: `ifNoneMatch` (an ETag) or `ifModifiedSince` (a Last-Modified date) from
 * an earlier response. When the origin answers 304 the response says `notModified` and has no body.
 */
export interface Conditional {
  ifNoneMatch?: string | undefined;
  ifModifiedSince?: string | undefined;
}

export interface TextResponse extends Validators {
  /** The URL the body came from, after redirects: relative references resolve against it. */
  url: string;
  body: string;
  contentType: string | undefined;
  /**
   * Length and SHA-256 (hex) of the body's bytes — decoded when the origin sent it with a
   * Content-Encoding: what a byte-for-byte copy must reproduce.
   */
  bytes?: number;
  sha256?: string;
  /** The origin answered 304 to a conditional request: unchanged since those validators; `body` is empty. */
  notModified?: boolean;
}

export interface StreamResponse extends Validators {
  url: string;
  /** The file's bytes: decoded when the origin sent them with a Content-Encoding (see `encoding`). */
  body: Readable;
  /**
   * Declared length of `body`, when the origin sent one; callers check the bytes they receive
   * against it. Undefined for an encoded body: its Content-Length counts the encoded bytes, which the
   * client checks itself before decoding.
   */
  contentLength: number | undefined;
  contentType: string | undefined;
  /** The Content-Encoding the origin applied and the client undid (`gzip`, `br`, `deflate`); absent for identity. */
  encoding?: string | undefined;
  /**
   * Nothing marks where the body ends but the connection's close: no Content-Length, no chunked
   * framing, no encoding whose own end is checked. A body cut short reads as a whole one.
   */
  unframed?: boolean;
  /** The origin answered 304 to a conditional request: unchanged; `body` is empty. */
  notModified?: boolean;
}

/** What a HEAD says about a file: its length and validators, without its body. */
export interface HeadResponse extends Validators {
  url: string;
  /** The file's length; undefined when not sent, or when the answer is encoded (that length is the encoded one). */
  contentLength: number | undefined;
}

/** The narrow interface the crawler and transfer use to read the origin. */
export interface Origin {
  fetchText(url: string, opts: { maxBytes: number; signal?: AbortSignal } & Conditional): Promise<TextResponse>;
  openStream(url: string, opts?: { maxBytes?: number; signal?: AbortSignal } & Conditional): Promise<StreamResponse>;
  /** HEAD: length and validators of a file (a change check), through the same allow-list and redirect rules. */
  head(url: string, opts?: { signal?: AbortSignal }): Promise<HeadResponse>;
  close(): Promise<void>;
}
