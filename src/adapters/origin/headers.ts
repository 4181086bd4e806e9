// What a response's headers say: its validators, the content codings applied to it (one FLAnts cannot
// undo refused), and whether its body is framed. Request headers of a conditional request.
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Dispatcher } from 'undici';
import { OriginError, type Conditional, type Validators } from '../../domain/ports/origin.ts';

export function headerValue(h: Dispatcher.ResponseData['headers'][string]): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

/** The length an answer declares, when its Content-Length is plain digits (undici passes `10 ` through as sent). */
export function declaredLength(headers: Dispatcher.ResponseData['headers']): number | undefined {
  const raw = headerValue(headers['content-length']);
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

/** A validator worth keeping (it goes into object metadata and request headers): printable ASCII, bounded. */
function usable(v: string | undefined): string | undefined {
  const t = v?.trim();
  return t && t.length <= 200 && /^[\x20-\x7e]+$/.test(t) ? t : undefined;
}

/** The response's ETag and Last-Modified, when usable. */
export function validatorsOf(headers: Dispatcher.ResponseData['headers']): Validators {
  const etag = usable(headerValue(headers.etag));
  const lastModified = usable(headerValue(headers['last-modified']));
  return {
    ...(etag ? { etag } : {}),
    ...(lastModified && Number.isFinite(Date.parse(lastModified)) ? { lastModified } : {}),
  };
}

/** Request headers of a conditional request; an ETag wins over a date (RFC 9110 §13.2.2). */
export function conditionalHeaders(c: Conditional): Record<string, string> {
  const etag = usable(c.ifNoneMatch);
  if (etag) return { 'if-none-match': etag };
  const since = usable(c.ifModifiedSince);
  return since ? { 'if-modified-since': since } : {};
}

/** The content codings FLAnts undoes (RFC 9110 §8.4.1); `x-gzip` is gzip's old name. */
export const DECODERS: Readonly<Record<string, () => Transform>> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  br: createBrotliDecompress,
  // RFC 9110's "deflate" is the zlib format (RFC 1950), which is what createInflate reads.
  deflate: createInflate,
};

function contentEncoding(headers: Dispatcher.ResponseData['headers']): string {
  const h = headers['content-encoding'];
  // Stryker disable next-line MethodExpression: header values arrive trimmed, and each coding is trimmed again
  return (Array.isArray(h) ? h.join(', ') : (h ?? '')).trim();
}

/**
 * The codings applied to a response, in the order the origin applied them (identity dropped).
 * FLAnts asks for identity; an origin that encodes anyway is decoded, as a player's HTTP stack
 * would. A coding FLAnts cannot undo is refused, never stored as if it were the file.
 */
export function codingsOf(url: string, headers: Dispatcher.ResponseData['headers']): string[] {
  const header = contentEncoding(headers);
  const codings = header
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  const unknown = codings.find((c) => !Object.hasOwn(DECODERS, c));
  if (unknown !== undefined)
    throw new OriginError(
      'ORIGIN_ENCODING_UNSUPPORTED',
      `origin answered ${url} with Content-Encoding: ${header.slice(0, 100)} although FLAnts asked for identity, and "${unknown.slice(0, 40)}" is not one FLAnts decodes (gzip, br, deflate): have the origin (or the CDN in front of it) serve this file unencoded or in one of those`,
      { url, retryable: false },
    );
  return codings;
}

/** True when a response carries a Content-Encoding other than identity. */
export function isEncoded(headers: Dispatcher.ResponseData['headers']): boolean {
  return contentEncoding(headers)
    .split(',')
    .some((c) => c.trim() !== '' && c.trim().toLowerCase() !== 'identity');
}

/** Whether a response's body is framed: a Content-Length, or chunked transfer-coding, tells where it ends. */
export function isChunked(headers: Dispatcher.ResponseData['headers']): boolean {
  const te = headers['transfer-encoding'];
  // Repeated headers are one list (RFC 9110 §5.3); chunked frames the body only as the last coding (RFC 9112 §6.3).
  const codings = Array.isArray(te) ? te.join(',') : te;
  // Stryker disable next-line StringLiteral: no header reads as any text without "chunked" would
  return /(^|,)\s*chunked\s*$/i.test(codings ?? '');
}
