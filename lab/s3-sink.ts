/**
 * A local S3-compatible endpoint that keeps nothing: it takes PutObject and multipart uploads
 * (CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload), checks each
 * body against the CRC32 the client sent, and answers with the ETags and CRC32 checksums S3 reports
 * (FULL_OBJECT for a completed multipart upload). Every body is read and dropped: the benchmark of a
 * 4 GB copy measures the copying process, not a server holding the object. HEAD and GET answer 404.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import { crc32Base64 } from '../src/util/crc.ts';

export interface S3Sink {
  /** Endpoint URL (path-style addressing), e.g. http://127.0.0.1:41234. */
  url: string;
  /** Objects completed and body bytes received (all of them checked, none kept). */
  stats(): { objects: number; bytes: number; requests: number };
  close(): Promise<void>;
}

interface Part {
  crc: number;
  size: number;
}

// zlib's crc32_combine: the CRC32 of A‖B from crc(A), crc(B) and |B|, by GF(2) matrix powers of the
// shift operator. Parts arrive out of order, so the whole object's CRC32 is combined at completion.
function gf2Times(mat: Uint32Array, vec: number): number {
  let sum = 0;
  for (let i = 0; vec !== 0; i++, vec >>>= 1) if (vec & 1) sum ^= mat[i]!;
  return sum >>> 0;
}

function gf2Square(square: Uint32Array, mat: Uint32Array): void {
  for (let n = 0; n < 32; n++) square[n] = gf2Times(mat, mat[n]!);
}

/** The CRC32 of two byte strings joined, from their CRC32s and the second one's length. */
export function crc32Combine(crc1: number, crc2: number, len2: number): number {
  if (len2 <= 0) return crc1 >>> 0;
  const even = new Uint32Array(32);
  const odd = new Uint32Array(32);
  odd[0] = 0xedb88320;
  for (let n = 1, row = 1; n < 32; n++, row <<= 1) odd[n] = row;
  gf2Square(even, odd);
  gf2Square(odd, even);
  let crc = crc1 >>> 0;
  let len = len2;
  for (;;) {
    gf2Square(even, odd);
    if (len % 2) crc = gf2Times(even, crc);
    len = Math.floor(len / 2);
    if (len === 0) break;
    gf2Square(odd, even);
    if (len % 2) crc = gf2Times(odd, crc);
    len = Math.floor(len / 2);
    if (len === 0) break;
  }
  return (crc ^ crc2) >>> 0;
}

function xml(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/xml', ...headers });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
}

function error(res: ServerResponse, status: number, code: string, message: string): void {
  xml(res, status, `<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}

/** Reads a body to its end, returning its CRC32 and length (and the text, for small XML bodies). */
async function drain(req: IncomingMessage, keepText = false): Promise<{ crc: number; size: number; text: string }> {
  let crc = 0;
  let size = 0;
  const kept: Buffer[] = [];
  for await (const chunk of req) {
    const b = chunk as Buffer;
    crc = crc32(b, crc);
    size += b.length;
    if (keepText) kept.push(b);
  }
  return { crc, size, text: keepText ? Buffer.concat(kept).toString('utf8') : '' };
}

/** Starts the sink on 127.0.0.1 (a free port unless given). */
export async function startS3Sink(opts: { port?: number } = {}): Promise<S3Sink> {
  const uploads = new Map<string, Map<number, Part>>();
  let objects = 0;
  let bytes = 0;
  let requests = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    requests++;
    const url = new URL(req.url ?? '/', 'http://sink');
    const q = url.searchParams;
    const sent = req.headers['x-amz-checksum-crc32'];
    const check = (crc: number): boolean => {
      if (typeof sent === 'string' && sent !== crc32Base64(crc)) {
        error(res, 400, 'BadDigest', 'The CRC32 you specified did not match the calculated checksum.');
        return false;
      }
      return true;
    };
    if (req.method === 'POST' && q.has('uploads')) {
      const uploadId = randomUUID();
      uploads.set(uploadId, new Map());
      await drain(req);
      const key = url.pathname.split('/').slice(2).join('/');
      return xml(
        res,
        200,
        `<InitiateMultipartUploadResult><Bucket>${url.pathname.split('/')[1]}</Bucket><Key>${key}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`,
        { 'x-amz-checksum-algorithm': 'CRC32', 'x-amz-checksum-type': 'FULL_OBJECT' },
      );
    }
    if (req.method === 'PUT' && q.has('uploadId')) {
      const parts = uploads.get(q.get('uploadId')!);
      const body = await drain(req);
      if (!parts) return error(res, 404, 'NoSuchUpload', 'The specified upload does not exist.');
      if (!check(body.crc)) return;
      bytes += body.size;
      parts.set(Number(q.get('partNumber')), { crc: body.crc, size: body.size });
      res.writeHead(200, {
        etag: `"${body.crc.toString(16)}-${body.size}"`,
        'x-amz-checksum-crc32': crc32Base64(body.crc),
      });
      return void res.end();
    }
    if (req.method === 'POST' && q.has('uploadId')) {
      const parts = uploads.get(q.get('uploadId')!);
      const body = await drain(req, true);
      if (!parts) return error(res, 404, 'NoSuchUpload', 'The specified upload does not exist.');
      const numbers = [...body.text.matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) => Number(m[1]));
      let whole = 0;
      for (const n of numbers) {
        const part = parts.get(n);
        if (!part) return error(res, 400, 'InvalidPart', `Part ${n} was not uploaded.`);
        whole = crc32Combine(whole, part.crc, part.size);
      }
      if (!check(whole)) return;
      uploads.delete(q.get('uploadId')!);
      objects++;
      return xml(
        res,
        200,
        `<CompleteMultipartUploadResult><Location>${url.pathname}</Location><Bucket>${url.pathname.split('/')[1]}</Bucket><Key>${url.pathname.split('/').slice(2).join('/')}</Key><ETag>"${whole.toString(16)}-${numbers.length}"</ETag><ChecksumCRC32>${crc32Base64(whole)}</ChecksumCRC32><ChecksumType>FULL_OBJECT</ChecksumType></CompleteMultipartUploadResult>`,
      );
    }
    if (req.method === 'DELETE' && q.has('uploadId')) {
      uploads.delete(q.get('uploadId')!);
      await drain(req);
      res.writeHead(204);
      return void res.end();
    }
    if (req.method === 'PUT') {
      const body = await drain(req);
      if (!check(body.crc)) return;
      bytes += body.size;
      objects++;
      res.writeHead(200, {
        etag: `"${body.crc.toString(16)}-${body.size}"`,
        'x-amz-checksum-crc32': crc32Base64(body.crc),
        'x-amz-checksum-type': 'FULL_OBJECT',
      });
      return void res.end();
    }
    await drain(req);
    if (req.method === 'HEAD') {
      res.writeHead(404);
      return void res.end();
    }
    error(res, 404, 'NoSuchKey', 'The sink keeps no objects.');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) error(res, 500, 'InternalError', err instanceof Error ? err.message : String(err));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats: () => ({ objects, bytes, requests }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
