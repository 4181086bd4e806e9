import { Readable } from 'node:stream';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLibrary } from '../../lab/library.ts';
import { parseRange, startOriginServer, type OriginContent, type OriginServer } from '../../lab/origin-server.ts';
import { createOrigin } from '../../src/adapters/origin/client.ts';
import { OriginError } from '../../src/domain/ports/origin.ts';

const lib = generateLibrary({ classes: 6, segmentsPerRendition: 4, segmentBytes: 64 * 1024 });
let server: OriginServer;
let agent: Agent;

beforeAll(async () => {
  server = await startOriginServer(lib);
  agent = new Agent({ connections: 4 });
});

afterAll(async () => {
  await agent.close();
  await server.close();
});

async function get(
  path: string,
  headers: Record<string, string> = {},
  method: 'GET' | 'HEAD' = 'GET',
  base = server.url,
) {
  const res = await request(base + path, { method, headers, dispatcher: agent });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body };
}

/** Reads a response to the end, reporting what arrived and whether the transfer failed. */
async function attempt(
  url: string,
  dispatcher: Agent,
): Promise<{ status?: number; declared?: number; received: Buffer; error?: unknown }> {
  let res;
  try {
    res = await request(url, { dispatcher });
  } catch (error) {
    return { received: Buffer.alloc(0), error };
  }
  const chunks: Buffer[] = [];
  const declared = Number(res.headers['content-length']);
  try {
    for await (const c of res.body) chunks.push(c as Buffer);
    return { status: res.statusCode, declared, received: Buffer.concat(chunks) };
  } catch (error) {
    return { status: res.statusCode, declared, received: Buffer.concat(chunks), error };
  }
}

const byKind = (kind: string) => lib.paths().find((p) => lib.file(p)!.kind === kind)!;
const bigFile = () => lib.paths().reduce((a, p) => (lib.stat(p)!.size > lib.stat(a)!.size ? p : a));

