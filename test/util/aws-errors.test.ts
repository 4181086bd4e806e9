// The one classifier of AWS errors, case by case: what each error is, whether the pipeline tries the
// work again (isRetryable), and whether s3-put.ts sends the very same request again (isResendable).
import { errors as undiciErrors } from 'undici';
import { describe, expect, it } from 'vitest';
import { FlantsError, isRetryable } from '../../src/errors.ts';
import { S3ResponseError } from '../../src/adapters/s3/s3-put.ts';
import {
  awsErrorName,
  awsStatus,
  classifyAwsError,
  isAwsServiceError,
  isResendable,
  isTransientAwsError,
  type AwsErrorKind,
} from '../../src/util/aws-errors.ts';

/** A service error as the SDK shapes it. */
const sdk = (name: string, status: number, extra: object = {}) =>
  Object.assign(new Error(`${name} (${status})`), { name, $metadata: { httpStatusCode: status }, ...extra });
const coded = (code: string, name = 'Error') => Object.assign(new Error(code), { code, name });

const CASES: Array<[string, unknown, AwsErrorKind, { retry: boolean; resend: boolean }]> = [
  [
    'S3 SlowDown 503',
    new S3ResponseError('SlowDown', 'Please reduce your request rate.', 503, 'r'),
    'throttled',
    { retry: true, resend: true },
  ],
  ['any 429', sdk('TooManyRequestsException', 429), 'throttled', { retry: true, resend: true }],
  [
    'DynamoDB throughput exceeded (400)',
    sdk('ProvisionedThroughputExceededException', 400),
    'throttled',
    { retry: true, resend: true },
  ],
  ['SQS/STS ThrottlingException (400)', sdk('ThrottlingException', 400), 'throttled', { retry: true, resend: true }],
  ['EC2-style RequestLimitExceeded', sdk('RequestLimitExceeded', 400), 'throttled', { retry: true, resend: true }],
  [
    'S3 InternalError 500',
    new S3ResponseError('InternalError', 'We encountered an internal error.', 500, 'r'),
    'server',
    { retry: true, resend: true },
  ],
  ['a 502 of any name', sdk('Http502', 502), 'server', { retry: true, resend: true }],
  [
    'ServiceUnavailable without a status',
    Object.assign(new Error('x'), { name: 'ServiceUnavailable' }),
    'server',
    { retry: true, resend: true },
  ],
  [
    'S3 RequestTimeout (400)',
    new S3ResponseError('RequestTimeout', 'Your socket connection…', 400, 'r'),
    'timeout',
    { retry: true, resend: true },
  ],
  [
    "the SDK's TimeoutError",
    Object.assign(new Error('timed out'), { name: 'TimeoutError' }),
    'timeout',
    { retry: true, resend: true },
  ],
  [
    'S3 BadDigest (400): the body was damaged',
    new S3ResponseError('BadDigest', 'The CRC32 you specified did not match', 400, 'r'),
    'damaged',
    { retry: true, resend: false },
  ],
  [
    'S3 ConditionalRequestConflict (409)',
    new S3ResponseError('ConditionalRequestConflict', 'conflict', 409, 'r'),
    'conflict',
    { retry: true, resend: false },
  ],
  [
    'DynamoDB TransactionConflictException',
    sdk('TransactionConflictException', 400),
    'conflict',
    { retry: true, resend: false },
  ],
  [
    'S3 RequestTimeTooSkewed (403)',
    new S3ResponseError('RequestTimeTooSkewed', 'skewed', 403, 'r'),
    'clock-skew',
    { retry: false, resend: true },
  ],
  ['ECONNRESET', coded('ECONNRESET'), 'connection', { retry: true, resend: true }],
  ['ECONNREFUSED', coded('ECONNREFUSED'), 'connection', { retry: true, resend: true }],
  ['EPIPE', coded('EPIPE'), 'connection', { retry: true, resend: true }],
  ['ETIMEDOUT', coded('ETIMEDOUT'), 'connection', { retry: true, resend: true }],
  [
    "undici's SocketError",
    new undiciErrors.SocketError('other side closed'),
    'connection',
    { retry: true, resend: true },
  ],
  ["undici's ConnectTimeoutError", new undiciErrors.ConnectTimeoutError(), 'connection', { retry: true, resend: true }],
  ["undici's HeadersTimeoutError", new undiciErrors.HeadersTimeoutError(), 'connection', { retry: true, resend: true }],
  ["undici's BodyTimeoutError", new undiciErrors.BodyTimeoutError(), 'connection', { retry: true, resend: true }],
  ["undici's ClientClosedError", new undiciErrors.ClientClosedError(), 'connection', { retry: true, resend: true }],
  ['a name lookup that may pass (EAI_AGAIN)', coded('EAI_AGAIN'), 'transport', { retry: false, resend: true }],
  [
    "undici's ClientDestroyedError",
    new undiciErrors.ClientDestroyedError(),
    'transport',
    { retry: false, resend: true },
  ],
  [
    "undici's base AbortError",
    new (undiciErrors as unknown as { AbortError: new (m: string) => Error }).AbortError('aborted'),
    'transport',
    { retry: false, resend: true },
  ],
  [
    "undici's RequestAbortedError: the caller's abort",
    new undiciErrors.RequestAbortedError(),
    'other',
    { retry: false, resend: false },
  ],
  [
    "undici's InvalidArgumentError: a bad header",
    new undiciErrors.InvalidArgumentError('bad'),
    'other',
    { retry: false, resend: false },
  ],
  [
    'S3 PreconditionFailed (412)',
    new S3ResponseError('PreconditionFailed', 'At least one…', 412, 'r'),
    'other',
    { retry: false, resend: false },
  ],
  [
    'S3 AccessDenied (403)',
    new S3ResponseError('AccessDenied', 'Access Denied', 403, 'r'),
    'other',
    { retry: false, resend: false },
  ],
  [
    'DynamoDB ConditionalCheckFailedException',
    sdk('ConditionalCheckFailedException', 400),
    'other',
    { retry: false, resend: false },
  ],
  ['NoSuchKey (404)', sdk('NoSuchKey', 404), 'other', { retry: false, resend: false }],
  ['ENOTFOUND', coded('ENOTFOUND'), 'other', { retry: false, resend: false }],
  ['a plain Error', new Error('bug'), 'other', { retry: false, resend: false }],
  ['a string', 'odd', 'other', { retry: false, resend: false }],
  ['null', null, 'other', { retry: false, resend: false }],
];

