// The transfer's own PutObject sender: what it puts on the wire must be what S3 accepts. The local
// S3 does not check signatures, so here a capturing server recomputes each request's SigV4
// signature from nothing but what arrived (method, raw path, the headers it names as signed), as
// S3 does, and compares; and answers with S3's errors to check how they surface and which are retried.
import { S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createObjectPutter, encodeKey, S3ResponseError } from '../../../src/adapters/s3/s3-put.ts';

const bytes = (d: string | ArrayBuffer | ArrayBufferView): string | Buffer =>
  typeof d === 'string'
    ? d
    : ArrayBuffer.isView(d)
      ? Buffer.from(d.buffer, d.byteOffset, d.byteLength)
      : Buffer.from(d);

/** SHA-256 (and HMAC-SHA-256 with a secret) from node:crypto, for the verifying side's signer. */
class Sha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.h.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.h.digest());
  }
}

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}
let server: Server;
let endpoint: string;
const seen: Seen[] = [];
/** How the next requests are answered, in order; the last one repeats. */
let answers: Array<(res: ServerResponse, req: IncomingMessage) => void> = [];

const ok = (res: ServerResponse) =>
  void res
    .writeHead(200, { etag: '"abc"', 'x-amz-checksum-crc32': 'AAAAAA==', 'x-amz-checksum-type': 'FULL_OBJECT' })
    .end();
const s3Error = (status: number, code: string) => (res: ServerResponse) =>
  void res
    .writeHead(status, { 'content-type': 'application/xml', 'x-amz-request-id': 'REQ1' })
    .end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code} here</Message></Error>`);

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
      const answer = answers.length > 1 ? answers.shift()! : answers[0]!;
      answer(res, req);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server?.close());
afterEach(() => {
  seen.length = 0;
  answers = [];
});

const client = (extra: { sessionToken?: string } = {}) =>
  new S3Client({
    region: 'eu-west-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret/EXAMPLE+key', ...extra },
  });

/** Recomputes the request's signature as S3 would, from the wire alone. */
async function expectedAuthorization(r: Seen, sessionToken?: string): Promise<string> {
  const auth = String(r.headers.authorization);
  const signedNames = /SignedHeaders=([^,]+)/.exec(auth)![1]!.split(';');
  const date = String(r.headers['x-amz-date']);
  const signingDate = new Date(
    `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
  );
  const headers: Record<string, string> = {};
  for (const n of signedNames) headers[n] = String(r.headers[n]);
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'secret/EXAMPLE+key',
      ...(sessionToken ? { sessionToken } : {}),
    },
    region: 'eu-west-1',
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
  });
  const [path, search = ''] = r.url.split('?');
  const signed = await signer.sign(
    {
      method: r.method,
      protocol: 'http:',
      hostname: '127.0.0.1',
      path: path!,
      query: Object.fromEntries(new URLSearchParams(search)),
      headers,
    },
    { signingDate },
  );
  return String(signed.headers.authorization);
}

