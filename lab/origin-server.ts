// Over 400 lines on purpose: one request path (plan, then send) that every fault and quirk bends; the pure parts (ranges, conditions, volatile playlists) are exported and tested apart.
/**
 * A local HTTP origin serving a sample library (or any OriginContent) the way a CDN would:
 * GET/HEAD, single byte ranges, redirects, keep-alive and streamed bodies, plus deterministic
 * fault injection (5xx, resets, truncated bodies, slow answers, files gone for good) and the
 * quirks of real origins (bodies encoded although identity was asked for, chunked or
 * close-delimited framing).
 */
import { setMaxListeners } from 'node:events';
import { listenLocal } from '../src/util/listen.ts';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Readable, type Transform } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { createBrotliCompress, createDeflate, createGzip } from 'node:zlib';
import { checkRates, FaultDice } from './fault-dice.ts';
import { RateMeter } from './rate-meter.ts';
import { WireMeter } from './wire-meter.ts';

/** What the server needs from the content it serves; SampleLibrary implements it. */
export interface OriginContent {
  /**
   * Size and type of a file, and its validators when it has them: an ETag (quoted, as sent) and a
   * Last-Modified date, which the server sends and answers conditional requests with (304).
   */
  stat(
    path: string,
  ): { size: number; contentType: string; etag?: string | undefined; lastModified?: string | undefined } | undefined;
  /** Streams the file, or the inclusive byte range of it. */
  read(path: string, range?: { start: number; end: number }): Readable;
  /** The whole file at once: what a volatile playlist mode rewrites per request (SampleLibrary has it). */
  bytes?(path: string): Buffer;
}

/**
 * How playlists are served. `stable`: as stored. `token`: per request, a new token in every URI's
 * query string (`seg-1.ts?token=…`), a comment and an EXT-X-PROGRAM-DATE-TIME that change: other
 * bytes, the same files. `session`: per request, every playlist URI names a new session
 * (`index_w1000003.m3u8`, served as `index.m3u8`): other files each time, as a CDN that puts its
 * session id in the path does.
 */
export type PlaylistMode = 'stable' | 'token' | 'session';

export type OriginFaultKind = 'http5xx' | 'reset' | 'truncate' | 'slow' | 'gone';

/** Faults to inject; rates are per request, in [0, 1], and add up to at most 1. */
export interface OriginFaults {
  /** Makes the decisions repeatable: the n-th request for a path always gets the same fate. */
  seed?: number;
  /** Answer 500 or 503. */
  http5xx?: number;
  /** Reset the connection, before the response or part-way through the body. */
  reset?: number;
  /** Send the full Content-Length, part of the body, then close the connection. */
  truncate?: number;
  /** Hold the response for `slowMs` before answering normally. */
  slow?: number;
  /** Delay of a slow response in milliseconds. Default 2000. */
  slowMs?: number;
  /** Paths (without query) that answer 404 every time: files gone from the origin for good. */
  gone?: readonly string[] | ((path: string) => boolean);
  /**
   * `Content-Encoding` of every whole-file answer (200), whatever the request's Accept-Encoding,
   * as some CDNs do: `gzip`, `br` and `deflate` (zlib format, RFC 9110) are really encoded; any other
   * token (`zstd`, `x-custom`) is only announced, over the file's own bytes: an encoding the client
   * cannot decode. Ranges (206) are never encoded. Unset: identity.
   */
  encoding?: string | undefined;
  /**
   * How a body's end is told: `length` (Content-Length, the default), `chunked`, or `close` (neither:
   * the body ends when the server closes the connection, as HTTP/1.0 servers answer). With `close` a
   * truncated body ends with an ordinary close: the client cannot tell it from a whole one.
   */
  framing?: OriginFraming | undefined;
  /** How playlists are served (default `stable`); the volatile modes need `OriginContent.bytes`. */
  playlists?: PlaylistMode;
  /**
   * Throttling, as a CDN protecting its origin does: a request arriving when this many were served
   * within the last second is answered 429 with `Retry-After: throttleRetryAfter` (default 1).
   */
  throttleRps?: number | undefined;
  throttleRetryAfter?: number | undefined;
}