describe('parseRange', () => {
  it('follows RFC 9110 for single ranges', () => {
    expect(parseRange(undefined, 100)).toEqual({ kind: 'none' });
    expect(parseRange('bytes=0-9', 100)).toEqual({ kind: 'range', start: 0, end: 9 });
    expect(parseRange('bytes=90-', 100)).toEqual({ kind: 'range', start: 90, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ kind: 'range', start: 90, end: 99 });
    expect(parseRange('bytes=-1000', 100)).toEqual({ kind: 'range', start: 0, end: 99 });
    expect(parseRange('bytes=50-5000', 100)).toEqual({ kind: 'range', start: 50, end: 99 });
    expect(parseRange('bytes=100-', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=100-200', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-0', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
    // Ignored (served whole): malformed, reversed, other units, several ranges.
    for (const h of ['bytes=9-0', 'bytes=-', 'items=0-1', 'bytes=0-1,5-6', 'bytes=a-b'])
      expect(parseRange(h, 100)).toEqual({ kind: 'none' });
  });
});

describe('origin server', () => {
  it('serves every kind of file byte-exact with length and type', async () => {
    for (const kind of ['playlist', 'segment', 'init', 'key', 'subtitle', 'data']) {
      const path = byKind(kind);
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(res.body.equals(lib.bytes(path)), path).toBe(true);
      expect(Number(res.headers['content-length'])).toBe(lib.stat(path)!.size);
      expect(res.headers['content-type']).toBe(lib.stat(path)!.contentType);
      expect(res.headers['accept-ranges']).toBe('bytes');
    }
  });

  it('answers byte ranges with 206 and Content-Range, exactly the requested bytes', async () => {
    const path = bigFile();
    const size = lib.stat(path)!.size;
    const whole = lib.bytes(path);
    const cases: Array<[string, number, number]> = [
      ['bytes=0-0', 0, 0],
      ['bytes=17-70000', 17, 70000],
      [`bytes=${size - 100}-`, size - 100, size - 1],
      ['bytes=-333', size - 333, size - 1],
      [`bytes=5-${size * 2}`, 5, size - 1],
    ];
    for (const [range, start, end] of cases) {
      const res = await get(path, { range });
      expect(res.status, range).toBe(206);
      expect(res.headers['content-range']).toBe(`bytes ${start}-${end}/${size}`);
      expect(Number(res.headers['content-length'])).toBe(end - start + 1);
      expect(res.body.equals(whole.subarray(start, end + 1)), range).toBe(true);
    }
    const unsatisfiable = await get(path, { range: `bytes=${size}-` });
    expect(unsatisfiable.status).toBe(416);
    expect(unsatisfiable.headers['content-range']).toBe(`bytes */${size}`);
    const multi = await get(path, { range: 'bytes=0-1,4-5' });
    expect(multi.status).toBe(200);
    expect(multi.body.length).toBe(size);
  });

  it('answers 404, 405, HEAD, and ignores query strings', async () => {
    expect((await get('/vod/nothing/here.m3u8')).status).toBe(404);
    const path = byKind('segment');
    const head = await get(path, {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBe(lib.stat(path)!.size);
    expect(head.body.length).toBe(0);
    const headRange = await get(path, { range: 'bytes=0-9' }, 'HEAD');
    expect(headRange.status).toBe(206);
    expect(headRange.headers['content-length']).toBe('10');
    const q = await get(`${path}?token=abc&x=1`);
    expect(q.status).toBe(200);
    expect(q.body.equals(lib.bytes(path))).toBe(true);
    const post = await request(server.url + path, { method: 'POST', body: 'x', dispatcher: agent });
    await post.body.dump();
    expect(post.statusCode).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('redirects mapped paths with 302, and the pipeline client follows them', async () => {
    const target = lib.classes[0]!.manifestPath;
    server.setRedirects({ '/moved/master.m3u8': target, '/away': 'http://elsewhere.invalid/x' });
    try {
      const res = await get('/moved/master.m3u8');
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe(target);
      const origin = createOrigin({ allowedHosts: [new URL(server.url).host] });
      try {
        const text = await origin.fetchText(`${server.url}/moved/master.m3u8`, { maxBytes: 1 << 20 });
        expect(text.url).toBe(server.url + target);
        expect(text.body).toBe(lib.bytes(target).toString());
        await expect(origin.fetchText(`${server.url}/away`, { maxBytes: 1 << 20 })).rejects.toMatchObject({
          code: 'ORIGIN_HOST_NOT_ALLOWED',
        });
      } finally {
        await origin.close();
      }
    } finally {
      server.setRedirects({});
    }
  });

  it('keeps connections alive across requests', async () => {
    const own = await startOriginServer(lib);
    const one = new Agent({ connections: 1 });
    try {
      for (const p of lib.paths().slice(0, 30)) {
        const res = await request(own.url + p, { dispatcher: one });
        await res.body.dump();
      }
      expect(own.stats().requests).toBe(30);
      expect(own.stats().connections).toBe(1);
      expect(own.stats().bytesSent).toBe(
        lib
          .paths()
          .slice(0, 30)
          .reduce((a, p) => a + lib.stat(p)!.size, 0),
      );
    } finally {
      await one.close();
      await own.close();
    }
  });

  it('streams large content without buffering it and survives clients that abort', async () => {
    // 256 MiB that exists only as a stream: buffering it whole would show in the heap.
    const size = 256 * 1024 * 1024;
    const huge: OriginContent = {
      stat: (p) => (p === '/huge.bin' ? { size, contentType: 'application/octet-stream' } : undefined),
      read: (_p, r) => {
        let left = r ? r.end - r.start + 1 : size;
        return new Readable({
          read() {
            const n = Math.min(left, 1 << 20);
            left -= n;
            this.push(n ? Buffer.alloc(n, 7) : null);
          },
        });
      },
    };
    const own = await startOriginServer(huge);
    const a = new Agent();
    try {
      const res = await request(`${own.url}/huge.bin`, { dispatcher: a });
      expect(res.headers['content-length']).toBe(String(size));
      let got = 0;
      for await (const c of res.body) {
        got += (c as Buffer).length;
        if (got > 4 << 20) break; // leaving the loop destroys the body: a client abort
      }
      await new Promise((r) => setTimeout(r, 100));
      expect(own.stats().bytesSent).toBeLessThan(64 << 20);
      const tail = await request(`${own.url}/huge.bin`, { dispatcher: a, headers: { range: 'bytes=-10' } });
      expect(tail.statusCode).toBe(206);
      expect(Buffer.from(await tail.body.arrayBuffer())).toEqual(Buffer.alloc(10, 7));
      expect(own.stats().clientAborts).toBe(1);
    } finally {
      await a.close();
      await own.close();
    }
  });
});

describe('origin server: fault injection', () => {
  let faulty: OriginServer;
  let fresh: () => Agent;
  const agents: Agent[] = [];

  beforeAll(async () => {
    faulty = await startOriginServer(lib);
    fresh = () => {
      const a = new Agent({ connections: 2 });
      agents.push(a);
      return a;
    };
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.close().catch(() => {})));
    await faulty.close();
  });

  const media = () =>
    lib
      .paths()
      .filter((p) => lib.stat(p)!.size > 10_000)
      .slice(0, 12);

  it('injects 500/503 and counts them', async () => {
    faulty.setFaults({ http5xx: 1, seed: 3 });
    const before = faulty.stats().faults.http5xx;
    const statuses = new Set<number>();
    const a = fresh();
    for (const p of media()) {
      const r = await attempt(faulty.url + p, a);
      expect(r.error).toBeUndefined();
      statuses.add(r.status!);
    }
    expect([...statuses].sort()).toEqual([500, 503]);
    expect(faulty.stats().faults.http5xx - before).toBe(media().length);
  });

  it('resets connections, before the response or mid-body, and counts them', async () => {
    faulty.setFaults({ reset: 1, seed: 4 });
    const before = faulty.stats().faults.reset;
    let early = 0;
    let midBody = 0;
    for (const p of media()) {
      const r = await attempt(faulty.url + p, fresh());
      expect(r.error, p).toBeDefined();
      if (r.status === undefined) early++;
      else {
        midBody++;
        expect(r.received.length).toBeLessThan(r.declared!);
        expect(r.received.equals(lib.bytes(p).subarray(0, r.received.length))).toBe(true);
      }
    }
    expect(early).toBeGreaterThan(0);
    expect(midBody).toBeGreaterThan(0);
    expect(faulty.stats().faults.reset - before).toBe(media().length);
  });

  it('truncates bodies after a full Content-Length, and counts them', async () => {
    faulty.setFaults({ truncate: 1 });
    const before = faulty.stats().faults.truncate;
    for (const p of media()) {
      const r = await attempt(faulty.url + p, fresh());
      expect(r.status).toBe(200);
      expect(r.declared).toBe(lib.stat(p)!.size);
      expect(r.error).toBeDefined();
      expect(r.received.length).toBeLessThan(r.declared!);
      expect(r.received.equals(lib.bytes(p).subarray(0, r.received.length))).toBe(true);
    }
    expect(faulty.stats().faults.truncate - before).toBe(media().length);
    // The pipeline's client notices: a short playlist is ORIGIN_TRUNCATED or a network error, both retryable.
    const origin = createOrigin({ allowedHosts: [new URL(faulty.url).host] });
    try {
      const err = await origin
        .fetchText(faulty.url + lib.classes[0]!.manifestPath, { maxBytes: 1 << 20 })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OriginError);
      expect((err as OriginError).retryable).toBe(true);
    } finally {
      await origin.close();
    }
  });

  it('delays slow responses and still answers them correctly', async () => {
    faulty.setFaults({ slow: 1, slowMs: 150 });
    const before = faulty.stats().faults.slow;
    const p = media()[0]!;
    const t = performance.now();
    const r = await attempt(faulty.url + p, fresh());
    expect(performance.now() - t).toBeGreaterThanOrEqual(140);
    expect(r.status).toBe(200);
    expect(r.received.equals(lib.bytes(p))).toBe(true);
    expect(faulty.stats().faults.slow - before).toBe(1);
  });

  it('makes listed or matching paths gone for good until the faults change', async () => {
    const [gone, kept] = media();
    faulty.setFaults({ gone: [gone!] });
    const a = fresh();
    for (let i = 0; i < 3; i++) expect((await attempt(faulty.url + gone!, a)).status).toBe(404);
    expect((await attempt(`${faulty.url}${gone!}?retry=1`, a)).status).toBe(404);
    expect((await attempt(faulty.url + kept!, a)).status).toBe(200);
    faulty.setFaults({ gone: (p) => p.endsWith('.vtt') });
    expect((await attempt(faulty.url + byKind('subtitle'), a)).status).toBe(404);
    expect((await attempt(faulty.url + gone!, a)).status).toBe(200);
    faulty.setFaults({});
    expect((await attempt(faulty.url + byKind('subtitle'), a)).status).toBe(200);
    expect(faulty.stats().faults.gone).toBe(5);
    const origin = createOrigin({ allowedHosts: [new URL(faulty.url).host] });
    faulty.setFaults({ gone: [gone!] });
    try {
      await expect(origin.openStream(faulty.url + gone!)).rejects.toMatchObject({ status: 404, retryable: false });
    } finally {
      faulty.setFaults({});
      await origin.close();
    }
  });

  it('decides faults deterministically per seed, whatever the interleaving', async () => {
    const paths = lib.paths().slice(0, 40);
    const run = async (seed: number, order: string[]) => {
      const s = await startOriginServer(lib, { faults: { seed, http5xx: 0.5 } });
      const a = new Agent({ connections: 8 });
      try {
        const out = new Map<string, number>();
        await Promise.all(order.map(async (p) => out.set(p, (await attempt(s.url + p, a)).status!)));
        return paths.map((p) => out.get(p));
      } finally {
        await a.close();
        await s.close();
      }
    };
    const first = await run(11, paths);
    expect(await run(11, [...paths].reverse())).toEqual(first);
    expect(await run(12, paths)).not.toEqual(first);
    expect(first.filter((s) => s !== 200).length).toBeGreaterThan(5);
  });

  it('rejects impossible fault settings', () => {
    expect(() => faulty.setFaults({ http5xx: 0.7, reset: 0.5 })).toThrow(/add up/);
    expect(() => faulty.setFaults({ truncate: -0.1 })).toThrow(/truncate/);
    expect(() => faulty.setFaults({ encoding: 'g zip' })).toThrow(/encoding/);
    expect(() => faulty.setFaults({ framing: 'http2' as 'close' })).toThrow(/framing/);
  });
});

describe('origin server: encodings and framings of real origins (issue 18)', () => {
  let quirky: OriginServer;
  const agents: Agent[] = [];
  const fresh = () => {
    const a = new Agent({ connections: 2 });
    agents.push(a);
    return a;
  };
  beforeAll(async () => {
    quirky = await startOriginServer(lib);
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.close().catch(() => {})));
    await quirky.close();
  });

  const decoders: Record<string, (b: Buffer) => Buffer> = {
    gzip: (b) => gunzipSync(b),
    br: (b) => brotliDecompressSync(b),
    deflate: (b) => inflateSync(b),
  };

  for (const [encoding, decode] of Object.entries(decoders)) {
    it(`answers Content-Encoding: ${encoding} to a request for identity, its Content-Length the encoded length`, async () => {
      quirky.setFaults({ encoding });
      const path = byKind('segment');
      const res = await request(quirky.url + path, { headers: { 'accept-encoding': 'identity' }, dispatcher: fresh() });
      const body = Buffer.from(await res.body.arrayBuffer());
      expect(res.headers['content-encoding']).toBe(encoding);
      expect(Number(res.headers['content-length'])).toBe(body.length);
      expect(decode(body).equals(lib.bytes(path))).toBe(true);
      const head = await request(quirky.url + path, { method: 'HEAD', dispatcher: fresh() });
      await head.body.dump();
      expect([head.headers['content-encoding'], Number(head.headers['content-length'])]).toEqual([
        encoding,
        body.length,
      ]);
      // Ranges are answered unencoded, as CDNs do.
      const range = await get(path, { range: 'bytes=0-9' });
      expect([range.status, range.headers['content-encoding'], range.body]).toEqual([
        206,
        undefined,
        lib.bytes(path).subarray(0, 10),
      ]);
    });
  }

  it('announces an encoding it cannot produce over the unencoded bytes', async () => {
    quirky.setFaults({ encoding: 'zstd' });
    const path = byKind('segment');
    const r = await attempt(quirky.url + path, fresh());
    expect(r.error).toBeUndefined();
    expect(r.received.equals(lib.bytes(path))).toBe(true);
    const res = await request(quirky.url + path, { dispatcher: fresh() });
    await res.body.dump();
    expect(res.headers['content-encoding']).toBe('zstd');
  });

  it('frames bodies by chunks or by the connection close; a close-delimited body cut short looks whole', async () => {
    const path = byKind('segment');
    quirky.setFaults({ framing: 'chunked' });
    const chunked = await request(quirky.url + path, { dispatcher: fresh() });
    expect(Buffer.from(await chunked.body.arrayBuffer()).equals(lib.bytes(path))).toBe(true);
    expect([chunked.headers['transfer-encoding'], chunked.headers['content-length']]).toEqual(['chunked', undefined]);

    quirky.setFaults({ framing: 'close' });
    const closed = await request(quirky.url + path, { dispatcher: fresh() });
    expect(Buffer.from(await closed.body.arrayBuffer()).equals(lib.bytes(path))).toBe(true);
    expect([closed.headers['transfer-encoding'], closed.headers['content-length'], closed.headers.connection]).toEqual([
      undefined,
      undefined,
      'close',
    ]);

    // Cut short: chunked framing gives the cut away (the client errors), the connection's close does not.
    quirky.setFaults({ framing: 'chunked', truncate: 1 });
    expect((await attempt(quirky.url + path, fresh())).error).toBeDefined();
    quirky.setFaults({ framing: 'close', truncate: 1 });
    const cut = await attempt(quirky.url + path, fresh());
    expect(cut.error).toBeUndefined();
    expect(cut.received.length).toBeLessThan(lib.stat(path)!.size);
    expect(cut.received.equals(lib.bytes(path).subarray(0, cut.received.length))).toBe(true);

    // An encoded body cut short, close-delimited: the bytes end early, the encoding's own end is missing.
    quirky.setFaults({ framing: 'close', truncate: 1, encoding: 'gzip' });
    const gz = await attempt(quirky.url + path, fresh());
    expect(gz.error).toBeUndefined();
    expect(() => gunzipSync(gz.received)).toThrow(/unexpected end of file/);
    quirky.setFaults({});
  });
});

describe('validators and conditional requests (issue 11)', () => {
  it('sends an ETag and Last-Modified, answers 304 to a matching If-None-Match or If-Modified-Since, 200 otherwise', async () => {
    const path = byKind('segment');
    const full = await get(path);
    const etag = String(full.headers.etag);
    const modified = String(full.headers['last-modified']);
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(Number.isFinite(Date.parse(modified))).toBe(true);
    expect((await get(path, { 'if-none-match': etag })).status).toBe(304);
    expect((await get(path, { 'if-none-match': `W/${etag}` })).status).toBe(304);
    expect((await get(path, { 'if-none-match': etag }, 'HEAD')).status).toBe(304);
    const changed = await get(path, { 'if-none-match': '"other"' });
    expect([changed.status, changed.body.length]).toEqual([200, lib.stat(path)!.size]);
    expect((await get(path, { 'if-modified-since': modified })).status).toBe(304);
    expect((await get(path, { 'if-modified-since': new Date(Date.parse(modified) - 1000).toUTCString() })).status).toBe(
      200,
    );
    // If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
    expect((await get(path, { 'if-none-match': '"other"', 'if-modified-since': modified })).status).toBe(200);
  });

  it('the pipeline client keeps validators, sends conditional requests, and reports 304 as not modified', async () => {
    const origin = createOrigin({ allowedHosts: [new URL(server.url).host] });
    try {
      const playlist = lib.classes[0]!.manifestPath;
      const text = await origin.fetchText(server.url + playlist, { maxBytes: 1 << 20 });
      expect(text.etag).toBe(lib.stat(playlist)!.etag);
      expect(text.lastModified).toBe(lib.stat(playlist)!.lastModified);
      expect(
        await origin.fetchText(server.url + playlist, { maxBytes: 1 << 20, ifNoneMatch: text.etag }),
      ).toMatchObject({ notModified: true, body: '' });
      expect(
        await origin.fetchText(server.url + playlist, { maxBytes: 1 << 20, ifModifiedSince: text.lastModified }),
      ).toMatchObject({ notModified: true });
      expect((await origin.fetchText(server.url + playlist, { maxBytes: 1 << 20, ifNoneMatch: '"old"' })).body).toBe(
        lib.bytes(playlist).toString(),
      );

      const seg = byKind('segment');
      const stream = await origin.openStream(server.url + seg, { ifNoneMatch: lib.stat(seg)!.etag });
      expect(stream).toMatchObject({ notModified: true, contentLength: 0 });
      const whole = await origin.openStream(server.url + seg, { ifNoneMatch: '"old"' });
      expect([whole.notModified, whole.contentLength, whole.etag]).toEqual([
        undefined,
        lib.stat(seg)!.size,
        lib.stat(seg)!.etag,
      ]);
      whole.body.resume();

      expect(await origin.head(server.url + seg)).toEqual({
        url: server.url + seg,
        contentLength: lib.stat(seg)!.size,
        etag: lib.stat(seg)!.etag,
        lastModified: lib.stat(seg)!.lastModified,
      });
      await expect(origin.head(`${server.url}/nothing/here.ts`)).rejects.toMatchObject({
        code: 'ORIGIN_HTTP_STATUS',
        status: 404,
        retryable: false,
      });
    } finally {
      await origin.close();
    }
  });
});
