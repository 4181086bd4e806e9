// Over 400 lines on purpose: one proxy whose faults (SlowDown, resets, the SSE-KMS answers) share its streaming pass-through; apart they would each re-implement it.
/**
 * A reverse proxy in front of a local S3 endpoint that passes every request through unchanged
 * (streaming both ways, keep-alive) but, at configured rates, refuses object writes the way S3
 * does under load: `503 SlowDown` with S3's XML error body, or a reset connection. It can also
 * make the local S3 answer like a bucket whose default encryption is SSE-KMS (see `S3Emulation`).
 */
import { listenLocal } from '../src/util/listen.ts';
import { randomBytes } from 'node:crypto';
import {
  Agent,
  createServer,
  request,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import { crc32Base64 } from '../src/util/crc.ts';
import { checkRates, FaultDice } from './fault-dice.ts';
import { s3Operation, type S3Operation } from './s3-operations.ts';

/**
 * How the proxied S3 answers object writes. `sseKms`: as a bucket with SSE-KMS default
 * encryption does — `x-amz-server-side-encryption: aws:kms`, and ETags that look like MD5s but are
 * not (random hex). `checksums` (default true): S3's flexible checksums — a CRC32 sent with a
 * PutObject/UploadPart is checked against the body (400 BadDigest on a mismatch) and reported back,
 * and a completed multipart upload reports the CRC32 of the whole object (FULL_OBJECT); false: an
 * S3-compatible endpoint that reports no checksum anywhere, only its ETags (plain MD5s unless `sseKms`).
 */
export interface S3Emulation {
  sseKms?: boolean;
  checksums?: boolean;
}

/** Faults for object-data requests; rates in [0, 1] adding up to at most 1. */
export interface S3Faults {
  seed?: number;
  /** Answer `503 SlowDown` (after reading and discarding the request body). */
  slowDown?: number;
  /** Reset the connection once the upload has started. */
  reset?: number;
}

export type S3FaultKind = 'slowDown' | 'reset';

export interface S3ProxyStats {
  requests: number;
  /** Requests recognised as object data (PutObject, UploadPart, POST upload): the only ones faulted. */
  objectWrites: number;
  /** Those writes by key (the path after the bucket): which objects were written, and how often. */
  writtenKeys: Record<string, number>;
  /** Request body bytes forwarded upstream. */
  bytesUp: number;
  /** Response body bytes forwarded to clients. */
  bytesDown: number;
  byStatus: Record<string, number>;
  faults: Record<S3FaultKind, number>;
  /** Upstream connection failures answered with 502. */
  upstreamErrors: number;
}

export interface S3FaultProxy {
  /** Base URL of the proxy, e.g. http://127.0.0.1:41235: point AWS_ENDPOINT_URL_S3 here. */
  url: string;
  port: number;
  stats(): S3ProxyStats;
  /** Replaces the fault configuration for the requests that follow (and restarts the sequences). */
  setFaults(faults: S3Faults): void;
  /** Replaces how object writes are answered (SSE-KMS-like ETags, checksums) for the requests that follow. */
  setEmulation(emulation: S3Emulation): void;
  close(): Promise<void>;
}

// Query parameters that PutObject and UploadPart carry; any other marks a sub-resource call (?acl, ?tagging, ...).
const OBJECT_WRITE_PARAMS = new Set(['partNumber', 'uploadId', 'x-id']);
const OBJECT_WRITE_IDS = new Set(['PutObject', 'UploadPart']);
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'transfer-encoding',
  'expect',
]);

/**
 * True for requests that carry object data, with path-style addressing: PUT /bucket/key
 * (PutObject, UploadPart) and browser-form POST /bucket. Bucket calls, copies, multipart
 * create/complete and sub-resources (?acl, ?tagging) are not object data.
 */
