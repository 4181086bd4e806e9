import { createHash } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { pipeline, Readable, Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { Agent, request, type Dispatcher } from 'undici';
import { FlantsError } from '../../errors.ts';
import {
  OriginError,
  type Conditional,
  type HeadResponse,
  type Origin,
  type StreamResponse,
  type TextResponse,
  type Validators,
} from '../../domain/ports/origin.ts';
import { blockedRange } from '../../domain/origin/addresses.ts';
import type { OriginGate } from '../../domain/origin/gate.ts';
import { isFetchableScheme, isHostAllowed } from '../../domain/origin/hosts.ts';
import { parseRetryAfter } from '../../domain/origin/politeness.ts';
import { BlockedAddressError, networkError, statusError } from './http-errors.ts';

// The port this adapter implements is the domain's; re-exported for the callers that build or test it.
export { OriginError };
export type { Conditional, HeadResponse, Origin, StreamResponse, TextResponse, Validators };
// Moved to the origin's classifier of HTTP failures (./http-errors.ts); re-exported for the callers that import them here.
export { asOriginError, BlockedAddressError } from './http-errors.ts';

export interface OriginClientOptions {
  allowedHosts: readonly string[];
  maxRedirects?: number;
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  /** Connections per origin host; the transfer's file concurrency should fit within it. */
  connections?: number;
  /** Resolves a name to its addresses (default: the system resolver, `dns.lookup`); tests inject a stub. */
  resolve?: Resolver;
  /** Paces requests per host (fleet-wide limits, back-pressure); every hop of a redirect passes it. */
  gate?: OriginGate;
}

/** One address a name resolves to. */
export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Name resolution, as `dns.lookup(name, { all: true })` does it. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** The system resolver (getaddrinfo, as every other program on the host resolves). */
export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))),
  );

/**
 * A `lookup` for net/tls.connect that resolves, refuses the connection if any address is
 * non-public, and hands over exactly the addresses it checked: the socket connects to what was
 * checked, so a second answer (DNS rebinding) cannot slip in between. IP literals never reach a
 * lookup; the allow-list decides those.
 */
export function guardedLookup(resolve: Resolver): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname)
      .then((all) => {
        const wanted =
          options.family === 4 || options.family === 6 ? all.filter((a) => a.family === options.family) : all;
        if (wanted.length === 0)
          throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
        for (const a of wanted) {
          const range = blockedRange(a.address);
          if (range) throw new BlockedAddressError(hostname, a.address, range);
        }
        if (options.all) callback(null, wanted);
        else callback(null, wanted[0]!.address, wanted[0]!.family);
      })
      .catch((err: NodeJS.ErrnoException) => callback(err, '', 0));
  };
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function headerValue(h: Dispatcher.ResponseData['headers'][string]): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

/** A validator worth keeping (it goes into object metadata and request headers): printable ASCII, bounded. */
function usable(v: string | undefined): string | undefined {
  const t = v?.trim();
  return t && t.length <= 200 && /^[\x20-\x7e]+$/.test(t) ? t : undefined;
}

/** The response's ETag and Last-Modified, when usable. */
function validatorsOf(headers: Dispatcher.ResponseData['headers']): Validators {
  const etag = usable(headerValue(headers.etag));
  const lastModified = usable(headerValue(headers['last-modified']));
  return {
    ...(etag ? { etag } : {}),
    ...(lastModified && Number.isFinite(Date.parse(lastModified)) ? { lastModified } : {}),
  };
}

/** Request headers of a conditional request; an ETag wins over a date (RFC 9110 §13.2.2). */
function conditionalHeaders(c: Conditional): Record<string, string> {
  const etag = usable(c.ifNoneMatch);
  if (etag) return { 'if-none-match': etag };
  const since = usable(c.ifModifiedSince);
  return since ? { 'if-modified-since': since } : {};
}

