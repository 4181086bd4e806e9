import type { S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { Agent, type Dispatcher } from 'undici';
import { FlantsError } from '../../errors.ts';
import { withRetry } from '../../util/retry.ts';
import { isResendable } from '../../util/aws-errors.ts';

/**
 * The one hot S3 call, PutObject, sent without the SDK's per-request machinery.
 *
 * A transfer makes one PutObject per file and almost nothing else; through the SDK each one costs
 * about a millisecond of CPU in middleware (serialisation, endpoint rules, retry bookkeeping,
 * signing, response parsing), more than streaming its ~300 KB body. Here the request is built
 * directly, signed by the SDK's own SigV4 signer with the client's own credentials, region and
 * endpoint rules, and sent over an undici keep-alive pool. The body is always buffered and always
 * carries a CRC32 that S3 checks on arrival, so the payload is `UNSIGNED-PAYLOAD` (no SHA-256 pass).
 */

export interface PutObjectInput {
  key: string;
  /** The body, buffered: one buffer goes out in one corked write with its headers, and can be sent again. */
  body: Buffer;
  contentType: string;
  /** CRC32 of the body, base64: S3 refuses the write (BadDigest) when the body does not match. */
  checksumCrc32: string;
  metadata?: Record<string, string> | undefined;
  ifNoneMatch?: '*';
  ifMatch?: string;
  signal?: AbortSignal | undefined;
}

export interface PutObjectOutput {
  etag: string | undefined;
  checksumCrc32: string | undefined;
  checksumType: string | undefined;
  sse: string | undefined;
}

/** Sends PutObject requests for one bucket. */
export interface ObjectPutter {
  put(input: PutObjectInput): Promise<PutObjectOutput>;
  close(): Promise<void>;
}

/**
 * An S3 error answer, shaped as the SDK shapes its service errors (`name` is S3's code,
 * `$metadata.httpStatusCode` the status), so callers treat both alike.
 */
export class S3ResponseError extends Error {
  readonly $metadata: { httpStatusCode: number; requestId?: string | undefined };
  readonly $fault: 'client' | 'server';
  constructor(code: string, message: string, status: number, requestId: string | undefined) {
    super(message);
    this.name = code;
    this.$metadata = { httpStatusCode: status, ...(requestId ? { requestId } : {}) };
    this.$fault = status >= 500 ? 'server' : 'client';
  }
}

/** Attempts per PutObject (the SDK's standard mode makes 3): throttling, 5xx and broken connections are tried again. */
const ATTEMPTS = 3;
const BASE_DELAY_MS = 100;
const MAX_DELAY_MS = 20_000;

/** A key as S3 wants it in the path: every byte but unreserved ones and `/` percent-encoded (RFC 3986). */
export function encodeKey(key: string): string {
  if (/^[A-Za-z0-9\-._~/]*$/.test(key)) return key;
  return key
    .split('/')
    .map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');
}

const text = (xml: string, tag: string): string | undefined =>
  new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml)?.[1];
