// Over 400 lines on purpose: each S3 behaviour fauxqs lacks (conditional writes, checksummed multipart completion, CRC32s) patches the same request path; one file reads as the list of differences from S3.
/**
 * The local SQS and S3 server: fauxqs, bound to loopback, with what S3 does and fauxqs 1.9.2 does
 * not: the conditional writes S3 has had since 2024 (`If-None-Match: *` and `If-Match: <etag>` on
 * PutObject and CompleteMultipartUpload) — the transfer's generation guard relies on them, so the
 * local stack must refuse a stale write exactly as S3 does: 412 PreconditionFailed, object
 * untouched — CompleteMultipartUpload bodies whose parts carry checksums (fauxqs's parser
 * expects PartNumber then ETag only, and would complete an empty object), and S3's CRC32 checksums:
 * checked on arrival and reported back, so that the transfer's end-to-end check here is the one it
 * makes against S3 (S3's CRC32 of what it stored), not an ETag-as-MD5 fallback only local servers need.
 */
import { buildApp } from 'fauxqs';
import { crc32 } from 'node:zlib';
import { crc32Base64 } from '../../src/util/crc.ts';
import { addAwsPermissions, type AwsPermissions } from '../s3-permissions.ts';

/** A running local fauxqs server. */
export interface LocalFauxqs {
  url: string;
  port: number;
  stop(): Promise<void>;
}

type App = ReturnType<typeof buildApp>;

/** The bucket/key an object write targets, or undefined for anything that is not one (parts, bucket calls). */
function objectWriteTarget(
  method: string,
  rawUrl: string,
  headers: Record<string, string | string[] | undefined>,
): string | undefined {
  const url = new URL(rawUrl, 'http://s3.invalid');
  const segments = url.pathname.split('/').filter(Boolean);
  if (segments.length < 2) return undefined;
  const isPut =
    method === 'PUT' &&
    !url.searchParams.has('partNumber') &&
    !url.searchParams.has('uploadId') &&
    headers['x-amz-copy-source'] === undefined;
  const isComplete = method === 'POST' && url.searchParams.has('uploadId');
  if (!isPut && !isComplete) return undefined;
  // fauxqs keys objects by the raw path after the bucket; keep it exactly as sent.
  return url.pathname.slice(1);
}

function preconditionFailed(condition: string): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message>',
    `<Condition>${condition}</Condition></Error>`,
  ].join('');
}