/** The content codings FLAnts undoes (RFC 9110 §8.4.1); `x-gzip` is gzip's old name. */
const DECODERS: Readonly<Record<string, () => Transform>> = {
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
function codingsOf(url: string, headers: Dispatcher.ResponseData['headers']): string[] {
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

interface DecodeOptions {
  url: string;
  /** The response's Content-Length: the length of the encoded body. */
  declared: number | undefined;
  /** Most decoded bytes accepted; more is `tooLarge()`, raised as they arrive. */
  maxBytes: number | undefined;
  tooLarge: (max: number) => OriginError;
}

/**
 * The decoded body of an encoded response, streamed: the encoded bytes are counted against their
 * Content-Length before any decoder, the decoded ones against `maxBytes` as they come out (a
 * compression bomb fails at the cap, never held in memory). A decoder's error — a body cut short
 * (gzip, zlib and brotli streams carry their own end, gzip and zlib a checksum too) or corrupt —
 * is ORIGIN_DECODE_FAILED, retryable. Destroying the returned stream stops reading the origin.
 * Only encoded responses pass here: an identity body is handed over as undici gives it.
 */
function decodedBody(raw: Readable, codings: readonly string[], o: DecodeOptions): Readable {
  const what = codings.join(', ');
  let encoded = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _enc, done) {
      encoded += chunk.length;
      if (o.declared !== undefined && encoded > o.declared)
        done(
          new OriginError(
            'ORIGIN_LENGTH_MISMATCH',
            `origin sent more than its Content-Length ${o.declared} for ${o.url}`,
            { url: o.url, retryable: true },
          ),
        );
      else done(null, chunk);
    },
    flush(done) {
      done(
        o.declared !== undefined && encoded !== o.declared
          ? new OriginError('ORIGIN_TRUNCATED', `origin sent ${encoded} of ${o.declared} bytes for ${o.url}`, {
              url: o.url,
              retryable: true,
            })
          : null,
      );
    },
  });
  let decoded = 0;
  const limited = new Transform({
    transform(chunk: Buffer, _enc, done) {
      decoded += chunk.length;
      if (o.maxBytes !== undefined && decoded > o.maxBytes) done(o.tooLarge(o.maxBytes));
      else done(null, chunk);
    },
  });
  const decoders = [...codings].reverse().map((c) => DECODERS[c]!());
  // The first failure is the one reported; the streams destroyed because of it fail after. Errors
  // are watched on every stream, not only in pipeline()'s callback: that one reports success once
  // the last decoder has taken all its input, before its end-of-stream check fails.
  let failed = false;
  const fail = (err: Error, fromDecoder: boolean): void => {
    if (failed) return;
    failed = true;
    const decoding =
      fromDecoder && !(err instanceof FlantsError) && (err as { code?: string }).code !== 'ERR_STREAM_PREMATURE_CLOSE';
    limited.destroy(
      decoding
        ? new OriginError(
            'ORIGIN_DECODE_FAILED',
            `could not decode the ${what} body of ${o.url}: ${err.message} (cut short or corrupt at the origin)`,
            { url: o.url, retryable: true, cause: err },
          )
        : // The origin's own failures (a reset, a short or long body) keep their codes, as on the identity path.
          networkError(o.url, err),
    );
  };
  for (const s of [raw, counted]) s.on('error', (err: Error) => fail(err, false));
  for (const d of decoders) d.on('error', (err: Error) => fail(err, true));
  const inner = pipeline([raw, counted, ...decoders], (err) => {
    if (err) fail(err, false);
  }) as unknown as Readable;
  inner.pipe(limited);
  // The reader gave up, or the decoded body passed the cap: stop decoding and reading the origin.
  limited.once('close', () => inner.destroy());
  return limited;
}

/** True when a response carries a Content-Encoding other than identity. */
function isEncoded(headers: Dispatcher.ResponseData['headers']): boolean {
  return contentEncoding(headers)
    .split(',')
    .some((c) => c.trim() !== '' && c.trim().toLowerCase() !== 'identity');
}

/**
 * The body of an answer from a host with a byte limit, read no faster than the process's share
 * (OriginGate.pacer): each chunk is paid for before it is passed on, and while it waits undici's
 * buffer fills, its parser pauses (which also stops its body timeout: a paced body is not a stalled
 * origin) and TCP flow control holds the origin's sending to the reading. Without a byte limit the
 * body is undici's own, untouched. Destroying the returned stream stops reading the origin.
 */
function pacedBody(
  res: Dispatcher.ResponseData,
  url: string,
  gate: OriginGate | undefined,
  prepaid: number,
  signal?: AbortSignal,
): Readable {
  const raw = res.body;
  // A body only the connection's close ends is not held back: undici (7.30) fails an assertion, uncaught,
  // when such a connection ends while its parser is paused. It is read as it comes, only prepaid.
  const closeDelimited = headerValue(res.headers['content-length']) === undefined && !isChunked(res.headers);
  const pace = closeDelimited ? undefined : gate?.pacer(new URL(url).host, prepaid);
  if (!pace) return raw;
  const out = new Transform({
    transform(chunk: Buffer, _enc, done) {
      pace(chunk.length, signal).then(() => done(null, chunk), done);
    },
  });
  // A failure of either side reaches the reader through `out`; nothing else waits on the pipeline.
  pipeline(raw, out, () => undefined);
  return out;
}

