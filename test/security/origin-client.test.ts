// The origin client's guards (src/adapters/origin/client.ts), each refusal pinned with its error code and
// whether it is worth retrying, against a real HTTP server on loopback: the allow-list on every
// redirect hop, the redirect limit, size caps on declared, received and decoded bytes, bodies shorter
// than they said, bodies nothing frames, encodings, and how each failure is classified. This file is
// the mutation target `origin-client` (docs/testing.md).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrigin } from '../../src/adapters/origin/client.ts';
import { asOriginError, BlockedAddressError } from '../../src/adapters/origin/http-errors.ts';
import { assertFetchable } from '../../src/adapters/origin/requester.ts';
import type { ResolvedAddress } from '../../src/adapters/origin/lookup.ts';
import { OriginError, type Origin } from '../../src/domain/ports/origin.ts';
import { OriginGate } from '../../src/domain/origin/gate.ts';

let server: Server;
let base: string;
let port: number;
let origin: Origin;
const requested: string[] = [];
const headersSeen: Record<string, IncomingMessage['headers']> = {};

/** Answers over the bare socket: framings and lies a well-behaved server library never sends. */
function raw(req: IncomingMessage, text: string | Buffer): void {
  const socket = req.socket;
  socket.end(text);
}

const PLAYLIST = '#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\na.ts\n#EXT-X-ENDLIST\n';
const BIG = Buffer.alloc(5000, 0x41);

/** Sockets of answers that announced far more than they send: a refusal must close them. */
const bigSockets: Socket[] = [];

/** Writes a body in pieces, each once the previous one has left: the client reads them apart. */
function paced(res: ServerResponse, status: number, pieces: string[]): void {
  res.writeHead(status);
  const next = (i: number): void => {
    if (i === pieces.length) return void res.end();
    res.write(pieces[i], () => setTimeout(() => next(i + 1), 20));
  };
  next(0);
}

/** 403 bodies of expired signed URLs, as S3, CloudFront and CDNs word them. */
const EXPIRED_BODIES = [
  '<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>',
  'signature has expired',
  'Token Expired: the URL expired before signature check',
  'expired url',
  '<Code>ExpiredToken</Code>',
  `${'x'.repeat(3000)} request HAS EXPIRED`,
];