export type OriginFraming = 'length' | 'chunked' | 'close';

/** The encodings the server can really produce; other `encoding` tokens are labels only. */
const ENCODERS: Readonly<Record<string, () => Transform>> = {
  gzip: createGzip,
  'x-gzip': createGzip,
  br: createBrotliCompress,
  deflate: createDeflate,
};

export interface OriginStats {
  requests: number;
  /** TCP connections accepted; far fewer than requests when clients keep connections alive. */
  connections: number;
  /** Body bytes written (partial bodies of injected faults included). */
  bytesSent: number;
  /** Responses by status code; resets have none. */
  byStatus: Record<string, number>;
  faults: Record<OriginFaultKind, number>;
  /** Responses the client abandoned before the end of the body. */
  clientAborts: number;
  /** Requests answered 429 by the throttling mode. */
  throttled: number;
  /** The most requests that arrived within any one second, and the most body bytes sent within one. */
  peakRequestsPerSecond: number;
  peakBytesPerSecond: number;
  /**
   * With `measureWire`: the most bytes (headers included) the clients' TCP acknowledged within any
   * one second, what the network carried (lab/wire-meter.ts); `peakBytesPerSecond` counts writes,
   * which the kernel's send buffer takes far ahead of the network. 0 without `measureWire`.
   */
  peakWireBytesPerSecond: number;
}

/** Where a redirected path points: a Location (answered with 302), or a Location and the status to answer with. */
export type Redirect = string | { status: 301 | 302 | 303 | 307 | 308; location: string };

export interface OriginServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  faults?: OriginFaults;
  /** Path → Location answered with 302, or with another redirect status (relative locations resolve against the request). */
  redirects?: Readonly<Record<string, Redirect>>;
  /** Count what the network carried per second, from /proc/net/tcp every 20 ms (Linux; lab/wire-meter.ts). */
  measureWire?: boolean;
}

export interface OriginServer {
  /** Base URL, e.g. http://127.0.0.1:41234 (no trailing slash). */
  url: string;
  port: number;
  stats(): OriginStats;
  /** Replaces the fault configuration for the requests that follow (and restarts each path's sequence). */
  setFaults(faults: OriginFaults): void;
  setRedirects(redirects: Readonly<Record<string, Redirect>>): void;
  close(): Promise<void>;
}

/** The outcome of a Range header against a file of known size. */
export type RangeOutcome = { kind: 'none' } | { kind: 'range'; start: number; end: number } | { kind: 'unsatisfiable' };