/** Runs `check` on a response whose body is unread; a refusal drops the body first (a small one drained, so the connection is kept). */
function withBody<T>(res: Dispatcher.ResponseData, check: () => T): T {
  try {
    return check();
  } catch (err) {
    // Stryker disable next-line ArithmeticOperator: how much is drained decides only whether the connection is reused
    res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
    throw err;
  }
}

/**
 * Drops a response's unread body. undici fails a body destroyed before its end with an AbortError:
 * nobody reads it any more, so that error is nobody's, and left alone it would be an uncaught one.
 */
function dropBody(res: Dispatcher.ResponseData): void {
  res.body.on('error', () => undefined);
  res.body.destroy();
}

/** Whether a response's body is framed: a Content-Length, or chunked transfer-coding, tells where it ends. */
function isChunked(headers: Dispatcher.ResponseData['headers']): boolean {
  const te = headers['transfer-encoding'];
  return /(^|,)\s*chunked\s*$/i.test(Array.isArray(te) ? te.join(',') : (te ?? ''));
}

/** Checks that a URL may be fetched at all: http(s) on an allowed host. */
export function assertFetchable(target: URL, allowedHosts: readonly string[], via?: string): void {
  const viaText = via ? ` (redirected from ${via})` : '';
  if (!isFetchableScheme(target)) {
    throw new OriginError('ORIGIN_BAD_SCHEME', `refusing to fetch ${target.protocol} URL ${target.href}${viaText}`, {
      url: target.href,
      retryable: false,
    });
  }
  if (!isHostAllowed(target, allowedHosts)) {
    throw new OriginError(
      'ORIGIN_HOST_NOT_ALLOWED',
      `host "${target.host}" is not in ORIGIN_ALLOWED_HOSTS: refusing ${target.href}${viaText}`,
      {
        url: target.href,
        retryable: false,
      },
    );
  }
}

/** Reads at most a few KiB of an error body: enough to tell an expired signature from a real refusal. */
async function errorBody(res: Dispatcher.ResponseData): Promise<string> {
  // Stryker disable next-line StringLiteral: a start without the expired wording changes no answer
  let text = '';
  try {
    for await (const chunk of res.body) {
      text += (chunk as Buffer).toString('utf8');
      if (text.length > 4096) break;
    }
  } catch {
    // The status is what matters; a broken error body changes nothing.
  }
  res.body.destroy();
  return text;
}

/** The error for a non-200 answer; a 403 for an expired signed URL is worth another attempt. */
async function responseError(url: string, res: Dispatcher.ResponseData): Promise<OriginError> {
  if (res.statusCode === 403) {
    const body = await errorBody(res);
    if (/request has expired|signature.*expired|expired.*(signature|token|url)|ExpiredToken/i.test(body)) {
      return new OriginError('ORIGIN_SIGNATURE_EXPIRED', `origin answered HTTP 403 (expired signature) for ${url}`, {
        url,
        status: 403,
        retryable: true,
      });
    }
    return statusError(url, 403);
  }
  res.body.resume();
  return statusError(url, res.statusCode, retryAfterOf(res));
}

/** The Retry-After of an answer, in seconds, when it has one. */
function retryAfterOf(res: Dispatcher.ResponseData): number | undefined {
  return parseRetryAfter(headerValue(res.headers['retry-after']), Date.now());
}

/** One request with redirects followed: the final URL and its (unread) response. */
export type GuardedRequest = (
  start: string,
  signal: AbortSignal | undefined,
  method?: 'GET' | 'HEAD',
  headers?: Record<string, string>,
) => Promise<{ url: string; res: Dispatcher.ResponseData; prepaid: number }>;

/**
 * Requests through `agent` (whose connect hook checks resolved addresses), checking the allow-list
 * on every hop and following at most `maxRedirects` redirects by hand. `beforeRequest` runs before
 * each request (the estimate counts them against its budget). Shared by the origin client and the
 * estimate's size probe, so both keep the same guards.
 */
