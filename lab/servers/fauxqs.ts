/**
 * The local SQS and S3 server: fauxqs, bound to loopback, with what S3 does and fauxqs 1.9.2 does
 * not: the conditional writes S3 has had since 2024 (`If-None-Match: *` and `If-Match: <etag>` on
 * PutObject and CompleteMultipartUpload) — the transfer's generation guard relies on them, so the
 * local stack must refuse a stale write exactly as S3 does: 412 PreconditionFailed, object
 * untouched — and CompleteMultipartUpload bodies whose parts carry checksums (fauxqs's parser
 * expects PartNumber then ETag only, and would complete an empty object).
 */
import { buildApp } from 'fauxqs';

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

/**
 * Adds S3's conditional-write semantics to a fauxqs app. Writes to one key are serialised (each
 * holds the key from its precondition check until its response is sent), so the check and the
 * write it guards are atomic, as on S3.
 */
export function addConditionalWrites(app: App): void {
  const locks = new Map<string, Promise<void>>();
  const releases = new WeakMap<object, () => void>();

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
    const head = await app.inject({ method: 'HEAD', url: `/${target}` });
    const exists = head.statusCode === 200;
    const current = unquote(header(head.headers.etag));
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

/** Starts fauxqs on 127.0.0.1 (any free port) with conditional writes; never on other interfaces. */
export async function startLocalFauxqs(opts: { port?: number } = {}): Promise<LocalFauxqs> {
  // Queue URLs name "localhost", as `startFauxqs({ host: 'localhost' })` did.
  const app = buildApp({ logger: false, host: 'localhost' });
  addCompleteMultipartParsing(app);
  addConditionalWrites(app);
  await app.listen({ port: opts.port ?? 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, port, stop: () => app.close() };
}