const header = (h: Exchange['headers'], name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

/** An answered request: status, headers and (for an error's XML) the body, at most 64 KiB of it. */
interface Exchange {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Most of an S3 error answer is a short XML document; what is beyond this is not read into memory. */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * Sends one PUT through undici's dispatcher with a handler that keeps only what a PutObject answer
 * needs, instead of `request()`'s per-call body stream and async resource: one file, one call.
 */
function exchange(
  agent: Dispatcher,
  origin: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer,
  signal: AbortSignal | undefined,
): Promise<Exchange> {
  return new Promise<Exchange>((resolve, reject) => {
    signal?.throwIfAborted();
    let statusCode = 0;
    let answer: Exchange['headers'] = {};
    const chunks: Buffer[] = [];
    let size = 0;
    let controller: Dispatcher.DispatchController | undefined;
    const reason = (): Error =>
      signal?.reason instanceof Error ? signal.reason : new Error('the PutObject was aborted');
    const onAbort = () => controller?.abort(reason());
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => signal?.removeEventListener('abort', onAbort);
    agent.dispatch(
      { origin, path, method: 'PUT', headers, body },
      {
        onRequestStart(c) {
          controller = c;
          if (signal?.aborted) c.abort(reason());
        },
        onResponseStart(_c, status, h) {
          statusCode = status;
          answer = h;
        },
        onResponseData(_c, chunk) {
          if (statusCode === 200 || size >= MAX_ANSWER_BYTES) return;
          chunks.push(chunk);
          size += chunk.length;
        },
        onResponseEnd() {
          done();
          resolve({ statusCode, headers: answer, body: Buffer.concat(chunks) });
        },
        onResponseError(_c, err) {
          done();
          reject(err);
        },
      },
    );
  });
}

/**
 * Builds the PutObject sender for `bucket` from an S3 client's configuration: its credentials
 * (refreshed as the SDK refreshes them), region, endpoint (a configured one, path-style or not,
 * or S3's regional one by the SDK's own endpoint rules) and clock offset.
 */
export function createObjectPutter(s3: S3Client, bucket: string, opts: { connections?: number } = {}): ObjectPutter {
  const config = s3.config;
  const agent = new Agent({
    connections: opts.connections ?? 64,
    keepAliveTimeout: 30_000,
    connectTimeout: 5_000,
    headersTimeout: 120_000,
    bodyTimeout: 120_000,
  });
  let target: Promise<{ base: URL; prefix: string; signer: SignatureV4 }> | undefined;

  const resolve = async () => {
    const region = await config.region();
    const custom = await config.endpoint?.();
    const endpoint = custom
      ? `${custom.protocol}//${custom.hostname}${custom.port ? `:${custom.port}` : ''}${custom.path}`
      : undefined;
    const resolved = config.endpointProvider({
      Bucket: bucket,
      Region: region,
      UseFIPS: await config.useFipsEndpoint(),
      UseDualStack: await config.useDualstackEndpoint(),
      ForcePathStyle: config.forcePathStyle ?? false,
      Accelerate: config.useAccelerateEndpoint ?? false,
      ...(endpoint ? { Endpoint: endpoint } : {}),
    });
    const scheme = (
      resolved.properties?.authSchemes as { name?: string; signingName?: string; signingRegion?: string }[]
    )?.[0];
    if (scheme && scheme.name !== 'sigv4') {
      throw new FlantsError(
        'CONFIG',
        `bucket ${bucket} needs ${scheme.name} signing (a directory or multi-region bucket), which the transfer does not support`,
      );
    }
    const signingName = scheme?.signingName ?? 's3';
    const signingRegion = scheme?.signingRegion ?? region;
    const signer = new SignatureV4({
      credentials: config.credentials,
      region: signingRegion,
      service: signingName,
      sha256: config.sha256,
      // S3 signs the path as sent (no second encoding).
      uriEscapePath: false,
      applyChecksum: false,
    });
    const base = new URL(resolved.url.href);
    // The bucket's path on a path-style endpoint ("/bucket"), empty on a virtual-hosted one.
    return { base, prefix: base.pathname.replace(/\/$/, ''), signer };
  };

  const once = async (input: PutObjectInput): Promise<PutObjectOutput> => {
    target ??= resolve().catch((err: unknown) => {
      target = undefined;
      throw err;
    });
    const { base, prefix, signer } = await target;
    const path = `${prefix}/${encodeKey(input.key)}`;
    const headers: Record<string, string> = {
      host: base.host,
      'content-type': input.contentType,
      'content-length': String(input.body.length),
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      'x-amz-checksum-crc32': input.checksumCrc32,
      'x-amz-sdk-checksum-algorithm': 'CRC32',
    };
    for (const [k, v] of Object.entries(input.metadata ?? {})) headers[`x-amz-meta-${k.toLowerCase()}`] = v;
    if (input.ifNoneMatch) headers['if-none-match'] = input.ifNoneMatch;
    if (input.ifMatch) headers['if-match'] = input.ifMatch;
    const offset = config.systemClockOffset ?? 0;
    const signed = await signer.sign(
      {
        method: 'PUT',
        protocol: base.protocol,
        hostname: base.hostname,
        ...(base.port ? { port: Number(base.port) } : {}),
        path,
        query: {},
        headers,
      },
      { signingDate: new Date(Date.now() + offset) },
    );
    const res = await exchange(agent, base.origin, path, signed.headers, input.body, input.signal);
    if (res.statusCode === 200) {
      const etag = header(res.headers, 'etag');
      return {
        etag,
        checksumCrc32: header(res.headers, 'x-amz-checksum-crc32'),
        checksumType: header(res.headers, 'x-amz-checksum-type'),
        sse: header(res.headers, 'x-amz-server-side-encryption'),
      };
    }
    const xml = res.body.toString('utf8');
    const code = text(xml, 'Code') ?? (res.statusCode === 412 ? 'PreconditionFailed' : `Http${res.statusCode}`);
    const date = header(res.headers, 'date');
    if (code === 'RequestTimeTooSkewed' && date) config.systemClockOffset = Date.parse(date) - Date.now();
    throw new S3ResponseError(
      code,
      text(xml, 'Message') ?? `S3 answered ${res.statusCode} to PutObject ${input.key}`,
      res.statusCode,
      header(res.headers, 'x-amz-request-id'),
    );
  };

  return {
    put: (input) =>
      withRetry(() => once(input), {
        attempts: ATTEMPTS,
        baseDelayMs: BASE_DELAY_MS,
        maxDelayMs: MAX_DELAY_MS,
        // Throttling, S3's 5xx, a clock corrected since, a broken connection: the same request again.
        retryable: isResendable,
        ...(input.signal ? { signal: input.signal } : {}),
      }),
    close: () => agent.close(),
  };
}
