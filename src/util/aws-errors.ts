// The one classifier of AWS errors: the SDK's service errors (`name` is the service's code,
// `$metadata.httpStatusCode` the status), s3-put.ts's answers shaped the same way, and the transport
// failures under them (Node's socket codes, undici's). Duck-typed, no SDK import: the base's
// isRetryable (src/errors.ts) and every AWS adapter folder use it, and neither may import the other.

/** What an AWS error says about trying again. */
export type AwsErrorKind =
  /** Asked to slow down: 429, S3's SlowDown, DynamoDB's and other services' throttling. */
  | 'throttled'
  /** The service's own failure: any 5xx, InternalError, ServiceUnavailable. */
  | 'server'
  /** The request took too long (S3's RequestTimeout, the SDK's TimeoutError). */
  | 'timeout'
  /** S3 found the body damaged on its way (BadDigest): the bytes must be sent again, from their source. */
  | 'damaged'
  /** Another writer got there at the same moment (ConditionalRequestConflict, TransactionConflictException). */
  | 'conflict'
  /** The request's clock is too far from the service's (RequestTimeTooSkewed): re-signed, it may pass. */
  | 'clock-skew'
  /** A connection that was refused, reset, closed or timed out. */
  | 'connection'
  /** Any other failure of the HTTP transport (a name lookup, undici's other errors), neither abort nor bad argument. */
  | 'transport'
  /** Anything else: a refusal (4xx), an abort, a bug. */
  | 'other';

const THROTTLED = ['SlowDown', 'ThrottlingException', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded'];
const SERVER = ['InternalError', 'ServiceUnavailable'];
const TIMEOUT = ['RequestTimeout', 'TimeoutError'];
const CONFLICT = ['ConditionalRequestConflict', 'TransactionConflictException'];
const CONNECTION = [
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
];
/** undici's errors are all `UND_ERR*`; these two would fail the same way again (the caller's abort, a bad header). */
const NOT_TRANSPORT = ['UND_ERR_ABORTED', 'UND_ERR_INVALID_ARG'];

/** The HTTP status of an AWS error, when it has one. */
export function awsStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

/** The error's name: for an AWS service error, the service's code (`ConditionalCheckFailedException`). */
export function awsErrorName(err: unknown): string | undefined {
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : undefined;
}

/** True for an error an AWS service answered (the SDK's, or s3-put's), as opposed to FLAnts' own or a transport's. */
export function isAwsServiceError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && '$metadata' in err;
}

/** Sorts an AWS error (or the transport failure under one) by what another attempt could do about it. */
export function classifyAwsError(err: unknown): AwsErrorKind {
  if (typeof err !== 'object' || err === null) return 'other';
  const name = awsErrorName(err) ?? '';
  const status = awsStatus(err);
  if (status === 429 || THROTTLED.includes(name)) return 'throttled';
  if ((status !== undefined && status >= 500) || SERVER.includes(name)) return 'server';
  if (TIMEOUT.includes(name)) return 'timeout';
  if (name === 'BadDigest') return 'damaged';
  if (CONFLICT.includes(name)) return 'conflict';
  if (name === 'RequestTimeTooSkewed') return 'clock-skew';
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return 'other';
  if (CONNECTION.includes(code)) return 'connection';
  if (code === 'EAI_AGAIN' || (/^UND_ERR(_|$)/.test(code) && !NOT_TRANSPORT.includes(code))) return 'transport';
  return 'other';
}

/**
 * True when another attempt of the work may succeed: what the pipeline's retries (withRetry's default,
 * through isRetryable) and SQS's redeliveries are for. A damaged body or a conflict is worth a new
 * attempt from the source; the SDK's own `$retryable` mark is trusted.
 */
export function isTransientAwsError(err: unknown): boolean {
  if ((err as { $retryable?: unknown } | null)?.$retryable) return true;
  return ['throttled', 'server', 'timeout', 'damaged', 'conflict', 'connection'].includes(classifyAwsError(err));
}

/**
 * True when sending the very same request again may succeed (s3-put.ts's own retries, as the SDK's
 * standard mode retries): throttling, the service's failures, a timeout, a clock corrected since, a
 * broken transport. Not a damaged body (the same buffer would be damaged the same way only if the
 * fault is ours: the caller reads its source again) nor a conflict (the caller decides the next condition).
 */
export function isResendable(err: unknown): boolean {
  return ['throttled', 'server', 'timeout', 'clock-skew', 'connection', 'transport'].includes(classifyAwsError(err));
}
