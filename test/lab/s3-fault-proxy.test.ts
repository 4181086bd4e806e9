import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { RetryStrategyV2, RetryToken } from '@smithy/types';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isObjectWrite, startS3FaultProxy, type S3FaultProxy } from '../../lab/s3-fault-proxy.ts';
import { startLocalFauxqs, type LocalFauxqs } from '../../lab/servers/fauxqs.ts';

interface Seen {
  method: string;
  url: string;
  host: string | undefined;
  bytes: number;
}

/** A stand-in S3: stores PUT bodies by URL path, returns them on GET, records every request. */
async function startStub(): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const objects = new Map<string, Buffer>();
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = new URL(req.url!, 'http://x').pathname;
      seen.push({ method: req.method!, url: req.url!, host: req.headers.host, bytes: body.length });
      if (req.method === 'PUT') {
        objects.set(path, body);
        res.writeHead(200, { etag: `"${body.length}"`, 'x-stub': 'yes' }).end();
      } else if (req.method === 'GET' && objects.has(path)) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(objects.get(path));
      } else {
        res.writeHead(req.method === 'GET' ? 404 : 200).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

describe('isObjectWrite', () => {
  it('tells object data from bucket calls, copies and sub-resources (path-style)', () => {
    const yes: Array<[string, string, Record<string, string>?]> = [
      ['PUT', '/bucket/a/b/seg.ts?x-id=PutObject'],
      ['PUT', '/bucket/key'],
      ['PUT', '/bucket/key?partNumber=3&uploadId=abc&x-id=UploadPart'],
      ['POST', '/bucket', { 'content-type': 'multipart/form-data; boundary=x' }],
    ];
    const no: Array<[string, string, Record<string, string>?]> = [
      ['PUT', '/bucket'],
      ['GET', '/bucket/key'],
      ['HEAD', '/bucket/key'],
      ['DELETE', '/bucket/key'],
      ['PUT', '/bucket/key?tagging'],
      ['PUT', '/bucket/key?acl'],
      ['PUT', '/bucket/key?x-id=CopyObject', { 'x-amz-copy-source': '/bucket/other' }],
      ['PUT', '/bucket/key?partNumber=1&uploadId=abc', { 'x-amz-copy-source': '/bucket/other' }],
      ['POST', '/bucket/key?uploads'],
      ['POST', '/bucket/key?uploadId=abc'],
      ['POST', '/bucket?delete'],
    ];
    for (const [m, u, h] of yes) expect(isObjectWrite(m, u, h ?? {}), `${m} ${u}`).toBe(true);
    for (const [m, u, h] of no) expect(isObjectWrite(m, u, h ?? {}), `${m} ${u}`).toBe(false);
  });
});

describe('S3 fault proxy (stub target)', () => {
  let stub: Awaited<ReturnType<typeof startStub>>;
  let proxy: S3FaultProxy;
  let agent: Agent;

  beforeAll(async () => {
    stub = await startStub();
    proxy = await startS3FaultProxy(stub.url, {});
    agent = new Agent({ connections: 1 });
  });
  afterAll(async () => {
    await agent.close();
    await proxy.close();
    await stub.close();
  });

  it('passes PUT and GET through byte-exact, streaming, with the Host header untouched', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const chunked = async function* () {
      for (let i = 0; i < data.length; i += 100_000) yield data.subarray(i, i + 100_000);
    };
    const put = await request(`${proxy.url}/bucket/dir/file.bin?x-id=PutObject`, {
      method: 'PUT',
      body: Readable.from(chunked()),
      dispatcher: agent,
    });
    await put.body.dump();
    expect(put.statusCode).toBe(200);
    expect(put.headers.etag).toBe(`"${data.length}"`);
    expect(put.headers['x-stub']).toBe('yes');
    expect(stub.seen.at(-1)).toMatchObject({
      method: 'PUT',
      url: '/bucket/dir/file.bin?x-id=PutObject',
      host: new URL(proxy.url).host,
      bytes: data.length,
    });
    const got = await request(`${proxy.url}/bucket/dir/file.bin`, { dispatcher: agent });
    expect(Buffer.from(await got.body.arrayBuffer()).equals(data)).toBe(true);
    const s = proxy.stats();
    expect(s.bytesUp).toBe(data.length);
    expect(s.bytesDown).toBe(data.length);
    expect(s.objectWrites).toBe(1);
  });

  it('answers object writes with 503 SlowDown at rate 1, draining the body and keeping the connection', async () => {
    proxy.setFaults({ slowDown: 1 });
    try {
      const before = stub.seen.length;
      const res = await request(`${proxy.url}/bucket/k?partNumber=2&uploadId=u1&x-id=UploadPart`, {
        method: 'PUT',
        body: randomBytes(1 << 20),
        dispatcher: agent,
      });
      const xml = await res.body.text();
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toBe('application/xml');
      expect(res.headers['x-amz-request-id']).toMatch(/\w+/);
      expect(xml).toMatch(
        /<Error><Code>SlowDown<\/Code><Message>Please reduce your request rate\.<\/Message>.*<RequestId>\w+<\/RequestId>/,
      );
      // Bucket-level and read calls are never faulted.
      for (const [method, path] of [
        ['PUT', '/newbucket'],
        ['GET', '/bucket?list-type=2'],
        ['POST', '/bucket/k?uploads'],
        ['POST', '/bucket/k?uploadId=u1'],
      ] as const) {
        const r = await request(proxy.url + path, {
          method,
          dispatcher: agent,
          body: method === 'POST' ? '<x/>' : undefined,
        });
        await r.body.dump();
        expect(r.statusCode, `${method} ${path}`).not.toBe(503);
      }
      expect(stub.seen.slice(before).map((s) => `${s.method} ${s.url}`)).toEqual([
        'PUT /newbucket',
        'GET /bucket?list-type=2',
        'POST /bucket/k?uploads',
        'POST /bucket/k?uploadId=u1',
      ]);
      expect(proxy.stats().faults.slowDown).toBe(1);
    } finally {
      proxy.setFaults({});
    }
  });

  it('resets object writes at rate 1 and counts them', async () => {
    proxy.setFaults({ reset: 1 });
    const a = new Agent();
    try {
      const before = stub.seen.length;
      const err = await request(`${proxy.url}/bucket/r.bin`, {
        method: 'PUT',
        body: randomBytes(256 * 1024),
        dispatcher: a,
      }).then(
        async (r) => {
          await r.body.dump();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
      expect(stub.seen.length).toBe(before);
      expect(proxy.stats().faults.reset).toBe(1);
    } finally {
      proxy.setFaults({});
      await a.close();
    }
  });

  it('answers 502 in S3 style when the target is down', async () => {
    const lone = await startS3FaultProxy('http://127.0.0.1:1', {});
    try {
      const r = await request(`${lone.url}/bucket`, { method: 'GET' });
      expect(r.statusCode).toBe(502);
      expect(await r.body.text()).toMatch(/<Code>BadGateway<\/Code>/);
      expect(lone.stats().upstreamErrors).toBe(1);
    } finally {
      await lone.close();
    }
  });
});

/** The SDK's retry decisions (which errors, how many attempts) with 5 ms back-off instead of seconds. */
function quickRetries(maxAttempts: number, errorTypes: string[]): RetryStrategyV2 {
  const token = (n: number): RetryToken => ({ getRetryCount: () => n, getRetryDelay: () => 5 });
  return {
    acquireInitialRetryToken: async () => token(0),
    refreshRetryTokenForRetry: async (t, info) => {
      errorTypes.push(info.errorType);
      if (info.errorType === 'CLIENT_ERROR' || t.getRetryCount() + 1 >= maxAttempts)
        throw info.error ?? new Error('no more retries');
      return token(t.getRetryCount() + 1);
    },
    recordSuccess: () => {},
  };
}

describe('S3 fault proxy in front of the local S3 (fauxqs) with the AWS SDK', () => {
  let fauxqs: LocalFauxqs;
  let proxy: S3FaultProxy;
  let s3: S3Client;
  const errorTypes: string[] = [];

  beforeAll(async () => {
    fauxqs = await startLocalFauxqs();
    proxy = await startS3FaultProxy(fauxqs.url, {});
    s3 = new S3Client({
      endpoint: proxy.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      retryStrategy: quickRetries(8, errorTypes),
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'media' }));
  });
  afterAll(async () => {
    s3?.destroy();
    await proxy?.close();
    await fauxqs?.stop();
  });

  it('the SDK sees a real SlowDown error after its own retries', async () => {
    proxy.setFaults({ slowDown: 1 });
    errorTypes.length = 0;
    try {
      const err = (await s3
        .send(new PutObjectCommand({ Bucket: 'media', Key: 'a/x.ts', Body: randomBytes(1000) }))
        .catch((e: unknown) => e)) as { name: string; $metadata: { httpStatusCode: number; attempts: number } };
      expect(err.name).toBe('SlowDown');
      expect(err.$metadata.httpStatusCode).toBe(503);
      expect(err.$metadata.attempts).toBe(8);
      expect(proxy.stats().faults.slowDown).toBe(8);
      // The SDK recognised the XML as S3 throttling, not as an unknown server error.
      expect(new Set(errorTypes)).toEqual(new Set(['THROTTLING']));
    } finally {
      proxy.setFaults({});
    }
  });

  it('a multipart upload survives SlowDowns and resets, and arrives byte-exact', async () => {
    proxy.setFaults({ seed: 5, slowDown: 0.25, reset: 0.15 });
    errorTypes.length = 0;
    try {
      const data = randomBytes(12 * 1024 * 1024 + 3);
      await new Upload({
        client: s3,
        params: { Bucket: 'media', Key: 'big/main.mp4', Body: data },
        partSize: 5 * 1024 * 1024,
        queueSize: 2,
      }).done();
      proxy.setFaults({});
      const got = await s3.send(new GetObjectCommand({ Bucket: 'media', Key: 'big/main.mp4' }));
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(data)).toBe(true);
      const f = proxy.stats().faults;
      expect(f.slowDown).toBeGreaterThan(0);
      expect(f.reset).toBeGreaterThan(0);
      expect(new Set(errorTypes)).toEqual(new Set(['THROTTLING', 'TRANSIENT']));
    } finally {
      proxy.setFaults({});
    }
  });
});
