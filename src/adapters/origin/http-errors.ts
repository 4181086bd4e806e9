// The one classifier of HTTP failures at the origin: which answers and which broken connections are
// the origin's passing trouble (worth another attempt), and the OriginError each becomes. The origin
// client and the estimate's size probe use it, and the pipeline hands it what it could not read.
import { FlantsError } from '../../errors.ts';
import { OriginError } from '../../domain/ports/origin.ts';

/** A name resolved to an address FLAnts never fetches from. */
export class BlockedAddressError extends FlantsError {
  constructor(
    readonly hostname: string,
    readonly address: string,
    readonly range: string,
  ) {
    super(
      'ORIGIN_ADDRESS_BLOCKED',
      `${hostname} resolves to ${address}, a ${range} address: FLAnts fetches only from public addresses (list an IP literal in ORIGIN_ALLOWED_HOSTS to allow one on purpose)`,
    );
  }
}

/** 5xx, 429 and 408 are the origin's passing trouble; any other 4xx will not change by asking again. */
export function isPassingStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

/** The error for an answer that is not the one asked for, with the Retry-After it carried. */
export function statusError(url: string, status: number, retryAfterSeconds?: number): OriginError {
  const asked = retryAfterSeconds === undefined ? '' : ` (Retry-After ${retryAfterSeconds} s)`;
  return new OriginError('ORIGIN_HTTP_STATUS', `origin answered HTTP ${status}${asked} for ${url}`, {
    url,
    status,
    retryable: isPassingStatus(status),
    retryAfterSeconds,
  });
}

/**
 * The error for a request or body that failed without an answer: a blocked address is refused for
 * good, a timeout and any other network failure are passing trouble, an abort is the caller's own.
 */
export function networkError(url: string, err: unknown): OriginError {
  if (err instanceof OriginError) return err;
  const blocked = findBlocked(err);
  if (blocked)
    return new OriginError(blocked.code, `refusing ${url}: ${blocked.message}`, { url, retryable: false, cause: err });
  const code = (err as { code?: string }).code ?? 'ERROR';
  const msg = err instanceof Error ? err.message : String(err);
  const timeout = /TIMEOUT/.test(code) || (err as { name?: string }).name === 'TimeoutError';
  const aborted = (err as { name?: string }).name === 'AbortError';
  return new OriginError(
    timeout ? 'ORIGIN_TIMEOUT' : 'ORIGIN_NETWORK',
    `${timeout ? 'timed out' : 'network error'} fetching ${url}: ${code} ${msg}`,
    {
      url,
      retryable: !aborted,
      cause: err,
    },
  );
}

/** The BlockedAddressError behind a connection failure, however undici wrapped it. */
function findBlocked(err: unknown): BlockedAddressError | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof BlockedAddressError) return e;
  }
  return undefined;
}

/** Wraps errors raised while reading a response body as retryable origin errors. */
export function asOriginError(url: string, err: unknown): OriginError {
  return networkError(url, err);
}

/**
 * What failed while an origin body was read: FLAnts' own verdicts on it (a length, a digest, a cap)
 * as they are, anything else the origin's, classified as a network failure.
 */
export function bodyReadError(url: string, err: unknown): FlantsError {
  return err instanceof FlantsError ? err : networkError(url, err);
}