const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
  '/ok.m3u8': (_q, res) => res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' }).end(PLAYLIST),
  '/ten': (_q, res) => res.writeHead(200, { 'content-length': '10' }).end('0123456789'),
  '/chunked-big': (_q, res) => {
    res.writeHead(200);
    res.write(BIG.subarray(0, 2500));
    res.end(BIG.subarray(2500));
  },
  '/chunked-small': (_q, res) => {
    res.writeHead(200);
    res.end('0123456789');
  },
  '/short': (req) => raw(req, 'HTTP/1.1 200 OK\r\ncontent-length: 20\r\nconnection: close\r\n\r\n0123456789'),
  '/unframed': (req) => raw(req, 'HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n0123456789'),
  '/unframed-big': (req) => raw(req, Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n'), BIG])),
  '/odd-length': (req) => raw(req, 'HTTP/1.1 200 OK\r\ncontent-length: +10\r\nconnection: close\r\n\r\n0123456789'),
  '/gzip': (_q, res) => {
    const body = gzipSync(PLAYLIST);
    res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': String(body.length) }).end(body);
  },
  '/gzip-bomb': (_q, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(BIG)),
  '/gzip-short': (req) => {
    const body = gzipSync(PLAYLIST);
    raw(
      req,
      Buffer.concat([
        Buffer.from(
          `HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: ${body.length + 10}\r\nconnection: close\r\n\r\n`,
        ),
        body,
      ]),
    );
  },
  '/gzip-corrupt': (_q, res) =>
    res.writeHead(200, { 'content-encoding': 'gzip' }).end(Buffer.from('this is not gzip at all, not even close')),
  '/identity-listed': (_q, res) =>
    res.writeHead(200, { 'content-encoding': 'identity', 'content-length': '10' }).end('0123456789'),
  '/zstd': (_q, res) => res.writeHead(200, { 'content-encoding': 'zstd' }).end('whatever'),
  '/validators': (req, res) => {
    if (req.headers['if-none-match'] === '"v1"' || req.headers['if-modified-since'])
      return void res.writeHead(304, { etag: '"v1"' }).end();
    res
      .writeHead(200, { etag: '"v1"', 'last-modified': 'Wed, 01 Apr 2026 00:00:00 GMT', 'content-length': '10' })
      .end('0123456789');
  },
  '/bad-validators': (_q, res) =>
    res.writeHead(200, { etag: 'x'.repeat(201), 'last-modified': 'not a date' }).end('0123456789'),
  '/no-location': (_q, res) => res.writeHead(302).end(),
  '/to-ok': (_q, res) => res.writeHead(302, { location: '/ok.m3u8' }).end(),
  '/to-elsewhere': (_q, res) => res.writeHead(302, { location: 'http://elsewhere.example:1/x.m3u8' }).end(),
  '/to-ftp': (_q, res) => res.writeHead(301, { location: 'ftp://127.0.0.1/x.m3u8' }).end(),
  '/to-blocked': (_q, res) => res.writeHead(307, { location: `http://inside.example:${port}/ok.m3u8` }).end(),
  '/multiple-choices': (_q, res) => res.writeHead(300, { location: '/ok.m3u8' }).end(),
  '/not-modified': (_q, res) => res.writeHead(304).end(),
  '/expired': (_q, res) =>
    res.writeHead(403).end('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>'),
  '/forbidden': (_q, res) => res.writeHead(403).end('<Error><Code>AccessDenied</Code></Error>'),
  '/hang': () => undefined,
  '/long-coding': (_q, res) => res.writeHead(200, { 'content-encoding': 'q'.repeat(300) }).end('x'),
  '/identity-spaced': (_q, res) =>
    res.writeHead(200, { 'content-encoding': 'IDENTITY , , identity', 'content-length': '10' }).end('0123456789'),
  '/te-list': (req) =>
    raw(
      req,
      'HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\nconnection: close\r\n\r\na\r\n0123456789\r\n0\r\n\r\n',
    ),
  // 403 bodies read in pieces: the first 4 KiB or so decide, the rest is never read.
  '/expired-after-4096': (_q, res) => paced(res, 403, ['x'.repeat(4096), 'request has expired']),
  '/expired-after-5000': (_q, res) => paced(res, 403, ['x'.repeat(5000), 'request has expired']),
  '/expired-second-piece': (_q, res) => paced(res, 403, ['<Error>', 'request has expired']),
  '/huge-declared': (req, res) => {
    bigSockets.push(req.socket);
    res.writeHead(200, { 'content-length': String(1e9) });
    res.write('0123456789');
  },
  '/gzip-upper': (_q, res) => {
    const body = gzipSync(PLAYLIST);
    res.writeHead(200, { 'content-encoding': ' GZIP , identity', 'content-length': String(body.length) }).end(body);
  },
  '/gzip-twice-listed': (req) => {
    const body = gzipSync(PLAYLIST);
    raw(
      req,
      Buffer.concat([
        Buffer.from(
          'HTTP/1.1 200 OK\r\ncontent-encoding: identity\r\ncontent-encoding: gzip\r\nconnection: close\r\n\r\n',
        ),
        body,
      ]),
    );
  },
  '/chunked-upper': (req) =>
    raw(req, 'HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked \r\nconnection: close\r\n\r\na\r\n0123456789\r\n0\r\n\r\n'),
  '/busy': (_q, res) => res.writeHead(503, { 'retry-after': '7', 'content-length': '4' }).end('busy'),
  // undici passes a Content-Length with trailing spaces through as it came; it is no plain digits.
  '/length-spaced': (req) => raw(req, 'HTTP/1.1 200 OK\r\ncontent-length: 10 \r\nconnection: close\r\n\r\n0123456789'),
  '/gzip-long': (_q, res) => {
    const body = gzipSync(BIG);
    res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': String(body.length) }).end(body);
  },
};

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requested.push(url.pathname);
    headersSeen[url.pathname] = req.headers;
    const hops = /^\/hops\/(\d+)$/.exec(url.pathname);
    if (hops) {
      const n = Number(hops[1]);
      return void res.writeHead(302, { location: n === 0 ? '/ok.m3u8' : `/hops/${n - 1}` }).end();
    }
    const redirect = /^\/redirect\/(\d+)$/.exec(url.pathname);
    if (redirect) return void res.writeHead(Number(redirect[1]), { location: '/ok.m3u8' }).end();
    const expired = /^\/expired\/(\d+)$/.exec(url.pathname);
    if (expired) return void res.writeHead(403).end(EXPIRED_BODIES[Number(expired[1])]);
    const status = /^\/status\/(\d+)$/.exec(url.pathname);
    if (status) return void res.writeHead(Number(status[1])).end('no');
    const route = routes[url.pathname];
    if (route) return route(req, res);
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
  origin = createOrigin({
    allowedHosts: [`127.0.0.1:${port}`, `inside.example:${port}`],
    maxRedirects: 2,
    headersTimeoutMs: 1_000,
    resolve: async (): Promise<ResolvedAddress[]> => [{ address: '10.0.0.1', family: 4 }],
  });
});
afterAll(async () => {
  await origin?.close();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
});

