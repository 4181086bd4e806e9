// Small in-memory stand-ins and builders for unit tests of one branch at a time. The proof that the
// pipeline works is in the integration, e2e and fault suites, against real local servers.
import { crc32Base64 } from '../../src/util/crc.ts';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { loadConfig, type Config } from '../../src/config.ts';
import type { CrawlJob, ScanRequest, TransferJob } from '../../src/domain/jobs/schemas.ts';
import * as envelope from '../../src/domain/jobs/envelopes.ts';
import { createLogger } from '../../src/log.ts';
import { OriginError, type Origin } from '../../src/adapters/origin/client.ts';
import { createPipelineEvents, type PipelineEvents } from '../../src/pipeline/events.ts';
import type { Catalog, CatalogDocument } from '../../src/adapters/mongodb/catalog.ts';
import type { ClassRecord } from '../../src/domain/ledger/records.ts';
import type { Ledger } from '../../src/domain/ports/ledger.ts';
import { memoryLedger } from '../../src/adapters/memory/ledger.ts';
import type { ObjectStore, UploadResult } from '../../src/adapters/s3/objects.ts';
import type { JobQueue, QueueName } from '../../src/adapters/sqs/queue.ts';

export const HOST = 'cdn.test';
export const quietLog = () => createLogger({}, 'silent');

/** A configuration for unit tests: one allowed host, small chunks, quick retries. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    AWS_REGION: 'us-east-1',
    ORIGIN_ALLOWED_HOSTS: HOST,
    TRANSFER_CHUNK_FILES: '2',
    TRANSFER_RETRY_ATTEMPTS: '1',
    FLANTS_STAGE: 'unit',
    ...env,
  });
}

/** An origin that serves fixed bodies by URL (404 for anything else). */
export function memoryOrigin(
  bodies: Record<string, string | Buffer>,
): Pick<Origin, 'openStream' | 'fetchText' | 'head'> & { requests: string[] } {
  const requests: string[] = [];
  const find = (url: string) => {
    requests.push(url);
    const body = bodies[url];
    if (body === undefined)
      throw new OriginError('ORIGIN_HTTP_STATUS', `origin answered HTTP 404 for ${url}`, {
        url,
        status: 404,
        retryable: false,
      });
    return Buffer.from(body);
  };
  return {
    requests,
    openStream: (url) => {
      const b = find(url);
      return Promise.resolve({ url, body: Readable.from([b]), contentLength: b.length, contentType: undefined });
    },
    head: (url) => {
      const b = find(url);
      return Promise.resolve({ url, contentLength: b.length });
    },
    fetchText: (url) => {
      const b = find(url);
      return Promise.resolve({
        url,
        body: b.toString('utf8'),
        contentType: undefined,
        bytes: b.length,
        sha256: createHash('sha256').update(b).digest('hex'),
      });
    },
  };
}

/** A bucket in memory that reports a FULL_OBJECT CRC32, as S3 does. */
export function memoryStore(): ObjectStore & { objects: Map<string, Buffer> } {
  const objects = new Map<string, Buffer>();
  return {
    bucket: 'unit',
    objects,
    reportsChecksums: () => true,
    async upload(key, body): Promise<UploadResult> {
      const chunks: Buffer[] = [];
      for await (const c of body) chunks.push(c);
      const data = Buffer.concat(chunks);
      objects.set(key, data);
      return {
        etag: 'unit',
        checksum: { algorithm: 'CRC32', value: crc32Base64(crc32(data)), type: 'FULL_OBJECT' },
        sse: undefined,
        parts: 1,
        extraRequests: 0,
        sent: { crc32: crc32(data), partCrc32s: [crc32(data)] },
        written: true,
      };
    },
    close: () => Promise.resolve(),
    head: (key) =>
      Promise.resolve(
        objects.has(key)
          ? { key, size: objects.get(key)!.length, etag: 'unit', generation: undefined, crc32: undefined, metadata: {} }
          : undefined,
      ),
    get: (key) => Promise.resolve(Readable.from([objects.get(key) ?? Buffer.alloc(0)])),
    list: async function* (prefix) {
      for (const [key, b] of objects) if (key.startsWith(prefix)) yield { key, size: b.length, etag: 'unit' };
    },
  };
}