/** Parses a single `bytes=` range (RFC 9110 §14); multi-range and malformed headers are ignored. */
export function parseRange(header: string | undefined, size: number): RangeOutcome {
  if (header === undefined) return { kind: 'none' };
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return { kind: 'none' };
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return { kind: 'none' };
  if (a === '') {
    const n = Number(b);
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  if (b !== '' && Number(b) < start) return { kind: 'none' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'range', start, end: b === '' ? size - 1 : Math.min(Number(b), size - 1) };
}

const FAULT_KINDS: readonly OriginFaultKind[] = ['http5xx', 'reset', 'truncate', 'slow', 'gone'];

/** The conditional headers of a request (RFC 9110 §13.1). */
interface Conditions {
  ifNoneMatch?: string | undefined;
  ifModifiedSince?: string | undefined;
}

/** Whether a conditional GET/HEAD is answered 304: If-None-Match (weak comparison) wins over If-Modified-Since. */
export function notModified(
  st: { etag?: string | undefined; lastModified?: string | undefined },
  c: Conditions,
): boolean {
  const weak = (t: string) => t.trim().replace(/^W\//, '');
  if (c.ifNoneMatch !== undefined) {
    if (!st.etag) return false;
    return c.ifNoneMatch.split(',').some((t) => t.trim() === '*' || weak(t) === weak(st.etag!));
  }
  if (c.ifModifiedSince !== undefined && st.lastModified) {
    const since = Date.parse(c.ifModifiedSince);
    const modified = Date.parse(st.lastModified);
    return (
      Number.isFinite(since) && Number.isFinite(modified) && Math.floor(modified / 1000) <= Math.floor(since / 1000)
    );
  }
  return false;
}

function validate(f: OriginFaults): OriginFaults {
  checkRates('origin faults', { http5xx: f.http5xx, reset: f.reset, truncate: f.truncate, slow: f.slow });
  if (f.slowMs !== undefined && !(Number.isInteger(f.slowMs) && f.slowMs >= 0 && f.slowMs <= 600_000))
    throw new RangeError(`origin faults: slowMs must be 0..600000, got ${f.slowMs}`);
  if (f.seed !== undefined && !Number.isSafeInteger(f.seed))
    throw new RangeError(`origin faults: seed must be an integer, got ${f.seed}`);
  if (f.encoding !== undefined && !/^[a-z0-9!#$%&'*+.^_`|~-]+$/i.test(f.encoding))
    throw new RangeError(`origin faults: encoding must be one content-coding token, got "${f.encoding}"`);
  if (f.framing !== undefined && !['length', 'chunked', 'close'].includes(f.framing))
    throw new RangeError(`origin faults: framing must be length, chunked or close, got "${f.framing}"`);
  if (f.throttleRps !== undefined && !(Number.isInteger(f.throttleRps) && f.throttleRps >= 1))
    throw new RangeError(`origin faults: throttleRps must be a whole number of at least 1, got ${f.throttleRps}`);
  if (f.playlists !== undefined && !['stable', 'token', 'session'].includes(f.playlists))
    throw new RangeError(`origin faults: playlists must be stable, token or session, got ${String(f.playlists)}`);
  return { ...f };
}

/** A session id in a playlist's name (`index_w1000003.m3u8`): the `session` mode serves `index.m3u8` under it. */
const SESSION_NAME = /_w\d+(\.m3u8)$/i;

/** The file a request names, once a `session` mode's session id is taken out of it. */
export function sessionlessPath(path: string): string {
  return path.replace(SESSION_NAME, '$1');
}

/**
 * A playlist as a volatile origin serves it on its `n`-th request (see PlaylistMode). Pure: the same
 * text, mode, n and clock give the same bytes. URI lines and `URI="…"` attributes are rewritten; tags
 * and the rest stay as they are.
 */
export function volatilePlaylist(text: string, mode: Exclude<PlaylistMode, 'stable'>, n: number, now: Date): string {
  const session = 1_000_000 + n;
  const token = `${n.toString(36)}-${session.toString(16)}`;
  const rewrite = (uri: string): string => {
    if (mode === 'token') return `${uri}${uri.includes('?') ? '&' : '?'}token=${token}`;
    // Only playlist names carry the session, as on Wowza-style origins (`chunklist_w<session>.m3u8`).
    const [path = '', query] = uri.split('?', 2);
    if (!/\.m3u8$/i.test(path)) return uri;
    const named = path.replace(/(\.m3u8)$/i, `_w${session}$1`);
    return query === undefined ? named : `${named}?${query}`;
  };
  const lines = text.split('\n').map((line) => {
    const t = line.trim();
    if (t === '') return line;
    if (!t.startsWith('#')) return rewrite(t);
    return line.replace(/URI="([^"]*)"/g, (_m, uri: string) => `URI="${uri === '' ? uri : rewrite(uri)}"`);
  });
  if (mode === 'token') {
    // What changes per request besides the URIs: a comment, and the wall-clock date of the first segment.
    const head = lines.findIndex((l) => l.trim() === '#EXTM3U');
    lines.splice(head + 1, 0, `# served as request ${n} at ${now.toISOString()}`);
    const first = lines.findIndex((l) => l.startsWith('#EXTINF'));
    if (first >= 0) lines.splice(first, 0, `#EXT-X-PROGRAM-DATE-TIME:${now.toISOString()}`);
  }
  return lines.join('\n');
}

/** What the request resolves to before any fault is applied. */
type Plan =
  | {
      kind: 'body';
      status: 200 | 206;
      headers: Record<string, string | number>;
      path: string;
      start: number;
      end: number;
    }
  | { kind: 'small'; status: number; headers: Record<string, string | number>; text: string; gone?: boolean };

/** Starts the origin on 127.0.0.1 (port 0 by default) and resolves once it accepts connections. */
export async function startOriginServer(content: OriginContent, opts: OriginServerOptions = {}): Promise<OriginServer> {
  let faults = validate(opts.faults ?? {});
  let dice = new FaultDice<OriginFaultKind>(faults.seed ?? 1, 'origin');
  let redirects = new Map(Object.entries(opts.redirects ?? {}));
  let goneSet = new Set<string>();
  /** Requests per playlist path so far, for the volatile playlist modes. */
  const playlistRequests = new Map<string, number>();
  const stats: OriginStats = {
    requests: 0,
    connections: 0,
    bytesSent: 0,
    byStatus: {},
    faults: Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<OriginFaultKind, number>,
    clientAborts: 0,
    throttled: 0,
    peakRequestsPerSecond: 0,
    peakBytesPerSecond: 0,
    peakWireBytesPerSecond: 0,
  };
  let wire: WireMeter | undefined;
  const meter = new RateMeter();
  /** Requests served (not throttled) within the last second, for the throttling mode. */
  const served = new RateMeter();
  const closing = new AbortController();
  // Every slow response waits on this one signal; many at once is the point of a slow fault.
  setMaxListeners(0, closing.signal);

  const applyFaults = (f: OriginFaults) => {
    faults = validate(f);
    meter.reset();
    wire?.meter.reset();
    served.reset();
    dice = new FaultDice<OriginFaultKind>(faults.seed ?? 1, 'origin');
    goneSet = new Set<string>(Array.isArray(faults.gone) ? (faults.gone as readonly string[]) : []);
  };
  applyFaults(faults);

  const isGone = (path: string): boolean => {
    const g = faults.gone;
    return typeof g === 'function' ? g(path) : goneSet.has(path);
  };

  function plan(method: string, rawUrl: string, rangeHeader: string | undefined, conditions: Conditions = {}): Plan {
    const text = (status: number, t: string, headers: Record<string, string | number> = {}): Plan => ({
      kind: 'small',
      status,
      headers,
      text: t,
    });
    if (method !== 'GET' && method !== 'HEAD') return text(405, 'method not allowed\n', { allow: 'GET, HEAD' });
    let path: string;
    try {
      path = decodeURIComponent(new URL(rawUrl, 'http://origin.invalid').pathname);
    } catch {
      return text(400, 'bad request path\n');
    }
    const redirect = redirects.get(path);
    if (typeof redirect === 'string') return text(302, '', { location: redirect });
    if (redirect !== undefined) return text(redirect.status, '', { location: redirect.location });
    const mode = faults.playlists ?? 'stable';
    if (mode === 'session') path = sessionlessPath(path);
    if (isGone(path)) return { kind: 'small', status: 404, headers: {}, text: 'not found\n', gone: true };
    const st = content.stat(path);
    if (!st) return text(404, 'not found\n');
    if (mode !== 'stable' && /\.m3u8$/i.test(path) && content.bytes) {
      // New bytes on every request, and so no validators: a CDN that rewrites playlists sends none that hold.
      const n = (playlistRequests.get(path) ?? 0) + 1;
      playlistRequests.set(path, n);
      const body = volatilePlaylist(content.bytes(path).toString('utf8'), mode, n, new Date());
      return text(200, body, { 'content-type': st.contentType });
    }
    const validators: Record<string, string> = {
      ...(st.etag ? { etag: st.etag } : {}),
      ...(st.lastModified ? { 'last-modified': st.lastModified } : {}),
    };
    if (notModified(st, conditions)) return { kind: 'small', status: 304, headers: validators, text: '' };
    const headers = { 'content-type': st.contentType, 'accept-ranges': 'bytes', ...validators };
    const r = parseRange(rangeHeader, st.size);
    if (r.kind === 'unsatisfiable')
      return text(416, 'range not satisfiable\n', { 'accept-ranges': 'bytes', 'content-range': `bytes */${st.size}` });
    if (r.kind === 'range')
      return {
        kind: 'body',
        status: 206,
        headers: { ...headers, 'content-range': `bytes ${r.start}-${r.end}/${st.size}` },
        path,
        start: r.start,
        end: r.end,
      };
    return { kind: 'body', status: 200, headers, path, start: 0, end: st.size - 1 };
  }

  const count = (status: number) => {
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
  };

  function sendSmall(
    res: ServerResponse,
    status: number,
    headers: Record<string, string | number>,
    text: string,
    head: boolean,
  ): void {
    count(status);
    if (status === 304) {
      // No body, no Content-Length: only the validators (RFC 9110 §15.4.5).
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const body = Buffer.from(text);
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers, 'content-length': body.length });
    res.end(head ? undefined : body);
  }

  function resetSocket(socket: Socket | null): void {
    if (!socket || socket.destroyed) return;
    // An RST rather than a FIN: the client sees ECONNRESET, as with a crashed or overloaded CDN node.
    socket.resetAndDestroy();
  }

  /** A whole file, encoded (or only labelled, for a token the server cannot produce): its length is known once it is all encoded. */
  async function encodedBody(path: string, encoding: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    const collect = async (source: AsyncIterable<Buffer>) => {
      for await (const c of source) chunks.push(c);
    };
    const make = ENCODERS[encoding.toLowerCase()];
    if (make) await pipeline(content.read(path), make(), collect);
    else await collect(content.read(path));
    return Buffer.concat(chunks);
  }

  async function sendBody(
    req: IncomingMessage,
    res: ServerResponse,
    p: Extract<Plan, { kind: 'body' }>,
    cut: { frac: number; how: 'truncate' | 'reset' } | undefined,
  ): Promise<void> {
    const encoding = p.status === 200 ? faults.encoding : undefined;
    const encoded = encoding ? await encodedBody(p.path, encoding) : undefined;
    const length = encoded ? encoded.length : p.end - p.start + 1;
    const headers: Record<string, string | number> = {
      ...p.headers,
      ...(encoding ? { 'content-encoding': encoding } : {}),
    };
    const framing = faults.framing ?? 'length';
    if (framing === 'length') headers['content-length'] = length;
    else if (framing === 'chunked') headers['transfer-encoding'] = 'chunked';
    else {
      // Neither length nor chunks: the end of the body is the end of the connection.
      res.shouldKeepAlive = false;
      res.useChunkedEncodingByDefault = false;
    }
    count(p.status);
    res.writeHead(p.status, headers);
    if (req.method === 'HEAD' || length === 0) {
      res.end();
      return;
    }
    const at = cut ? Math.floor(length * cut.frac) : length;
    const stream = encoded
      ? Readable.from([encoded.subarray(0, at)])
      : content.read(p.path, { start: p.start, end: p.start + at - 1 });
    stream.on('data', (chunk: Buffer) => {
      stats.bytesSent += chunk.length;
      meter.sent(chunk.length);
    });
    if (!cut) {
      try {
        await pipeline(stream, res);
      } catch {
        // The client went away mid-body; nothing to answer, and the server must not fall over.
        stats.clientAborts++;
      }
      return;
    }
    const socket = res.socket;
    if (at > 0) {
      stream.pipe(res, { end: false });
      res.once('close', () => stream.destroy());
      try {
        await finished(stream);
      } catch {
        stats.clientAborts++;
        return;
      }
      if (socket && socket.writableLength > 0 && !socket.destroyed) {
        await new Promise<void>((resolve) => {
          socket.once('drain', resolve);
          socket.once('close', resolve);
        });
      }
    } else stream.destroy();
    if (cut.how === 'reset') resetSocket(socket);
    // A FIN after a short body: a declared length or an unfinished chunked body was a promise the
    // origin did not keep; a close-delimited body simply looks whole.
    else socket?.end();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.requests++;
    meter.arrive();
    if (faults.throttleRps !== undefined) {
      if (served.recent() >= faults.throttleRps) {
        stats.throttled++;
        sendSmall(
          res,
          429,
          { 'retry-after': faults.throttleRetryAfter ?? 1 },
          'too many requests\n',
          req.method === 'HEAD',
        );
        return;
      }
      served.arrive();
    }
    let closed = false;
    res.once('close', () => {
      closed = true;
    });
    const p = plan(req.method ?? 'GET', req.url ?? '/', req.headers.range, {
      ifNoneMatch: req.headers['if-none-match'],
      ifModifiedSince: req.headers['if-modified-since'],
    });
    const head = req.method === 'HEAD';
    const path = p.kind === 'body' ? p.path : (req.url ?? '/').split('?')[0]!;
    const { kind, detail } = dice.roll(path, [
      ['http5xx', faults.http5xx ?? 0],
      ['reset', faults.reset ?? 0],
      ['truncate', faults.truncate ?? 0],
      ['slow', faults.slow ?? 0],
    ]);
    if (kind === 'slow') {
      stats.faults.slow++;
      try {
        await sleep(faults.slowMs ?? 2000, undefined, { signal: closing.signal });
      } catch {
        res.destroy();
        return;
      }
      if (closed) {
        stats.clientAborts++;
        return;
      }
    }
    const bodyLength = p.kind === 'body' && !head ? p.end - p.start + 1 : 0;
    if (kind === 'http5xx') {
      stats.faults.http5xx++;
      const status = detail.next() < 0.5 ? 500 : 503;
      sendSmall(
        res,
        status,
        status === 503 ? { 'retry-after': 1 } : {},
        status === 503 ? 'service unavailable\n' : 'internal server error\n',
        head,
      );
      return;
    }
    if (kind === 'reset') {
      stats.faults.reset++;
      // Half the resets come before any response, half part-way through a body (if there is one).
      if (bodyLength > 0 && detail.next() >= 0.5 && p.kind === 'body') {
        await sendBody(req, res, p, { frac: 0.1 + 0.8 * detail.next(), how: 'reset' });
      } else {
        resetSocket(req.socket);
      }
      return;
    }
    if (p.kind === 'small') {
      if (p.gone) stats.faults.gone++;
      sendSmall(res, p.status, p.headers, p.text, head);
      return;
    }
    if (kind === 'truncate' && bodyLength > 0) {
      stats.faults.truncate++;
      await sendBody(req, res, p, { frac: 0.1 + 0.8 * detail.next(), how: 'truncate' });
      return;
    }
    await sendBody(req, res, p, undefined);
  }

  const server = createServer({ keepAlive: true }, (req, res) => {
    res.on('error', () => {});
    handle(req, res).catch((err: unknown) => {
      // A bug in the content (e.g. a read that throws): answer 500 if still possible, never crash.
      if (!res.headersSent)
        sendSmall(res, 500, {}, `origin error: ${err instanceof Error ? err.message : String(err)}\n`, false);
      else res.destroy();
    });
  });
  // Longer than any client's idle timeout, so a client never reuses a socket the server is closing.
  server.keepAliveTimeout = 30_000;
  server.headersTimeout = 35_000;
  server.on('connection', (socket: Socket) => {
    stats.connections++;
    wire?.track(socket);
    socket.on('error', () => {});
  });
  server.on('clientError', (_err, socket) => {
    socket.destroy();
  });

  const { url, port } = await listenLocal(server, opts);
  if (opts.measureWire) wire = new WireMeter(port);

  return {
    url,
    port,
    stats: () => ({
      ...structuredClone(stats),
      peakRequestsPerSecond: meter.peakRequestsPerSecond(),
      peakBytesPerSecond: meter.peakBytesPerSecond(),
      peakWireBytesPerSecond: wire?.meter.peakBytesPerSecond() ?? 0,
    }),
    setFaults: applyFaults,
    setRedirects(r) {
      redirects = new Map(Object.entries(r));
    },
    async close() {
      closing.abort();
      wire?.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
