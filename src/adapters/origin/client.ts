// The origin client (undici): the Origin port over the guarded requester, with size caps, conditional
// requests and encoded answers decoded. The guards are apart: lookup.ts (resolved addresses),
// requester.ts (allow-list, redirects), headers.ts (codings, framing), bodies.ts (decoding, pacing),
// answers.ts and http-errors.ts (errors).
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { Agent } from 'undici';
import { OriginError, type Origin } from '../../domain/ports/origin.ts';
import type { OriginGate } from '../../domain/origin/gate.ts';
import { responseError, retryAfterOf } from './answers.ts';
import { decodedBody, dropBody, pacedBody, withBody } from './bodies.ts';
import {
  codingsOf,
  conditionalHeaders,
  declaredLength,
  headerValue,
  isChunked,
  isEncoded,
  validatorsOf,
} from './headers.ts';
import { networkError, statusError } from './http-errors.ts';
import { guardedLookup, systemResolver, type Resolver } from './lookup.ts';
import { guardedRequester } from './requester.ts';

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
      const contentLength = declaredLength(res.headers);
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
      // An encoded answer's length is the encoded one, not the file's (which is stored decoded).
      const encoded = isEncoded(res.headers);
      return {
        url: finalUrl,
        contentLength: encoded ? undefined : declaredLength(res.headers),
        ...validatorsOf(res.headers),
      };
    },

    async close() {
      await agent.close();
    },
  };
}