const header = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
const unquote = (etag: string | undefined): string | undefined => etag?.trim().replace(/^W\//, '').replaceAll('"', '');
/** An S3 XML answer as text, when the payload is one. */
const xmlOf = (payload: unknown): string | undefined =>
  typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : undefined;
/** The (first) ETag of an S3 XML document, quotes and their escapes removed. */
const etagInXml = (xml: string | undefined): string | undefined =>
  unquote(xml && /<ETag>([\s\S]*?)<\/ETag>/.exec(xml)?.[1]?.replace(/&quot;|&#34;/g, '"'));

/**
 * Follows, from the app's own answers, which objects a bucket holds and their ETags, for buckets
 * created through this app whose every write and delete it has seen, so a conditional write is
 * decided without a HEAD through the whole app (which cost this server more than the write itself).
 * A bucket it cannot follow (created otherwise, or after a DeleteObjects) is answered by HEADs.
 */
function watchObjects(app: App): {
  lookup(target: string): { exists: boolean; current: string | undefined } | undefined;
} {
  const etags = new Map<string, string>();
  const watched = new Set<string>();
  // Callback style: after fastify's async onSend hooks, an empty payload ran the following hooks twice.
  app.addHook('onSend', (req, reply, payload, done) => {
    const answer = (): unknown => {
      const status = reply.statusCode;
      if (status >= 300) return payload;
      const url = new URL(req.url, 'http://s3.invalid');
      const path = url.pathname.slice(1);
      const [bucket = ''] = path.split('/');
      const object = path.length > bucket.length + 1;
      const q = url.searchParams;
      // The SDK names its operation in `x-id`; any other parameter is a subresource (acl, tagging, parts…).
      const plain = [...q.keys()].every((k) => k === 'x-id');
      const xmlEtag = () => etagInXml(xmlOf(payload));
      if (!object) {
        if (req.method === 'PUT' && plain) watched.add(bucket);
        if (req.method === 'DELETE') watched.delete(bucket);
        if (req.method === 'POST' && q.has('delete')) watched.delete(bucket);
        return payload;
      }
      if (req.method === 'PUT' && plain) {
        const etag = req.headers['x-amz-copy-source'] ? xmlEtag() : unquote(String(reply.getHeader('etag') ?? ''));
        if (etag) etags.set(path, etag);
        else watched.delete(bucket);
      } else if (req.method === 'POST' && q.has('uploadId')) {
        const etag = xmlEtag();
        if (etag) etags.set(path, etag);
        else watched.delete(bucket);
      } else if (req.method === 'DELETE' && !q.has('uploadId')) etags.delete(path);
      return payload;
    };
    done(null, answer());
  });
  return {
    lookup(target) {
      if (!watched.has(target.split('/')[0] ?? '')) return undefined;
      const current = etags.get(target);
      return { exists: current !== undefined, current };
    },
  };
}

/**
 * Adds S3's conditional-write semantics to a fauxqs app. Writes to one key are serialised (each
 * holds the key from its precondition check until its response is sent), so the check and the
 * write it guards are atomic, as on S3.
 */
export function addConditionalWrites(app: App): void {
  const locks = new Map<string, Promise<void>>();
  const releases = new WeakMap<object, () => void>();
  const index = watchObjects(app);
  /** Whether an object is stored, and its ETag: from the index when it knows the bucket, else a HEAD. */
  const stored = async (target: string): Promise<{ exists: boolean; current: string | undefined }> => {
    const known = index.lookup(target);
    if (known) return known;
    const head = await app.inject({ method: 'HEAD', url: `/${target}` });
    return { exists: head.statusCode === 200, current: unquote(header(head.headers.etag)) };
  };

  app.addHook('preHandler', async (req, reply) => {
    const target = objectWriteTarget(req.method, req.url, req.headers);
    if (!target) return;
    const previous = locks.get(target) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = () => {
        if (locks.get(target) === mine) locks.delete(target);
        resolve();
      };
    });
    locks.set(
      target,
      previous.then(() => mine),
    );
    await previous;
    releases.set(req.raw, release);

    const ifNoneMatch = header(req.headers['if-none-match']);
    const ifMatch = header(req.headers['if-match']);
    if (ifNoneMatch === undefined && ifMatch === undefined) return;
    const { exists, current } = await stored(target);
    let failed: string | undefined;
    if (ifNoneMatch !== undefined && ifNoneMatch.trim() === '*' && exists) failed = 'If-None-Match';
    if (ifMatch !== undefined) {
      if (!exists) {
        reply.header('content-type', 'application/xml');
        return reply
          .status(404)
          .send(
            '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>',
          );
      }
      const wanted = ifMatch.split(',').map(unquote);
      if (!wanted.includes('*') && !wanted.includes(current)) failed = 'If-Match';
    }
    if (failed) {
      reply.header('content-type', 'application/xml');
      return reply.status(412).send(preconditionFailed(failed));
    }
    return undefined;
  });

  const done = (req: { raw: object }) => {
    const release = releases.get(req.raw);
    releases.delete(req.raw);
    release?.();
  };
  app.addHook('onResponse', (req, _reply, next) => {
    done(req);
    next();
  });
  app.addHook('onRequestAbort', (req, next) => {
    done(req);
    next();
  });
}

/**
 * Reads CompleteMultipartUpload part lists as S3 does: checksum elements and any element order.
 * fauxqs matches `<Part><PartNumber/><ETag/></Part>` only, so parts with `<ChecksumCRC32>` were
 * silently dropped and an empty object completed; S3 refuses an empty list (MalformedXML). Quotes
 * escaped in an ETag (`&#34;`, as Go's encoder and so rclone write them) are read as quotes.
 */
export function addCompleteMultipartParsing(app: App): void {
  app.addHook('preHandler', async (req, reply) => {
    if (
      req.method !== 'POST' ||
      !new URL(req.url, 'http://s3.invalid').searchParams.has('uploadId') ||
      !Buffer.isBuffer(req.body)
    )
      return undefined;
    const xml = req.body.toString('utf8');
    const parts = [...xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((m) => {
      const inner = m[1]!;
      return {
        number: /<PartNumber>(\d+)<\/PartNumber>/.exec(inner)?.[1],
        etag: /<ETag>([\s\S]*?)<\/ETag>/.exec(inner)?.[1]?.replace(/&quot;|&#34;/g, '"'),
      };
    });
    if (parts.length === 0 || parts.some((p) => p.number === undefined || p.etag === undefined)) {
      reply.header('content-type', 'application/xml');
      return reply
        .status(400)
        .send(
          '<?xml version="1.0" encoding="UTF-8"?><Error><Code>MalformedXML</Code><Message>The XML you provided was not well-formed or did not validate against our published schema</Message></Error>',
        );
    }
    req.body = Buffer.from(
      `<CompleteMultipartUpload>${parts.map((p) => `<Part><PartNumber>${p.number}</PartNumber><ETag>${p.etag}</ETag></Part>`).join('')}</CompleteMultipartUpload>`,
    );
    return undefined;
  });
}

function s3Error(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

type Target =
  | { kind: 'put'; path: string }
  | { kind: 'part'; uploadId: string; partNumber: number }
  | { kind: 'complete'; path: string; uploadId: string }
  | { kind: 'abort'; uploadId: string }
  | { kind: 'read'; path: string };

/** What an S3 request does, as far as checksums go. */
function checksumTarget(method: string, rawUrl: string): Target | undefined {
  const url = new URL(rawUrl, 'http://s3.invalid');
  if (url.pathname.split('/').filter(Boolean).length < 2) return undefined;
  const path = url.pathname.slice(1);
  const uploadId = url.searchParams.get('uploadId');
  const partNumber = url.searchParams.get('partNumber');
  if (method === 'PUT' && uploadId && partNumber) return { kind: 'part', uploadId, partNumber: Number(partNumber) };
  if (method === 'PUT' && !uploadId) return { kind: 'put', path };
  if (method === 'POST' && uploadId) return { kind: 'complete', path, uploadId };
  if (method === 'DELETE' && uploadId) return { kind: 'abort', uploadId };
  if ((method === 'GET' || method === 'HEAD') && !url.search) return { kind: 'read', path };
  return undefined;
}

/**
 * Adds S3's CRC32 checksums to a fauxqs app. A body sent with `x-amz-checksum-crc32` is checked
 * against it (400 BadDigest, nothing stored, as S3 does) and the server's own CRC32 of what it
 * stored is reported back: on PutObject and UploadPart in the response header; on
 * CompleteMultipartUpload in its result (FULL_OBJECT when asked for one, else COMPOSITE, the CRC32
 * of the parts' CRC32s with "-<parts>"); on HEAD/GET with `x-amz-checksum-mode: ENABLED`. As on S3,
 * an object written without a checksum reports none. Part bodies are the very buffers fauxqs keeps.
 */
export function addChecksums(app: App): void {
  /** Per stored object path: its CRC32 and the ETag it belongs to (a later write without one replaces it). */
  const objects = new Map<string, { crc: string; type: 'FULL_OBJECT' | 'COMPOSITE'; etag: string }>();
  const parts = new Map<string, Map<number, { body: Buffer; crc: number }>>();
  const pending = new WeakMap<object, { crc: string; type: 'FULL_OBJECT' | 'COMPOSITE' }>();

  app.addHook('preHandler', async (req, reply) => {
    const target = checksumTarget(req.method, req.url);
    if (!target || target.kind === 'read') return undefined;
    if (target.kind === 'abort') {
      parts.delete(target.uploadId);
      return undefined;
    }
    const sent = header(req.headers['x-amz-checksum-crc32']);
    const chunked = header(req.headers['content-encoding'])?.includes('aws-chunked') ?? false;
    if (target.kind === 'put' || target.kind === 'part') {
      if (sent === undefined || chunked || !Buffer.isBuffer(req.body)) return undefined;
      const crc = crc32(req.body);
      if (crc32Base64(crc) !== sent) {
        reply.header('content-type', 'application/xml');
        return reply
          .status(400)
          .send(s3Error('BadDigest', 'The CRC32 you specified did not match the calculated checksum.'));
      }
      if (target.kind === 'part') {
        const list = parts.get(target.uploadId) ?? new Map<number, { body: Buffer; crc: number }>();
        list.set(target.partNumber, { body: req.body, crc });
        parts.set(target.uploadId, list);
      }
      pending.set(req.raw, { crc: sent, type: 'FULL_OBJECT' });
      return undefined;
    }
    // Completion: the part list (already normalised by addCompleteMultipartParsing) in its order.
    const list = parts.get(target.uploadId);
    if (!list || !Buffer.isBuffer(req.body)) return undefined;
    const numbers = [...req.body.toString('utf8').matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) =>
      Number(m[1]),
    );
    const chosen = numbers.map((n) => list.get(n));
    if (chosen.some((p) => p === undefined)) return undefined; // a part sent without a checksum: S3 reports none
    const full = header(req.headers['x-amz-checksum-type'])?.toUpperCase() === 'FULL_OBJECT';
    let crc: string;
    if (full) {
      let whole = 0;
      for (const p of chosen) whole = crc32(p!.body, whole);
      crc = crc32Base64(whole);
      if (sent !== undefined && sent !== crc) {
        reply.header('content-type', 'application/xml');
        return reply
          .status(400)
          .send(s3Error('BadDigest', 'The CRC32 you specified did not match the calculated checksum.'));
      }
    } else {
      const joined = Buffer.concat(chosen.map((p) => Buffer.from(crc32Base64(p!.crc), 'base64')));
      crc = `${crc32Base64(crc32(joined))}-${chosen.length}`;
    }
    pending.set(req.raw, { crc, type: full ? 'FULL_OBJECT' : 'COMPOSITE' });
    return undefined;
  });

  // Callback style: after fastify's async onSend hooks, an empty payload ran the following hooks twice.
  app.addHook('onSend', (req, reply, payload, done) => {
    const answer = (): unknown => {
      const target = checksumTarget(req.method, req.url);
      if (!target) return payload;
      if (target.kind === 'read') {
        const stored = objects.get(target.path);
        const etag = unquote(String(reply.getHeader('etag') ?? ''));
        const enabled = header(req.headers['x-amz-checksum-mode'])?.toUpperCase() === 'ENABLED';
        if (enabled && reply.statusCode === 200 && stored && stored.etag === etag) {
          reply.header('x-amz-checksum-crc32', stored.crc);
          reply.header('x-amz-checksum-type', stored.type);
        }
        return payload;
      }
      const mine = pending.get(req.raw);
      if (target.kind === 'abort' || reply.statusCode !== 200) return payload;
      if (target.kind === 'put' || target.kind === 'complete') objects.delete(target.path);
      if (!mine) return payload;
      if (target.kind === 'part') {
        reply.header('x-amz-checksum-crc32', mine.crc);
        return payload;
      }
      if (target.kind === 'put') {
        objects.set(target.path, { ...mine, etag: unquote(String(reply.getHeader('etag') ?? '')) ?? '' });
        reply.header('x-amz-checksum-crc32', mine.crc);
        reply.header('x-amz-checksum-type', mine.type);
        return payload;
      }
      parts.delete(target.uploadId);
      const xml = xmlOf(payload);
      const etag = etagInXml(xml);
      if (!xml || !etag) return payload;
      objects.set(target.path, { ...mine, etag });
      return xml.replace(
        '</CompleteMultipartUploadResult>',
        `  <ChecksumCRC32>${mine.crc}</ChecksumCRC32>\n  <ChecksumType>${mine.type}</ChecksumType>\n</CompleteMultipartUploadResult>`,
      );
    };
    done(null, answer());
  });
}

/**
 * Keeps a bucket's lifecycle configuration (PutBucketLifecycleConfiguration, GetBucketLifecycleConfiguration,
 * DeleteBucketLifecycle) as S3 does, so that `flants setup`'s rule can be read back. fauxqs routes
 * `PUT /bucket?lifecycle` to CreateBucket (200, the rules dropped) and `GET` to a listing. The rules
 * are kept as sent and not applied: nothing here expires or aborts anything.
 */
export function addBucketLifecycle(app: App): void {
  const configs = new Map<string, string>();
  app.addHook('preHandler', async (req, reply) => {
    const url = new URL(req.url, 'http://s3.invalid');
    const segments = url.pathname.split('/').filter(Boolean);
    if (segments.length !== 1 || !url.searchParams.has('lifecycle')) return undefined;
    const bucket = segments[0]!;
    const exists = await app.inject({ method: 'HEAD', url: `/${bucket}` });
    reply.header('content-type', 'application/xml');
    if (exists.statusCode !== 200)
      return reply.status(404).send(s3Error('NoSuchBucket', 'The specified bucket does not exist'));
    if (req.method === 'PUT') {
      const xml = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : typeof req.body === 'string' ? req.body : '';
      if (!/<Rule>[\s\S]*<\/Rule>/.test(xml))
        return reply.status(400).send(s3Error('MalformedXML', 'The XML you provided was not well-formed'));
      configs.set(bucket, xml);
      return reply.status(200).send('');
    }
    if (req.method === 'DELETE') {
      configs.delete(bucket);
      return reply.status(204).send('');
    }
    const xml = configs.get(bucket);
    if (xml === undefined)
      return reply
        .status(404)
        .send(s3Error('NoSuchLifecycleConfiguration', 'The lifecycle configuration does not exist'));
    return reply.status(200).send(xml);
  });
}

/** Starts fauxqs on 127.0.0.1 (any free port) with conditional writes; never on other interfaces. */
export async function startLocalFauxqs(
  opts: {
    port?: number;
    /** AWS's permission rules for principals signing with these keys (see lab/s3-permissions.ts). */
    permissions?: AwsPermissions;
  } = {},
): Promise<LocalFauxqs> {
  // Queue URLs name "localhost", as `startFauxqs({ host: 'localhost' })` did.
  const app = buildApp({ logger: false, host: 'localhost' });
  // First: a refused request must reach none of the hooks below.
  if (opts.permissions) addAwsPermissions(app, opts.permissions);
  addBucketLifecycle(app);
  addCompleteMultipartParsing(app);
  addConditionalWrites(app);
  addChecksums(app);
  await app.listen({ port: opts.port ?? 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, port, stop: () => app.close() };
}
