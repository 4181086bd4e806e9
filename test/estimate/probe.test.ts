import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRetryable } from '../../src/errors.ts';
import { contentRangeTotal, createSizeProbe } from '../../src/estimate/probe.ts';
import { listenLocal } from '../../src/util/listen.ts';

// An origin with one behaviour per path: what CDNs and object stores really answer to HEAD and Range.
let server: Server;
let base: string;
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}${req.headers.range ? ` ${req.headers.range}` : ''}`);
    const head = req.method === 'HEAD';
    switch (req.url) {
      case '/plain.ts':
        res.writeHead(200, { 'content-length': 1234 }).end(head ? undefined : Buffer.alloc(1234));
        return;
      case '/no-head.ts':
        // GET-only signed URLs and some CDNs refuse HEAD; Range is honoured.
        if (head) return void res.writeHead(405).end();
        res.writeHead(206, { 'content-range': 'bytes 0-0/5000', 'content-length': 1 }).end(Buffer.alloc(1));
        return;
      case '/no-range.ts':
        // HEAD forbidden and Range ignored: the whole body starts coming; the probe must not read it.
        if (head) return void res.writeHead(403).end();
        res.writeHead(200, { 'content-length': 8 * 1024 * 1024 });
        res.end(Buffer.alloc(8 * 1024 * 1024));
        return;
      case '/chunked-head.ts':
        // HEAD without a length: ask for one byte.
        if (head) return void res.writeHead(200, { 'transfer-encoding': 'chunked' }).end();
        res.writeHead(206, { 'content-range': 'bytes 0-0/77', 'content-length': 1 }).end(Buffer.alloc(1));
        return;
      case '/empty.ts':
        if (head) return void res.writeHead(200, { 'transfer-encoding': 'chunked' }).end();
        res.writeHead(416, { 'content-range': 'bytes */0' }).end();
        return;
      case '/moved.ts':
        res.writeHead(302, { location: '/plain.ts' }).end();
        return;
      case '/away.ts':
        res.writeHead(302, { location: 'https://elsewhere.example/x.ts' }).end();
        return;
      case '/busy.ts':
        res.writeHead(503).end();
        return;
      default:
        res.writeHead(404).end();
    }
  });
  ({ url: base } = await listenLocal(server, {}));
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('estimate size probe', () => {
  const probeWith = () => {
    let requests = 0;
    const probe = createSizeProbe({
      allowedHosts: [new URL(base).host],
      maxRedirects: 3,
      connectTimeoutMs: 2000,
      headersTimeoutMs: 5000,
      connections: 2,
      beforeRequest: () => void requests++,
    });
    return { probe, requests: () => requests };
  };

  it('reads the size from HEAD, else from a one-byte range, never from a body', async () => {
    const { probe, requests } = probeWith();
    try {
      expect(await probe.size(`${base}/plain.ts`)).toEqual({ ok: true, bytes: 1234, via: 'head' });
      expect(requests()).toBe(1);
      expect(await probe.size(`${base}/no-head.ts`)).toEqual({ ok: true, bytes: 5000, via: 'range' });
      expect(seen).toContain('GET /no-head.ts bytes=0-0');
      expect(await probe.size(`${base}/chunked-head.ts`)).toEqual({ ok: true, bytes: 77, via: 'range' });
      expect(await probe.size(`${base}/empty.ts`)).toEqual({ ok: true, bytes: 0, via: 'range' });
      expect(await probe.size(`${base}/no-range.ts`)).toEqual({ ok: true, bytes: 8 * 1024 * 1024, via: 'range' });
      // HEAD + GET for each of the four fallbacks.
      expect(requests()).toBe(1 + 4 * 2);
      expect(await probe.size(`${base}/moved.ts`)).toEqual({ ok: true, bytes: 1234, via: 'head' });
      expect(await probe.size(`${base}/gone.ts`)).toEqual({ ok: false, missing: true, status: 404 });
    } finally {
      await probe.close();
    }
  });

  it('refuses hosts off the allow-list on every hop, and says when to retry', async () => {
    const { probe } = probeWith();
    try {
      await expect(probe.size(`${base}/away.ts`)).rejects.toMatchObject({ code: 'ORIGIN_HOST_NOT_ALLOWED' });
      await expect(probe.size('https://elsewhere.example/x.ts')).rejects.toMatchObject({
        code: 'ORIGIN_HOST_NOT_ALLOWED',
      });
      const busy = await probe.size(`${base}/busy.ts`).catch((err: unknown) => err);
      expect(isRetryable(busy)).toBe(true);
    } finally {
      await probe.close();
    }
  });

  it('refuses a name that resolves to a non-public address, for good', async () => {
    const probe = createSizeProbe({
      allowedHosts: ['media.example'],
      maxRedirects: 3,
      connectTimeoutMs: 2000,
      headersTimeoutMs: 5000,
      connections: 1,
      beforeRequest: () => undefined,
      resolve: () => Promise.resolve([{ address: '10.1.2.3', family: 4 }]),
    });
    try {
      const err = await probe.size('http://media.example/a.ts').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ORIGIN_ADDRESS_BLOCKED' });
      expect(isRetryable(err)).toBe(false);
    } finally {
      await probe.close();
    }
  });

  it('reads Content-Range totals', () => {
    expect(contentRangeTotal('bytes 0-0/12345')).toBe(12345);
    expect(contentRangeTotal('bytes */0')).toBe(0);
    expect(contentRangeTotal('bytes 0-0/*')).toBeUndefined();
    expect(contentRangeTotal(undefined)).toBeUndefined();
  });
});
