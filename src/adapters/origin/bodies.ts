// Response bodies: an encoded one decoded as it streams (held to its Content-Length and to a cap), one
// from a host with a byte limit paced to the process's share, an unread one dropped or drained.
import { pipeline, type Readable, Transform } from 'node:stream';
import type { Dispatcher } from 'undici';
import { FlantsError } from '../../errors.ts';
import { OriginError } from '../../domain/ports/origin.ts';
import type { OriginGate } from '../../domain/origin/gate.ts';
import { networkError } from './http-errors.ts';
import { DECODERS, headerValue, isChunked } from './headers.ts';

export interface DecodeOptions {
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
export function decodedBody(raw: Readable, codings: readonly string[], o: DecodeOptions): Readable {
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

/**
 * The body of an answer from a host with a byte limit, read no faster than the process's share
 * (OriginGate.pacer): each chunk is paid for before it is passed on, and while it waits undici's
 * buffer fills, its parser pauses (which also stops its body timeout: a paced body is not a stalled
 * origin) and TCP flow control holds the origin's sending to the reading. Without a byte limit the
 * body is undici's own, untouched. Destroying the returned stream stops reading the origin.
 */
export function pacedBody(
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
export function withBody<T>(res: Dispatcher.ResponseData, check: () => T): T {
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
export function dropBody(res: Dispatcher.ResponseData): void {
  res.body.on('error', () => undefined);
  res.body.destroy();
}