export function isObjectWrite(
  method: string | undefined,
  rawUrl: string | undefined,
  headers: IncomingHttpHeaders,
): boolean {
  const url = new URL(rawUrl ?? '/', 'http://s3.invalid');
  const segments = url.pathname.split('/').filter(Boolean);
  const params = [...url.searchParams.keys()];
  if (method === 'PUT') {
    if (segments.length < 2 || headers['x-amz-copy-source'] !== undefined) return false;
    if (!params.every((p) => OBJECT_WRITE_PARAMS.has(p))) return false;
    const id = url.searchParams.get('x-id');
    return id === null || OBJECT_WRITE_IDS.has(id);
  }
  if (method === 'POST')
    return segments.length === 1 && params.length === 0 && /^multipart\/form-data/i.test(headers['content-type'] ?? '');
  return false;
}

/** Headers without S3's checksum answers: for an emulated endpoint that reports none, or reports its own. */
function withoutChecksums(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  for (const name of Object.keys(headers)) if (name.toLowerCase().startsWith('x-amz-checksum-')) delete headers[name];
  return headers;
}

function forwardable(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

function xmlError(code: string, message: string, resource: string, requestId: string): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${esc(message)}</Message><Resource>${esc(resource)}</Resource><RequestId>${requestId}</RequestId><HostId>${Buffer.from(`flants-fault-proxy/${requestId}`).toString('base64')}</HostId></Error>`;
}

function validate(f: S3Faults): S3Faults {
  checkRates('S3 faults', { slowDown: f.slowDown, reset: f.reset });
  if (f.seed !== undefined && !Number.isSafeInteger(f.seed))
    throw new RangeError(`S3 faults: seed must be an integer, got ${f.seed}`);
  return { ...f };
}

/** Starts the proxy on 127.0.0.1 (any free port) in front of `targetUrl` (http://host:port). */
export async function startS3FaultProxy(
  targetUrl: string,
  faults: S3Faults = {},
  opts: {
    host?: string;
    port?: number;
    emulation?: S3Emulation;
    /** Told of every request as it arrives: what reached S3, whichever client sent it. */
    onRequest?: (op: S3Operation) => void;
  } = {},
): Promise<S3FaultProxy> {
  const target = new URL(targetUrl);
  if (target.protocol !== 'http:')
    throw new TypeError(`S3 fault proxy target must be an http:// URL, got ${targetUrl}`);
  let current = validate(faults);
  let emulation: S3Emulation = { ...opts.emulation };
  let dice = new FaultDice<S3FaultKind>(current.seed ?? 1, 's3');
  // With a timeout set, Node's agent also honours the target's Keep-Alive hint and drops idle
  // sockets before the target does, instead of racing it and turning a reset into a 502.
  const agent = new Agent({ keepAlive: true, maxSockets: 256, timeout: 4_000 });
  let requestIds = 0;
  const stats: S3ProxyStats = {
    requests: 0,
    objectWrites: 0,
    writtenKeys: {},
    bytesUp: 0,
    bytesDown: 0,
    byStatus: {},
    faults: { slowDown: 0, reset: 0 },
    upstreamErrors: 0,
  };
  const written = (rawUrl: string | undefined) => {
    stats.objectWrites++;
    const key = decodeURIComponent(new URL(rawUrl ?? '/', 'http://s3.invalid').pathname)
      .split('/')
      .slice(2)
      .join('/');
    stats.writtenKeys[key] = (stats.writtenKeys[key] ?? 0) + 1;
  };
  const count = (status: number) => {
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
  };

  function answer(req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string): void {
    const requestId = `FLANTS${(++requestIds).toString(16).toUpperCase().padStart(10, '0')}`;
    const body = Buffer.from(xmlError(code, message, new URL(req.url ?? '/', 'http://s3.invalid').pathname, requestId));
    count(status);
    res.writeHead(status, {
      'content-type': 'application/xml',
      'content-length': body.length,
      'x-amz-request-id': requestId,
      'x-amz-id-2': Buffer.from(requestId).toString('base64'),
      server: 'AmazonS3',
      date: new Date().toUTCString(),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  function slowDown(req: IncomingMessage, res: ServerResponse): void {
    // Read the whole upload first: answering mid-body would leave the client writing into a
    // connection whose next request is now ambiguous.
    req.on('error', () => {});
    req.resume();
    req.once('end', () => answer(req, res, 503, 'SlowDown', 'Please reduce your request rate.'));
  }

  function reset(req: IncomingMessage): void {
    const socket = req.socket;
    const cut = () => {
      if (!socket.destroyed) socket.resetAndDestroy();
    };
    // Once part of the body has arrived, like a connection dropped during an upload.
    req.once('data', cut);
    req.once('end', cut);
    req.on('error', () => {});
  }

  function forward(req: IncomingMessage, res: ServerResponse): void {
    const up = request({
      host: target.hostname,
      port: target.port || 80,
      method: req.method,
      path: req.url,
      // The Host header goes through untouched: it is part of the client's SigV4 signature.
      headers: forwardable(req.headers),
      agent,
    });
    let clientGone = false;
    res.once('close', () => {
      if (res.writableFinished) return;
      clientGone = true;
      up.destroy();
    });
    up.on('error', () => {
      if (clientGone) return;
      if (!res.headersSent) {
        stats.upstreamErrors++;
        answer(req, res, 502, 'BadGateway', `the S3 endpoint at ${target.host} did not answer`);
      } else res.destroy();
    });
    up.on('response', (ures) => {
      const headers =
        emulation.checksums === false ? withoutChecksums(forwardable(ures.headers)) : forwardable(ures.headers);
      count(ures.statusCode ?? 502);
      res.writeHead(ures.statusCode ?? 502, ures.statusMessage, headers);
      ures.on('data', (c: Buffer) => {
        stats.bytesDown += c.length;
      });
      pipeline(ures, res).catch(() => {});
    });
    req.on('data', (c: Buffer) => {
      stats.bytesUp += c.length;
    });
    pipeline(req, up).catch(() => {});
  }

  /** One buffered request upstream; for the SSE-KMS emulation, which must read and rewrite small answers. */
  function upstream(
    method: string,
    path: string,
    headers: OutgoingHttpHeaders,
    body?: Buffer,
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const up = request({ host: target.hostname, port: target.port || 80, method, path, headers, agent }, (ures) => {
        const chunks: Buffer[] = [];
        ures.on('data', (c: Buffer) => chunks.push(c));
        ures.on('end', () =>
          resolve({ status: ures.statusCode ?? 502, headers: ures.headers, body: Buffer.concat(chunks) }),
        );
        ures.on('error', reject);
      });
      up.on('error', reject);
      up.end(body);
    });
  }

  const fakeEtag = () => randomBytes(16).toString('hex');

  /** An object write answered as the emulated bucket answers it: SSE-KMS, and with checksums or none (see S3Emulation). */
  async function emulatedWrite(
    req: IncomingMessage,
    res: ServerResponse,
    kind: 'put' | 'part' | 'complete',
  ): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    stats.bytesUp += body.length;
    const checksums = emulation.checksums ?? true;
    const chunked = /aws-chunked/.test(req.headers['content-encoding'] ?? '');
    const sent = req.headers['x-amz-checksum-crc32'];
    const computed = kind !== 'complete' && !chunked ? crc32Base64(crc32(body)) : undefined;
    if (checksums && typeof sent === 'string' && computed !== undefined && sent !== computed) {
      answer(
        req,
        res,
        400,
        'BadDigest',
        `The CRC32 you specified (${sent}) did not match the calculated checksum (${computed}).`,
      );
      return;
    }
    const headers = forwardable(req.headers);
    const got = await upstream(req.method ?? 'PUT', req.url ?? '/', headers, body);
    // The local S3 reports checksums too: this emulation's answer is its own (with them or without).
    const out = withoutChecksums(forwardable(got.headers));
    let payload = got.body;
    if (got.status === 200) {
      const kms = emulation.sseKms ?? false;
      if (kms) {
        out['x-amz-server-side-encryption'] = 'aws:kms';
        out['x-amz-server-side-encryption-aws-kms-key-id'] = 'arn:aws:kms:us-east-1:000000000000:key/flants-local';
      }
      if (kind === 'put' && kms) out.etag = `"${fakeEtag()}"`;
      if (checksums && computed !== undefined) {
        out['x-amz-checksum-crc32'] = computed;
        out['x-amz-checksum-type'] = 'FULL_OBJECT';
      }
      if (kind === 'complete') {
        let xml = payload
          .toString('utf8')
          .replace(/\s*<Checksum(CRC32|Type)>[^<]*<\/Checksum\1>/g, '')
          .replace(/<ETag>([^<]*?)(-\d+)?(&quot;|")?<\/ETag>/, (m, _e, n: string | undefined) =>
            kms ? `<ETag>&quot;${fakeEtag()}${n ?? ''}&quot;</ETag>` : m,
          );
        if (checksums) {
          // S3 reports the CRC32 of what it assembled: read the object back and compute it.
          const path = new URL(req.url ?? '/', 'http://s3.invalid').pathname;
          const whole = await upstream('GET', path, { host: req.headers.host ?? target.host });
          xml = xml.replace(
            '</CompleteMultipartUploadResult>',
            `<ChecksumCRC32>${crc32Base64(crc32(whole.body))}</ChecksumCRC32><ChecksumType>FULL_OBJECT</ChecksumType></CompleteMultipartUploadResult>`,
          );
        }
        payload = Buffer.from(xml);
      }
      out['content-length'] = String(payload.length);
    }
    count(got.status);
    stats.bytesDown += payload.length;
    res.writeHead(got.status, out);
    res.end(payload);
  }

  const server = createServer({ keepAlive: true }, (req, res) => {
    stats.requests++;
    opts.onRequest?.(s3Operation(req.method, req.url, req.headers));
    res.on('error', () => {});
    const isComplete =
      req.method === 'POST' && new URL(req.url ?? '/', 'http://s3.invalid').searchParams.has('uploadId');
    if (
      (emulation.sseKms || emulation.checksums === false) &&
      (isComplete || isObjectWrite(req.method, req.url, req.headers))
    ) {
      const kind = isComplete
        ? 'complete'
        : new URL(req.url ?? '/', 'http://s3.invalid').searchParams.has('partNumber')
          ? 'part'
          : 'put';
      emulatedWrite(req, res, kind).catch(() => {
        stats.upstreamErrors++;
        if (!res.headersSent) answer(req, res, 502, 'BadGateway', `the S3 endpoint at ${target.host} did not answer`);
        else res.destroy();
      });
      return;
    }
    if (!isObjectWrite(req.method, req.url, req.headers)) {
      forward(req, res);
      return;
    }
    written(req.url);
    const url = new URL(req.url ?? '/', 'http://s3.invalid');
    const { kind } = dice.roll(`${req.method} ${url.pathname} ${url.searchParams.get('partNumber') ?? ''}`, [
      ['slowDown', current.slowDown ?? 0],
      ['reset', current.reset ?? 0],
    ]);
    if (kind) stats.faults[kind]++;
    if (kind === 'slowDown') slowDown(req, res);
    else if (kind === 'reset') reset(req);
    else forward(req, res);
  });
  server.keepAliveTimeout = 30_000;
  server.headersTimeout = 35_000;
  server.on('connection', (s: Socket) => s.on('error', () => {}));
  server.on('clientError', (_err, socket) => socket.destroy());

  const { url, port } = await listenLocal(server, opts);
  return {
    url,
    port,
    stats: () => structuredClone(stats),
    setFaults(f) {
      current = validate(f);
      dice = new FaultDice<S3FaultKind>(current.seed ?? 1, 's3');
    },
    setEmulation(e) {
      emulation = { ...e };
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      agent.destroy();
    },
  };
}
