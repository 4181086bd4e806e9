import { redactText } from './redact.ts';
import { isTransientAwsError } from './util/aws-errors.ts';

/** Every code a FlantsError can carry: stable names that logs, failure records and tests match on. */
export const ERROR_CODES = [
  // configuration and messages
  'CONFIG',
  'POISON_MESSAGE',
  // the origin
  'ORIGIN_HTTP_STATUS',
  'ORIGIN_SIGNATURE_EXPIRED',
  'ORIGIN_TRUNCATED',
  'ORIGIN_LENGTH_MISMATCH',
  'ORIGIN_NO_LENGTH',
  'ORIGIN_ENCODING_UNSUPPORTED',
  'ORIGIN_DECODE_FAILED',
  'ORIGIN_UNFRAMED_MISMATCH',
  'ORIGIN_BAD_REDIRECT',
  'ORIGIN_BAD_SCHEME',
  'ORIGIN_TOO_MANY_REDIRECTS',
  'ORIGIN_TIMEOUT',
  'ORIGIN_NETWORK',
  'ORIGIN_HOST_NOT_ALLOWED',
  'ORIGIN_ADDRESS_BLOCKED',
  'FILE_TOO_LARGE',
  // playlists and the crawl
  'NOT_A_PLAYLIST',
  'MANIFEST_UNSUPPORTED',
  'PLAYLIST_TOO_LARGE',
  'PLAYLIST_CHANGED',
  'PLAYLIST_UNSTABLE',
  'HOST_NOT_ALLOWED',
  'BAD_URI',
  'BAD_DEFINE',
  'UNSAFE_KEY',
  'KEY_COLLISION',
  'CRAWL_TOO_LARGE',
  'CRAWL_DEADLINE',
  'CRAWL_FAILED',
  'TOO_MANY_FILES',
  'TOO_MANY_PLAYLISTS',
  'TOO_DEEP',
  'FILE_NOT_FOUND',
  // copying and verifying
  'CHUNK_FAILED',
  'CHECKSUM_MISMATCH',
  'CHECKSUM_UNAVAILABLE',
  'UPLOAD_INCOMPLETE',
  'STALE_GENERATION',
  'WRITE_CONFLICT',
  'S3_ACCESS_DENIED',
  // the queues, the ledger, secrets
  'QUEUE_NOT_FOUND',
  'QUEUE_SEND_REFUSED',
  'QUEUE_SEND_FAILED',
  'LEDGER_STATE',
  'LEDGER_UNPROCESSED',
  'LEDGER_ITEM_TOO_LARGE',
  'SECRET_UNAVAILABLE',
  // the estimate
  'ESTIMATE_BUDGET_SPENT',
  // the lab
  'FAULT_SPEC',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * Typed errors. Every failure FLAnts reports has a class, a stable `code` and a message that a
 * person can act on; `retryable` tells the pipeline whether another attempt could succeed.
 */
export class FlantsError extends Error {
  /** Stable machine-readable code, e.g. `ORIGIN_HTTP_STATUS`. */
  readonly code: ErrorCode;
  /** Whether the same operation may succeed if tried again later. */
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, opts: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = opts.retryable ?? false;
  }
}

/** A missing or invalid environment variable or setting; the message names it. */
export class ConfigError extends FlantsError {
  constructor(message: string) {
    super('CONFIG', message);
  }
}

/**
 * A job no retry can fix (a playlist that cannot be crawled, a disallowed host): it goes to its DLQ
 * at once, and its failure is recorded on the class first.
 */
export class DeadLetterError extends FlantsError {
  /**
   * What the DLQ should hold instead of the message that failed, when redriving that message could
   * never succeed but another one would (JSON; default: the message as it came).
   */
  readonly redriveBody: string | undefined;

  constructor(code: ErrorCode, message: string, cause?: unknown, opts: { redriveAs?: unknown } = {}) {
    super(code, message, { cause });
    this.redriveBody = opts.redriveAs === undefined ? undefined : JSON.stringify(opts.redriveAs);
  }
}

/** A queue message that can never be processed (bad JSON, wrong schema or version, unknown class). */
export class PoisonMessageError extends DeadLetterError {
  constructor(message: string, cause?: unknown) {
    super('POISON_MESSAGE', message, cause);
  }
}

/** Some files of a chunk could not be copied this delivery; SQS delivers the job again. */
export class ChunkFailedError extends FlantsError {
  constructor(readonly failures: ReadonlyArray<{ key: string; src: string; reason: string }>) {
    super('CHUNK_FAILED', `${failures.length} file(s) failed: ${failures[0]?.reason ?? 'unknown'}`, {
      retryable: true,
    });
  }
}

/** A playlist or reference that FLAnts refuses to follow (untrusted input outside its bounds). */
export class UnsafeInputError extends FlantsError {
  constructor(code: ErrorCode, message: string) {
    super(code, message);
  }
}

/**
 * Returns a one-line description of any thrown value, for logs and failure records (the ledger,
 * the dashboard, DLQ attributes), redacted: a signed URL's query or a credential never survives.
 */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const prefix = typeof code === 'string' && !err.message.includes(code) ? `${code}: ` : '';
    return redactText(`${prefix}${err.message}`.replace(/\s+/g, ' ').trim());
  }
  return redactText(String(err));
}

/** True when an error says another attempt may succeed (FlantsError.retryable or a transient AWS error). */
export function isRetryable(err: unknown): boolean {
  if (err instanceof FlantsError) return err.retryable;
  return isTransientAwsError(err);
}