/** The refusal a call ends in: its code, status and whether it is worth retrying. */
async function refusal(
  p: Promise<unknown>,
): Promise<{ code: string; status?: number; retryable: boolean; message: string }> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(OriginError);
    const e = err as OriginError;
    return { code: e.code, retryable: e.retryable, message: e.message, ...(e.status ? { status: e.status } : {}) };
  }
  throw new Error('expected a refusal');
}

async function drain(body: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('what may be fetched at all', () => {
  it('only http and https, on an allowed host and port, saying which hop redirected there', () => {
    const allowed = ['cdn.example.com'];
    expect(() => assertFetchable(new URL('https://cdn.example.com/a'), allowed)).not.toThrow();
    expect(() => assertFetchable(new URL('http://cdn.example.com/a'), allowed)).not.toThrow();
    for (const [url, code] of [
      ['ftp://cdn.example.com/a', 'ORIGIN_BAD_SCHEME'],
      ['file:///etc/passwd', 'ORIGIN_BAD_SCHEME'],
      ['https://other.example.com/a', 'ORIGIN_HOST_NOT_ALLOWED'],
      ['https://cdn.example.com:8443/a', 'ORIGIN_HOST_NOT_ALLOWED'],
    ] as const) {
      let err: unknown;
      try {
        assertFetchable(new URL(url), allowed, 'https://cdn.example.com/start');
      } catch (e) {
        err = e;
      }
      expect(err, url).toBeInstanceOf(OriginError);
      expect((err as OriginError).code).toBe(code);
      expect((err as OriginError).retryable).toBe(false);
      expect((err as OriginError).url).toBe(new URL(url).href);
      expect((err as OriginError).message).toContain('(redirected from https://cdn.example.com/start)');
    }
    try {
      assertFetchable(new URL('https://other.example.com/a'), allowed);
    } catch (e) {
      expect((e as Error).message).toBe(
        'host "other.example.com" is not in ORIGIN_ALLOWED_HOSTS: refusing https://other.example.com/a',
      );
    }
    try {
      assertFetchable(new URL('ftp://cdn.example.com/a'), allowed);
    } catch (e) {
      expect((e as Error).message).toBe('refusing to fetch ftp: URL ftp://cdn.example.com/a');
    }
  });

  it('a host not allowed is refused before any request', async () => {
    const before = requested.length;
    expect(await refusal(origin.fetchText(`http://127.0.0.1:1/x.m3u8`, { maxBytes: 100 }))).toMatchObject({
      code: 'ORIGIN_HOST_NOT_ALLOWED',
      retryable: false,
    });
    expect(requested.length).toBe(before);
  });
});

describe('redirects', () => {
  it('every redirect status is followed, up to the limit, to the final URL; one more is refused', async () => {
    const two = await origin.fetchText(`${base}/hops/1`, { maxBytes: 1000 });
    expect(two.url).toBe(`${base}/ok.m3u8`);
    expect(two.body).toBe(PLAYLIST);
    for (const status of [301, 302, 303, 307, 308]) {
      const r = await origin.openStream(`${base}/redirect/${status}`);
      expect((await drain(r.body)).toString(), String(status)).toBe(PLAYLIST);
      expect(r.url).toBe(`${base}/ok.m3u8`);
    }
    expect(await refusal(origin.fetchText(`${base}/hops/2`, { maxBytes: 1000 }))).toMatchObject({
      code: 'ORIGIN_TOO_MANY_REDIRECTS',
      retryable: false,
      message: `more than 2 redirects starting at ${base}/hops/2`,
    });
    expect(await refusal(origin.head(`${base}/hops/2`))).toMatchObject({ code: 'ORIGIN_TOO_MANY_REDIRECTS' });
  });

  it('the allow-list and the scheme are checked again on every hop; the refused target is never requested', async () => {
    expect(await refusal(origin.fetchText(`${base}/to-elsewhere`, { maxBytes: 100 }))).toMatchObject({
      code: 'ORIGIN_HOST_NOT_ALLOWED',
      retryable: false,
    });
    const r = await refusal(origin.openStream(`${base}/to-ftp`));
    expect(r).toMatchObject({ code: 'ORIGIN_BAD_SCHEME', retryable: false });
    expect(r.message).toContain(`(redirected from ${base}/to-ftp)`);
  });

  it('an allowed name resolving to a private address is refused on the hop that reaches it, not retryable', async () => {
    const before = requested.length;
    const r = await refusal(origin.fetchText(`${base}/to-blocked`, { maxBytes: 100 }));
    expect(r).toMatchObject({ code: 'ORIGIN_ADDRESS_BLOCKED', retryable: false });
    expect(r.message).toMatch(
      new RegExp(
        `^refusing http://inside\\.example:${port}/ok\\.m3u8: inside\\.example resolves to 10\\.0\\.0\\.1, a `,
      ),
    );
    expect(requested.length).toBe(before + 1);
  });

  it('a redirect without Location is refused; 300 and 304 are answers, not redirects', async () => {
    expect(await refusal(origin.fetchText(`${base}/no-location`, { maxBytes: 100 }))).toMatchObject({
      code: 'ORIGIN_BAD_REDIRECT',
      retryable: false,
      message: `HTTP 302 without Location from ${base}/no-location`,
    });
    expect(await refusal(origin.fetchText(`${base}/multiple-choices`, { maxBytes: 100 }))).toMatchObject({
      code: 'ORIGIN_HTTP_STATUS',
      status: 300,
    });
    // A 304 nobody asked for (no validators sent) is no "not modified".
    expect(await refusal(origin.openStream(`${base}/not-modified`))).toMatchObject({
      code: 'ORIGIN_HTTP_STATUS',
      status: 304,
    });
    expect(await refusal(origin.fetchText(`${base}/not-modified`, { maxBytes: 100 }))).toMatchObject({
      code: 'ORIGIN_HTTP_STATUS',
      status: 304,
    });
  });
});

describe('answers other than 200', () => {
  it('5xx, 429 and 408 are worth retrying; other 4xx are not', async () => {
    for (const [status, retryable] of [
      [500, true],
      [503, true],
      [429, true],
      [408, true],
      [404, false],
      [410, false],
      [499, false],
      [400, false],
      [407, false],
      [409, false],
      [201, false],
    ] as const) {
      expect(await refusal(origin.fetchText(`${base}/status/${status}`, { maxBytes: 100 })), String(status)).toEqual({
        code: 'ORIGIN_HTTP_STATUS',
        status,
        retryable,
        message: `origin answered HTTP ${status} for ${base}/status/${status}`,
      });
    }
    expect(await refusal(origin.head(`${base}/status/503`))).toMatchObject({ status: 503, retryable: true });
    expect(await refusal(origin.head(`${base}/status/404`))).toMatchObject({ status: 404, retryable: false });
  });

  it('a refusal carries the Retry-After the origin sent, in seconds, and says it', async () => {
    for (const call of [
      origin.fetchText(`${base}/busy`, { maxBytes: 100 }),
      origin.openStream(`${base}/busy`),
      origin.head(`${base}/busy`),
    ]) {
      const e = await call.then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(OriginError);
      expect(e).toMatchObject({ status: 503, retryable: true, retryAfterSeconds: 7 });
      expect((e as OriginError).message).toBe(`origin answered HTTP 503 (Retry-After 7 s) for ${base}/busy`);
    }
  });

  it('every wording of an expired signature is recognised', async () => {
    for (let i = 0; i < EXPIRED_BODIES.length; i++)
      expect(
        await refusal(origin.fetchText(`${base}/expired/${i}`, { maxBytes: 100 })),
        EXPIRED_BODIES[i],
      ).toMatchObject({
        code: 'ORIGIN_SIGNATURE_EXPIRED',
        retryable: true,
      });
  });

  it('the expired wording is looked for in the first 4 KiB of a 403 body, however it arrives, and no further', async () => {
    expect(await refusal(origin.fetchText(`${base}/expired-second-piece`, { maxBytes: 100 }))).toMatchObject({
      code: 'ORIGIN_SIGNATURE_EXPIRED',
    });
    expect(await refusal(origin.fetchText(`${base}/expired-after-4096`, { maxBytes: 100 }))).toMatchObject({
      code: 'ORIGIN_SIGNATURE_EXPIRED',
    });
    expect(await refusal(origin.fetchText(`${base}/expired-after-5000`, { maxBytes: 100 }))).toMatchObject({
      code: 'ORIGIN_HTTP_STATUS',
      retryable: false,
    });
  });

  it('a 403 for an expired signature is retryable (a fresh URL may come); another 403 is not', async () => {
    expect(await refusal(origin.openStream(`${base}/expired`))).toEqual({
      code: 'ORIGIN_SIGNATURE_EXPIRED',
      status: 403,
      retryable: true,
      message: `origin answered HTTP 403 (expired signature) for ${base}/expired`,
    });
    expect(await refusal(origin.fetchText(`${base}/forbidden`, { maxBytes: 100 }))).toMatchObject({
      code: 'ORIGIN_HTTP_STATUS',
      status: 403,
      retryable: false,
    });
  });
});

describe('size caps', () => {
  it('a playlist whose Content-Length is over the cap is refused before its body; at the cap it is read', async () => {
    expect(await refusal(origin.fetchText(`${base}/ten`, { maxBytes: 9 }))).toMatchObject({
      code: 'PLAYLIST_TOO_LARGE',
      retryable: false,
      message: `playlist ${base}/ten is 10 bytes, over the 9-byte cap (HLS_MAX_PLAYLIST_BYTES)`,
    });
    const r = await origin.fetchText(`${base}/ten`, { maxBytes: 10 });
    expect(r).toMatchObject({
      body: '0123456789',
      bytes: 10,
      sha256: createHash('sha256').update('0123456789').digest('hex'),
    });
  });

  it('a playlist with no length is held to the cap as it arrives', async () => {
    expect(await refusal(origin.fetchText(`${base}/chunked-big`, { maxBytes: 4999 }))).toMatchObject({
      code: 'PLAYLIST_TOO_LARGE',
      retryable: false,
    });
    expect((await origin.fetchText(`${base}/chunked-big`, { maxBytes: 5000 })).bytes).toBe(5000);
    expect(await refusal(origin.fetchText(`${base}/unframed-big`, { maxBytes: 4999 }))).toMatchObject({
      code: 'PLAYLIST_TOO_LARGE',
    });
  });

  it('a file refused by its Content-Length is not read: its connection is closed at once', async () => {
    expect(await refusal(origin.openStream(`${base}/huge-declared`, { maxBytes: 100 }))).toMatchObject({
      code: 'FILE_TOO_LARGE',
    });
    const socket = bigSockets.at(-1)!;
    await expect.poll(() => socket.destroyed, { timeout: 5_000 }).toBe(true);
  });

  it('a file whose Content-Length is over the cap is refused; at the cap, or without a cap, it streams', async () => {
    expect(await refusal(origin.openStream(`${base}/ten`, { maxBytes: 9 }))).toMatchObject({
      code: 'FILE_TOO_LARGE',
      retryable: false,
      message: `${base}/ten is 10 bytes, over the 9-byte cap (TRANSFER_MAX_FILE_MB)`,
    });
    const r = await origin.openStream(`${base}/ten`, { maxBytes: 10 });
    expect(r.contentLength).toBe(10);
    expect((await drain(r.body)).toString()).toBe('0123456789');
    const free = await origin.openStream(`${base}/ten`);
    expect((await drain(free.body)).length).toBe(10);
  });

  it('a compression bomb is refused once its decoded bytes pass the cap, as a file and as a playlist', async () => {
    const r = await origin.openStream(`${base}/gzip-bomb`, { maxBytes: 4999 });
    expect(r.contentLength).toBeUndefined();
    expect(r.encoding).toBe('gzip');
    expect(await refusal(drain(r.body))).toMatchObject({ code: 'FILE_TOO_LARGE', retryable: false });
    expect(await refusal(origin.fetchText(`${base}/gzip-bomb`, { maxBytes: 4999 }))).toMatchObject({
      code: 'PLAYLIST_TOO_LARGE',
      retryable: false,
    });
    const whole = await origin.openStream(`${base}/gzip-bomb`, { maxBytes: 5000 });
    expect((await drain(whole.body)).equals(BIG)).toBe(true);
    expect((await origin.fetchText(`${base}/gzip-bomb`, { maxBytes: 5000 })).bytes).toBe(5000);
  });
});

describe('bodies that end wrong', () => {
  it('a playlist shorter than its Content-Length is a retryable error, never a playlist', async () => {
    const r = await refusal(origin.fetchText(`${base}/short`, { maxBytes: 100 }));
    expect(r.retryable).toBe(true);
    expect(['ORIGIN_TRUNCATED', 'ORIGIN_NETWORK']).toContain(r.code);
  });

  it('a file that only the connection close ends is marked unframed; a length or chunks frame it', async () => {
    const unframed = await origin.openStream(`${base}/unframed`);
    expect(unframed.unframed).toBe(true);
    expect(unframed.contentLength).toBeUndefined();
    expect((await drain(unframed.body)).toString()).toBe('0123456789');
    const chunked = await origin.openStream(`${base}/chunked-small`);
    expect(chunked.unframed).toBeUndefined();
    expect((await drain(chunked.body)).toString()).toBe('0123456789');
    const upper = await origin.openStream(`${base}/chunked-upper`);
    expect(upper.unframed).toBeUndefined();
    expect((await drain(upper.body)).toString()).toBe('0123456789');
    const listed = await origin.openStream(`${base}/te-list`);
    expect(listed.unframed).toBeUndefined();
    await drain(listed.body).catch(() => undefined);
    const sized = await origin.openStream(`${base}/ten`);
    expect(sized.unframed).toBeUndefined();
    await drain(sized.body);
  });

  it('an encoded body shorter than its Content-Length is a retryable truncation', async () => {
    const r = await origin.openStream(`${base}/gzip-short`);
    const e = await refusal(drain(r.body));
    expect(e.retryable).toBe(true);
    expect(['ORIGIN_TRUNCATED', 'ORIGIN_NETWORK', 'ORIGIN_DECODE_FAILED']).toContain(e.code);
  });

  it('a corrupt encoded body fails decoding, retryable, naming the coding', async () => {
    const r = await origin.openStream(`${base}/gzip-corrupt`);
    const e = await refusal(drain(r.body));
    expect(e).toMatchObject({ code: 'ORIGIN_DECODE_FAILED', retryable: true });
    expect(e.message).toContain(`could not decode the gzip body of ${base}/gzip-corrupt`);
    expect(await refusal(origin.fetchText(`${base}/gzip-corrupt`, { maxBytes: 1000 }))).toMatchObject({
      code: 'ORIGIN_DECODE_FAILED',
    });
  });
});

describe('encodings', () => {
  it('gzip is decoded: the playlist is its decoded text, its length and digest those of the decoded bytes', async () => {
    const r = await origin.fetchText(`${base}/gzip`, { maxBytes: 1000 });
    expect(r.body).toBe(PLAYLIST);
    expect(r.bytes).toBe(Buffer.byteLength(PLAYLIST));
    expect(r.sha256).toBe(createHash('sha256').update(PLAYLIST).digest('hex'));
    // The encoded length is no length of the file.
    expect((await origin.head(`${base}/gzip`)).contentLength).toBeUndefined();
    expect((await origin.head(`${base}/ten`)).contentLength).toBe(10);
  });

  it('codings are read case-blind and around spaces; identity among them is dropped; repeated headers all count', async () => {
    expect((await origin.fetchText(`${base}/gzip-upper`, { maxBytes: 1000 })).body).toBe(PLAYLIST);
    const r = await origin.openStream(`${base}/gzip-upper`);
    expect(r.encoding).toBe('gzip');
    expect((await drain(r.body)).toString()).toBe(PLAYLIST);
    expect((await origin.head(`${base}/gzip-upper`)).contentLength).toBeUndefined();
    const twice = await origin.openStream(`${base}/gzip-twice-listed`);
    expect(twice.encoding).toBe('gzip');
    expect((await drain(twice.body)).toString()).toBe(PLAYLIST);
  });

  it('an encoded body with its length is read whole, and counted against that length', async () => {
    const r = await origin.openStream(`${base}/gzip-long`);
    expect((await drain(r.body)).equals(BIG)).toBe(true);
    expect((await origin.fetchText(`${base}/gzip-long`, { maxBytes: 5000 })).bytes).toBe(5000);
  });

  it('identity named explicitly is no encoding', async () => {
    const r = await origin.openStream(`${base}/identity-listed`);
    expect([r.encoding, r.contentLength]).toEqual([undefined, 10]);
    await drain(r.body);
    expect((await origin.head(`${base}/identity-listed`)).contentLength).toBe(10);
    expect((await origin.fetchText(`${base}/identity-listed`, { maxBytes: 10 })).body).toBe('0123456789');
  });

  it('identity listed among spaces and empty entries is still no encoding', async () => {
    expect((await origin.head(`${base}/identity-spaced`)).contentLength).toBe(10);
  });

  it('a refused coding is named in bounded words, however long the header', async () => {
    const r = await refusal(origin.openStream(`${base}/long-coding`));
    expect(r.code).toBe('ORIGIN_ENCODING_UNSUPPORTED');
    expect(r.message).toContain(`Content-Encoding: ${'q'.repeat(100)} although`);
    expect(r.message).toContain(`"${'q'.repeat(40)}" is not one`);
  });

  it('an encoding FLAnts cannot undo is refused, naming it, not retryable', async () => {
    const r = await refusal(origin.openStream(`${base}/zstd`));
    expect(r).toMatchObject({ code: 'ORIGIN_ENCODING_UNSUPPORTED', retryable: false });
    expect(r.message).toContain('"zstd" is not one FLAnts decodes');
    expect(await refusal(origin.fetchText(`${base}/zstd`, { maxBytes: 1000 }))).toMatchObject({
      code: 'ORIGIN_ENCODING_UNSUPPORTED',
    });
  });

  it('every request asks for identity', async () => {
    await origin.fetchText(`${base}/ok.m3u8`, { maxBytes: 1000 });
    expect(headersSeen['/ok.m3u8']?.['accept-encoding']).toBe('identity');
    expect(headersSeen['/ok.m3u8']?.['user-agent']).toBe('flants/0.1');
  });
});

describe('lengths and validators', () => {
  it('a Content-Length that is not plain digits is no length', async () => {
    const r = await origin.openStream(`${base}/odd-length`).catch((e: unknown) => (e instanceof Error ? e : undefined));
    // undici may refuse the header itself; if it passes, the client must not trust it.
    if (r && !(r instanceof Error)) {
      expect(r.contentLength).toBeUndefined();
      await drain(r.body).catch(() => undefined);
    }
  });

  it('validators are kept when usable, and a conditional request answered 304 is "not modified"', async () => {
    const r = await origin.openStream(`${base}/validators`);
    await drain(r.body);
    expect([r.etag, r.lastModified]).toEqual(['"v1"', 'Wed, 01 Apr 2026 00:00:00 GMT']);
    const same = await origin.openStream(`${base}/validators`, { ifNoneMatch: '"v1"' });
    expect(same).toMatchObject({ notModified: true, contentLength: 0, etag: '"v1"' });
    expect(headersSeen['/validators']?.['if-none-match']).toBe('"v1"');
    const text = await origin.fetchText(`${base}/validators`, {
      maxBytes: 100,
      ifModifiedSince: 'Wed, 01 Apr 2026 00:00:00 GMT',
    });
    expect(text).toMatchObject({ notModified: true, body: '' });
    expect(headersSeen['/validators']?.['if-modified-since']).toBe('Wed, 01 Apr 2026 00:00:00 GMT');
    const bad = await origin.fetchText(`${base}/bad-validators`, { maxBytes: 100 });
    expect([bad.etag, bad.lastModified]).toEqual([undefined, undefined]);
  });
});

/** A real gate without limits (it admits at once) that keeps each answer the client reports to it. */
class RecordingGate extends OriginGate {
  readonly answers: ({ host: string } & Parameters<OriginGate['answered']>[1])[] = [];
  constructor() {
    const none = { default: undefined, hosts: {} };
    super({ requestsPerSecond: none, megabytesPerSecond: none, shares: 1 });
  }
  override answered(host: string, a: Parameters<OriginGate['answered']>[1]): ReturnType<OriginGate['answered']> {
    this.answers.push({ host, ...a });
    return super.answered(host, a);
  }
}

describe('what the gate is told', () => {
  it('every answer, each redirect hop included: its status, Retry-After, latency, and the length it declared (0 for a HEAD; none when not plain digits)', async () => {
    const gate = new RecordingGate();
    const gated = createOrigin({ allowedHosts: [`127.0.0.1:${port}`], headersTimeoutMs: 5_000, gate });
    const host = `127.0.0.1:${port}`;
    try {
      const started = performance.now();
      await drain((await gated.openStream(`${base}/ten`)).body);
      expect((await gated.head(`${base}/ten`)).contentLength).toBe(10);
      await drain((await gated.openStream(`${base}/chunked-small`)).body);
      await drain((await gated.openStream(`${base}/length-spaced`)).body);
      expect((await gated.fetchText(`${base}/to-ok`, { maxBytes: 1000 })).body).toBe(PLAYLIST);
      // Last: a Retry-After pauses the host for its seconds.
      expect(await refusal(gated.fetchText(`${base}/busy`, { maxBytes: 100 }))).toMatchObject({ status: 503 });
      const elapsed = performance.now() - started;
      expect(
        gate.answers.map((a) => [a.host, a.status, a.contentLength, a.retryAfterSeconds, a.errorCode, a.prepaid]),
      ).toEqual([
        [host, 200, 10, undefined, undefined, 0],
        [host, 200, 0, undefined, undefined, 0],
        [host, 200, undefined, undefined, undefined, 0],
        [host, 200, undefined, undefined, undefined, 0],
        [host, 302, undefined, undefined, undefined, 0],
        [host, 200, undefined, undefined, undefined, 0],
        [host, 503, 4, 7, undefined, 0],
      ]);
      for (const a of gate.answers) {
        expect(a.latencyMs).toBeGreaterThanOrEqual(0);
        expect(a.latencyMs).toBeLessThanOrEqual(elapsed);
      }
      expect(gate.drain().get(host)).toMatchObject({ ok: 6, throttled: 1 });
    } finally {
      await gated.close();
    }
  });

  it('a failure without an answer is reported with its error code and latency; an abort, this side deciding, is not', async () => {
    const gate = new RecordingGate();
    const closed = createOrigin({ allowedHosts: ['127.0.0.1:1', `127.0.0.1:${port}`], headersTimeoutMs: 300, gate });
    try {
      const started = performance.now();
      expect(await refusal(closed.fetchText('http://127.0.0.1:1/x', { maxBytes: 10 }))).toMatchObject({
        code: 'ORIGIN_NETWORK',
      });
      const elapsed = performance.now() - started;
      expect(gate.answers).toEqual([
        { host: '127.0.0.1:1', errorCode: 'ORIGIN_NETWORK', latencyMs: expect.any(Number), prepaid: 0 },
      ]);
      expect(gate.answers[0]?.latencyMs).toBeGreaterThanOrEqual(0);
      expect(gate.answers[0]?.latencyMs).toBeLessThanOrEqual(elapsed);
      const ac = new AbortController();
      const p = closed.openStream(`${base}/hang`, { signal: ac.signal });
      ac.abort();
      expect(await refusal(p)).toMatchObject({ code: 'ORIGIN_NETWORK', retryable: false });
      expect(gate.answers).toHaveLength(1);
      expect(await refusal(closed.fetchText(`${base}/hang`, { maxBytes: 10 }))).toMatchObject({
        code: 'ORIGIN_TIMEOUT',
      });
      expect(gate.answers.map((a) => [a.host, a.errorCode])).toEqual([
        ['127.0.0.1:1', 'ORIGIN_NETWORK'],
        [`127.0.0.1:${port}`, 'ORIGIN_TIMEOUT'],
      ]);
    } finally {
      await closed.close();
    }
  });
});

describe('network failures', () => {
  it('a refused connection is a retryable network error; an abort is not retryable; no headers in time is a timeout', async () => {
    const closed = createOrigin({ allowedHosts: ['127.0.0.1:1'] });
    try {
      expect(await refusal(closed.fetchText('http://127.0.0.1:1/x', { maxBytes: 10 }))).toMatchObject({
        code: 'ORIGIN_NETWORK',
        retryable: true,
      });
    } finally {
      await closed.close();
    }
    const ac = new AbortController();
    const p = origin.openStream(`${base}/hang`, { signal: ac.signal });
    ac.abort();
    expect(await refusal(p)).toMatchObject({ code: 'ORIGIN_NETWORK', retryable: false });
    expect(await refusal(origin.fetchText(`${base}/hang`, { maxBytes: 10 }))).toMatchObject({
      code: 'ORIGIN_TIMEOUT',
      retryable: true,
    });
  });

  it('an origin error passes through as it is; anything else becomes a retryable network error', () => {
    const own = new OriginError('FILE_TOO_LARGE', 'x', { url: 'u', retryable: false });
    expect(asOriginError('u', own)).toBe(own);
    const wrapped = asOriginError('http://h/x', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    expect(wrapped).toMatchObject({ code: 'ORIGIN_NETWORK', retryable: true });
    expect(wrapped.message).toBe('network error fetching http://h/x: ECONNRESET socket hang up');
    expect(asOriginError('u', 'odd')).toMatchObject({ code: 'ORIGIN_NETWORK', retryable: true });
    expect(asOriginError('u', new Error('x')).message).toBe('network error fetching u: ERROR x');
    const timedOut = asOriginError('u', Object.assign(new Error('slow'), { name: 'TimeoutError' }));
    expect(timedOut).toMatchObject({ code: 'ORIGIN_TIMEOUT', retryable: true });
    expect(timedOut.message).toBe('timed out fetching u: ERROR slow');
    // A blocked address is found however undici wrapped it, down to five levels; a cycle of causes ends.
    const blocked = new BlockedAddressError('h', '10.0.0.1', 'private-use');
    const wrap = (e: unknown, n: number): unknown => (n === 0 ? e : wrap(new Error('wrapped', { cause: e }), n - 1));
    expect(asOriginError('u', wrap(blocked, 4))).toMatchObject({ code: 'ORIGIN_ADDRESS_BLOCKED', retryable: false });
    expect(asOriginError('u', wrap(blocked, 5))).toMatchObject({ code: 'ORIGIN_NETWORK' });
    const cyclic = new Error('loop') as Error & { cause?: unknown };
    cyclic.cause = new Error('back', { cause: cyclic });
    expect(asOriginError('u', cyclic)).toMatchObject({ code: 'ORIGIN_NETWORK' });
    expect(asOriginError('u', Object.assign(new Error('t'), { code: 'UND_ERR_BODY_TIMEOUT' }))).toMatchObject({
      code: 'ORIGIN_TIMEOUT',
      retryable: true,
    });
  });
});