describe('the transfer’s PutObject sender', () => {
  it('encodes keys as S3 canonicalises them: every byte but A-Z a-z 0-9 - . _ ~ and the slashes', () => {
    expect(encodeKey("media/class 1/seg (1)!'*.ts")).toBe('media/class%201/seg%20%281%29%21%27%2A.ts');
    expect(encodeKey('a/ü+~_.-/b')).toBe('a/%C3%BC%2B~_.-/b');
  });

  it('signs what it sends exactly as S3 recomputes it, for keys that need encoding, metadata and a session token', async () => {
    answers = [ok];
    const keys = ['media/class 1/host/seg (1).ts', 'media/ü/ß+plus/~tilde/it’s*star!.m4s', 'k'];
    for (const sessionToken of [undefined, 'session/token+=']) {
      const s3 = client(sessionToken ? { sessionToken } : {});
      const putter = createObjectPutter(s3, 'my-bucket');
      for (const key of keys) {
        const out = await putter.put({
          key,
          body: Buffer.from('body bytes'),
          contentType: 'video/mp2t',
          checksumCrc32: 'AAAAAA==',
          metadata: { 'flants-generation': '3', 'flants-src-etag': '"x-1"' },
          ifNoneMatch: '*',
        });
        expect(out).toEqual({ etag: '"abc"', checksumCrc32: 'AAAAAA==', checksumType: 'FULL_OBJECT', sse: undefined });
        const r = seen.at(-1)!;
        expect(r.method).toBe('PUT');
        expect(r.url).toBe(`/my-bucket/${encodeKey(key)}`);
        expect(decodeURIComponent(r.url.slice('/my-bucket/'.length))).toBe(key);
        expect(r.body.toString()).toBe('body bytes');
        expect(r.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
        expect(r.headers['if-none-match']).toBe('*');
        expect(r.headers['x-amz-meta-flants-generation']).toBe('3');
        expect(r.headers['x-amz-security-token']).toBe(sessionToken);
        const signedNames = /SignedHeaders=([^,]+)/.exec(String(r.headers.authorization))![1]!.split(';');
        // Everything S3 acts on is under the signature.
        expect(signedNames).toEqual(
          expect.arrayContaining([
            'host',
            'content-type',
            'content-length',
            'if-none-match',
            'x-amz-checksum-crc32',
            'x-amz-content-sha256',
            'x-amz-date',
            'x-amz-meta-flants-generation',
            ...(sessionToken ? ['x-amz-security-token'] : []),
          ]),
        );
        expect(r.headers.authorization).toBe(await expectedAuthorization(r, sessionToken));
      }
      await putter.close();
      s3.destroy();
    }
  });

  it("surfaces S3's error as the SDK would (name = code, $metadata.httpStatusCode) and does not retry a 412", async () => {
    answers = [s3Error(412, 'PreconditionFailed')];
    const s3 = client();
    const putter = createObjectPutter(s3, 'b');
    const err = await putter
      .put({ key: 'k', body: Buffer.from('x'), contentType: 'text/plain', checksumCrc32: 'AAAAAA==', ifMatch: '"e"' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(S3ResponseError);
    expect(err).toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412, requestId: 'REQ1' } });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers['if-match']).toBe('"e"');
    await putter.close();
    s3.destroy();
  });

  it('tries throttling, 5xx and a dropped connection again, at most three times in all', async () => {
    const s3 = client();
    const putter = createObjectPutter(s3, 'b');
    const put = () =>
      putter.put({ key: 'k', body: Buffer.from('x'), contentType: 'text/plain', checksumCrc32: 'AAAAAA==' });

    answers = [s3Error(503, 'SlowDown'), (res) => res.socket!.destroy(), ok];
    await expect(put()).resolves.toMatchObject({ etag: '"abc"' });
    expect(seen).toHaveLength(3);

    seen.length = 0;
    answers = [s3Error(500, 'InternalError')];
    await expect(put()).rejects.toMatchObject({ name: 'InternalError', $metadata: { httpStatusCode: 500 } });
    expect(seen).toHaveLength(3);

    seen.length = 0;
    answers = [s3Error(400, 'BadDigest')];
    await expect(put()).rejects.toMatchObject({ name: 'BadDigest' });
    expect(seen).toHaveLength(1);
    await putter.close();
    s3.destroy();
  });

  it('stops a write whose signal aborts (the delivery ran out of time) without trying it again', async () => {
    answers = [() => undefined]; // never answers
    const s3 = client();
    const putter = createObjectPutter(s3, 'b');
    const started = Date.now();
    const err = await putter
      .put({
        key: 'k',
        body: Buffer.from('x'),
        contentType: 'text/plain',
        checksumCrc32: 'AAAAAA==',
        signal: AbortSignal.timeout(100),
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(seen).toHaveLength(1);
    await putter.close();
    s3.destroy();
  });
});