export function guardedRequester(
  agent: Dispatcher,
  opts: {
    allowedHosts: readonly string[];
    maxRedirects: number;
    userAgent?: string;
    beforeRequest?: () => void;
    gate?: OriginGate | undefined;
  },
): GuardedRequest {
  const gate = opts.gate;
  return async (start, signal, method = 'GET', extra = {}) => {
    let current = new URL(start);
    let via: string | undefined;
    for (let hop = 0; ; hop++) {
      assertFetchable(current, opts.allowedHosts, via);
      opts.beforeRequest?.();
      const prepaid = gate ? await gate.admit(current.host, signal) : 0;
      const started = gate ? performance.now() : 0;
      let res: Dispatcher.ResponseData;
      try {
        res = await request(current, {
          dispatcher: agent,
          method,
          signal,
          headers: { 'user-agent': opts.userAgent ?? 'flants/0.1', 'accept-encoding': 'identity', ...extra },
        });
      } catch (err) {
        const failed = networkError(current.href, err);
        // An abort is this side's deadline, not the origin's trouble.
        if (!signal?.aborted)
          gate?.answered(current.host, { errorCode: failed.code, latencyMs: performance.now() - started, prepaid });
        throw failed;
      }
      let paid = 0;
      if (gate) {
        const length = headerValue(res.headers['content-length']);
        paid = gate.answered(current.host, {
          status: res.statusCode,
          retryAfterSeconds: retryAfterOf(res),
          latencyMs: performance.now() - started,
          contentLength:
            method === 'HEAD' ? 0 : length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined,
          prepaid,
        }).prepaid;
      }
      if (!REDIRECTS.has(res.statusCode)) return { url: current.href, res, prepaid: paid };
      // Drained when small, so the connection stays reusable; closed when a redirect carries a body.
      // Stryker disable next-line ArithmeticOperator: how much is drained decides only whether the connection is reused
      await res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
      const location = headerValue(res.headers.location);
      if (!location)
        throw new OriginError('ORIGIN_BAD_REDIRECT', `HTTP ${res.statusCode} without Location from ${current.href}`, {
          url: current.href,
          retryable: false,
        });
      if (hop >= opts.maxRedirects) {
        throw new OriginError(
          'ORIGIN_TOO_MANY_REDIRECTS',
          `more than ${opts.maxRedirects} redirects starting at ${start}`,
          {
            url: start,
            retryable: false,
          },
        );
      }
      via = current.href;
      current = new URL(location, current);
    }
  };
}

/**
 * Creates the origin client: host and port allow-list on every hop, names resolved and refused
 * when they point at non-public addresses (on every connection), manual bounded redirects, size caps.
 */