describe('classifyAwsError, isRetryable and isResendable, case by case', () => {
  it.each(CASES)('%s', (_what, err, kind, { retry, resend }) => {
    expect(classifyAwsError(err)).toBe(kind);
    expect(isTransientAwsError(err)).toBe(retry);
    expect(isRetryable(err)).toBe(retry);
    expect(isResendable(err)).toBe(resend);
  });

  it("trusts the SDK's own $retryable mark for the pipeline's retries", () => {
    const marked = sdk('SomethingNew', 400, { $retryable: { throttling: false } });
    expect(classifyAwsError(marked)).toBe('other');
    expect(isRetryable(marked)).toBe(true);
  });

  it('a FlantsError says for itself, whatever its name or status', () => {
    expect(isRetryable(new FlantsError('WRITE_CONFLICT', 'x', { retryable: true }))).toBe(true);
    expect(isRetryable(Object.assign(new FlantsError('CONFIG', 'x'), { $metadata: { httpStatusCode: 503 } }))).toBe(
      false,
    );
  });
});

describe('the accessors', () => {
  it('read the status and name of a service error, and tell it from a transport failure', () => {
    const e = sdk('NotImplemented', 501);
    expect(awsStatus(e)).toBe(501);
    expect(awsErrorName(e)).toBe('NotImplemented');
    expect(isAwsServiceError(e)).toBe(true);
    expect(isAwsServiceError(new S3ResponseError('SlowDown', 'x', 503, undefined))).toBe(true);
    expect(isAwsServiceError(coded('ECONNRESET'))).toBe(false);
    expect(isAwsServiceError(new FlantsError('STALE_GENERATION', 'x'))).toBe(false);
    expect(awsStatus(null)).toBeUndefined();
    expect(awsErrorName({ name: 3 })).toBeUndefined();
  });
});