/** A queue that records what was sent, by queue, with its delay. */
export function recordingQueue(): JobQueue & {
  sent: Array<{ name: QueueName; body: unknown; delaySeconds?: number }>;
} {
  const sent: Array<{ name: QueueName; body: unknown; delaySeconds?: number }> = [];
  return {
    sent,
    url: (n) => Promise.resolve(n),
    sendAll: (name, bodies, opts) => {
      for (const body of bodies)
        sent.push({ name, body, ...(opts?.delaySeconds ? { delaySeconds: opts.delaySeconds } : {}) });
      return Promise.resolve();
    },
    sendRaw: (name, body) => {
      sent.push({ name, body });
      return Promise.resolve();
    },
    depth: () => Promise.resolve({ visible: 0, inFlight: 0, delayed: 0 }),
    extendVisibility: () => Promise.resolve(),
    visibilityTimeout: () => Promise.resolve(30),
  };
}

/**
 * A ledger in memory holding class c1 planned as generation 1 of plan aaaa0000 (`chunks` chunks), what
 * `transferJob` and `classRecord` describe: for tests that need a ledger that behaves, not a given
 * answer. It is held to the DynamoDB adapter's contract (test/contracts/ledger.contract.ts).
 */
export async function plannedLedger(chunks = 1): Promise<ReturnType<typeof memoryLedger>> {
  const ledger = memoryLedger();
  await ledger.markCrawling('c1', { manifestUrl: `http://${HOST}/c1/master.m3u8`, title: 'Lecture' });
  await ledger.recordPlan('c1', { planId: 'aaaa0000', totalFiles: 2 * chunks, totalChunks: chunks });
  return ledger;
}

/**
 * A ledger with only the methods a test gives; any other call fails the test, naming the method. For
 * a test that injects a failure or a given outcome; `plannedLedger` when plausible behaviour will do.
 */
export function fakeLedger(methods: Partial<Ledger>): Ledger {
  return new Proxy(methods as Ledger, {
    get(target, prop: string) {
      if (prop in target) return target[prop as keyof Ledger];
      return () => Promise.reject(new Error(`unexpected ledger call: ${prop}`));
    },
  });
}

/** A class record as the ledger returns it, planned in generation `gen`. */
export function classRecord(fields: Partial<ClassRecord> = {}): ClassRecord {
  return {
    classId: 'c1',
    status: 'TRANSFERRING',
    gen: 1,
    planId: 'aaaa0000',
    totalFiles: 2,
    totalChunks: 1,
    doneChunks: 0,
    failedChunkIds: [],
    manifestUrl: `http://${HOST}/c1/master.m3u8`,
    title: 'Lecture',
    ...fields,
  };
}

/** A transfer job for chunk 0 of generation 1 with the given files (paths on HOST). */
export function transferJob(paths: string[], fields: Partial<TransferJob> = {}): TransferJob {
  return {
    ...envelope.transferJob({
      classId: 'c1',
      gen: 1,
      planId: 'aaaa0000',
      chunk: 0,
      files: paths.map((p) => ({
        src: `http://${HOST}${p}`,
        key: `c1/${HOST}${p}`,
        kind: p.endsWith('.m3u8') ? ('playlist' as const) : ('segment' as const),
      })),
    }),
    ...fields,
  };
}

/** A crawl job for class c1 whose master is `path` on HOST. */
export function crawlJob(path = '/c1/master.m3u8', fields: Partial<CrawlJob> = {}): CrawlJob {
  return {
    ...envelope.crawlJob({ classId: 'c1', manifestUrl: `http://${HOST}${path}`, title: 'Lecture' }),
    ...fields,
  };
}

/** A catalog scan request. */
export function catalogScan(fields: Partial<Extract<ScanRequest, { mode: 'catalog' }>> = {}): ScanRequest {
  return { ...envelope.scanRequest({ mode: 'catalog' }), ...fields };
}

/** A catalog over fixed documents (string ids, in order). */
export function memoryCatalog(docs: CatalogDocument[]): Catalog {
  const sorted = [...docs].sort((a, b) => (String(a._id) < String(b._id) ? -1 : 1));
  return {
    page: (phase, after, limit) =>
      Promise.resolve(
        phase === 'string' ? sorted.filter((d) => after === undefined || String(d._id) > after).slice(0, limit) : [],
      ),
    get: (id) => Promise.resolve(sorted.find((d) => String(d._id) === id)),
    changedPage: () => Promise.resolve([]),
    close: () => Promise.resolve(),
  };
}

/** A broadcast, ended, non-test catalog document for a class on HOST. */
export function readyDocument(id: string, fields: Partial<CatalogDocument> = {}): CatalogDocument {
  return {
    _id: id,
    title: `Class ${id}`,
    status: 'broadcast',
    isTest: false,
    manifestUrl: `http://${HOST}/${id}/master.m3u8`,
    endedAt: new Date('2026-01-01T00:00:00Z'),
    ...fields,
  };
}

export type { PipelineEvents };
export { createPipelineEvents };