export function createOrigin(opts: OriginClientOptions): Origin {
  const agent = new Agent({
    connect: { timeout: opts.connectTimeoutMs ?? 5_000, lookup: guardedLookup(opts.resolve ?? systemResolver) },
    headersTimeout: opts.headersTimeoutMs ?? 15_000,
    bodyTimeout: opts.bodyTimeoutMs ?? 30_000,
    connections: opts.connections ?? 64,
    keepAliveTimeout: 10_000,
  });
  const maxRedirects = opts.maxRedirects ?? 5;

  const open = guardedRequester(agent, { allowedHosts: opts.allowedHosts, maxRedirects, gate: opts.gate });

  return {
    async fetchText(url, { maxBytes, signal, ...cond }) {
      const conditional = conditionalHeaders(cond);
      const { url: finalUrl, res, prepaid } = await open(url, signal, 'GET', conditional);
      if (res.statusCode === 304 && Object.keys(conditional).length > 0) {
        res.body.resume();
        return {
          url: finalUrl,
          body: '',
          contentType: headerValue(res.headers['content-type']),
          notModified: true,
          ...validatorsOf(res.headers),
        };
      }
      if (res.statusCode !== 200) throw await responseError(finalUrl, res);
      const codings = withBody(res, () => codingsOf(finalUrl, res.headers));
      const declared = Number(headerValue(res.headers['content-length']) ?? NaN);
      if (codings.length === 0 && declared > maxBytes) {
        dropBody(res);
        throw new OriginError(
          'PLAYLIST_TOO_LARGE',
          `playlist ${finalUrl} is ${declared} bytes, over the ${maxBytes}-byte cap (HLS_MAX_PLAYLIST_BYTES)`,
          { url: finalUrl, retryable: false },
        );
      }
      // Decoded before anything looks at it: the signature check and the parser read what a player reads.
      const paced = pacedBody(res, finalUrl, opts.gate, prepaid, signal);
      const body =
        codings.length === 0
          ? paced
          : decodedBody(paced, codings, {
              url: finalUrl,
              declared: Number.isFinite(declared) ? declared : undefined,
              maxBytes,
              tooLarge: (max) =>
                new OriginError(
                  'PLAYLIST_TOO_LARGE',
                  `playlist ${finalUrl} decodes (Content-Encoding: ${codings.join(', ')}) to more than ${max} bytes, over the cap (HLS_MAX_PLAYLIST_BYTES): refused as it arrived`,
                  { url: finalUrl, retryable: false },
                ),
            });
      const chunks: Buffer[] = [];
      let size = 0;
      try {
        for await (const chunk of body) {
          const buf = chunk as Buffer;
          size += buf.length;
          if (size > maxBytes) {
            body.destroy();
            throw new OriginError(
              'PLAYLIST_TOO_LARGE',
              `playlist ${finalUrl} is over the ${maxBytes}-byte cap (HLS_MAX_PLAYLIST_BYTES)`,
              { url: finalUrl, retryable: false },
            );
          }
          chunks.push(buf);
        }
      } catch (err) {
        throw networkError(finalUrl, err);
      }
      if (codings.length === 0 && Number.isFinite(declared) && size !== declared) {
        throw new OriginError('ORIGIN_TRUNCATED', `origin sent ${size} of ${declared} bytes for ${finalUrl}`, {
          url: finalUrl,
          retryable: true,
        });
      }
      const raw = Buffer.concat(chunks);
      return {
        url: finalUrl,
        body: raw.toString('utf8'),
        contentType: headerValue(res.headers['content-type']),
        bytes: raw.length,
        sha256: createHash('sha256').update(raw).digest('hex'),
        ...validatorsOf(res.headers),
      };
    },

    async openStream(url, o = {}) {
      const conditional = conditionalHeaders(o);
      const { url: finalUrl, res, prepaid } = await open(url, o.signal, 'GET', conditional);
      if (res.statusCode === 304 && Object.keys(conditional).length > 0) {
        res.body.resume();
        return {
          url: finalUrl,
          body: Readable.from([]),
          contentLength: 0,
          contentType: headerValue(res.headers['content-type']),
          notModified: true,
          ...validatorsOf(res.headers),
        };
      }
      if (res.statusCode !== 200) throw await responseError(finalUrl, res);
      const codings = withBody(res, () => codingsOf(finalUrl, res.headers));
      const raw = headerValue(res.headers['content-length']);
      const contentLength = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
      if (codings.length > 0) {
        // The encoded length says nothing of the file's: the decoded bytes are held to maxBytes as they come.
        return {
          url: finalUrl,
          body: decodedBody(pacedBody(res, finalUrl, opts.gate, prepaid, o.signal), codings, {
            url: finalUrl,
            declared: contentLength,
            maxBytes: o.maxBytes,
            tooLarge: (max) =>
              new OriginError(
                'FILE_TOO_LARGE',
                `${finalUrl} decodes (Content-Encoding: ${codings.join(', ')}) to more than ${max} bytes, over the cap (TRANSFER_MAX_FILE_MB): refused as it arrived (a file too large, or a compression bomb)`,
                { url: finalUrl, retryable: false },
              ),
          }),
          contentLength: undefined,
          contentType: headerValue(res.headers['content-type']),
          encoding: codings.join(', '),
          ...validatorsOf(res.headers),
        };
      }
      if (o.maxBytes !== undefined && contentLength !== undefined && contentLength > o.maxBytes) {
        dropBody(res);
        throw new OriginError(
          'FILE_TOO_LARGE',
          `${finalUrl} is ${contentLength} bytes, over the ${o.maxBytes}-byte cap (TRANSFER_MAX_FILE_MB)`,
          { url: finalUrl, retryable: false },
        );
      }
      return {
        url: finalUrl,
        body: pacedBody(res, finalUrl, opts.gate, prepaid, o.signal),
        contentLength,
        contentType: headerValue(res.headers['content-type']),
        ...(contentLength === undefined && !isChunked(res.headers) ? { unframed: true } : {}),
        ...validatorsOf(res.headers),
      };
    },

    async head(url, o = {}) {
      const { url: finalUrl, res } = await open(url, o.signal, 'HEAD');
      res.body.resume();
      if (res.statusCode !== 200) throw statusError(finalUrl, res.statusCode, retryAfterOf(res));
      const raw = headerValue(res.headers['content-length']);
      // An encoded answer's length is the encoded one, not the file's (which is stored decoded).
      const encoded = isEncoded(res.headers);
      return {
        url: finalUrl,
        contentLength: !encoded && raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined,
        ...validatorsOf(res.headers),
      };
    },

    async close() {
      await agent.close();
    },
  };
}
