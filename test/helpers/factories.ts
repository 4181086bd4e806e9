// Small in-memory stand-ins and builders for unit tests of one branch at a time. The proof that the
// pipeline works is in the integration, e2e and fault suites, against real local servers.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { loadConfig, type Config } from '../../src/config.ts';
import type { CrawlJob, ScanRequest, TransferJob } from '../../src/domain/jobs/schemas.ts';
import * as envelope from '../../src/domain/jobs/envelopes.ts';
import { createLogger } from '../../src/log.ts';
import { OriginError, type Origin } from '../../src/domain/ports/origin.ts';
import { createPipelineEvents, type PipelineEvents } from '../../src/pipeline/events.ts';
import type { ClassRecord } from '../../src/domain/ledger/records.ts';
import type { Ledger } from '../../src/domain/ports/ledger.ts';
import { memoryLedger } from '../../src/adapters/memory/ledger.ts';
import type { CatalogDocument } from '../../src/domain/ports/catalog.ts';
import { createMemoryCatalog, type MemoryCatalog } from '../../src/adapters/memory/catalog.ts';
import { createMemoryObjectStore, type MemoryObjectStore } from '../../src/adapters/memory/object-store.ts';
import { createMemoryJobQueue, type MemoryJobQueue } from '../../src/adapters/memory/job-queue.ts';

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

/** A bucket in memory: the memory adapter, which keeps the object store's contract as S3 does. */
export function memoryStore(): MemoryObjectStore {
  return createMemoryObjectStore({ bucket: 'unit', partSizeBytes: testConfig().transfer.partSizeBytes });
}

/** Queues in memory that record what was sent, by queue, with its delay. */
export function recordingQueue(): MemoryJobQueue {
  return createMemoryJobQueue();
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

/** A catalog over fixed documents, paged by kind of id as the MongoDB catalog pages them. */
export function memoryCatalog(docs: CatalogDocument[]): MemoryCatalog {
  return createMemoryCatalog(docs);
}

/** A broadcast, ended, non-test catalog document for a class on HOST. */
export function readyDocument(id: string, fields: Record<string, unknown> = {}): CatalogDocument {
  return {
    id,
    idKind: 'string',
    fields: {
      title: `Class ${id}`,
      status: 'broadcast',
      isTest: false,
      manifestUrl: `http://${HOST}/${id}/master.m3u8`,
      endedAt: new Date('2026-01-01T00:00:00Z'),
      ...fields,
    },
  };
}

export type { PipelineEvents };
export { createPipelineEvents };
