/**
 * The request model of one copy, pure: which AWS requests the pipeline makes per file, per chunk,
 * per class and per catalog page, as the code does today. It is the single place to update when
 * the pipeline's request pattern changes (the ledger's especially): every figure below names the
 * call in src/ that makes it.
 */
import type { FileKind } from '../hls/types.ts';
import { crawlJob, transferJob } from '../domain/jobs/envelopes.ts';

/** SQS bills each 64 KiB of a request's payload as one request. */
export const SQS_BILLING_CHUNK_BYTES = 64 * 1024;
/** SendMessageBatch: at most 10 messages and 256 KiB per call (src/adapters/sqs/queue.ts batches the same way). */
const SQS_BATCH_MESSAGES = 10;
const SQS_BATCH_BYTES = 256 * 1024;
/** DynamoDB bills a write per 1 KB of item, a strongly consistent read per 4 KB; transactions twice. */
const DDB_WRITE_UNIT_BYTES = 1024;
const DDB_READ_UNIT_BYTES = 4096;
/** BatchGetItem reads at most 100 keys per call (the scanner's `getClasses`). */
const DDB_BATCH_GET_KEYS = 100;
/** A plan id is 16 hex digits (src/domain/planning/chunking.ts `planIdOf`). */
const PLAN_ID = '0'.repeat(16);
const ISO_TIME = '2026-01-01T00:00:00.000Z';

/** S3 requests to store one file of `bytes`: one PutObject, or Create + parts + Complete (lib-storage's Upload). */
export function s3RequestsForFile(bytes: number, partSizeBytes: number): number {
  if (bytes <= partSizeBytes) return 1;
  return 2 + Math.ceil(bytes / partSizeBytes);
}

/** Billed SQS requests for one call carrying `payloadBytes` (at least 1). */
export function sqsBilled(payloadBytes: number): number {
  return Math.max(1, Math.ceil(payloadBytes / SQS_BILLING_CHUNK_BYTES));
}

/** Billed requests for sending messages of these sizes the way `JobQueue.sendAll` batches them. */
export function sqsSendBilled(messageBytes: readonly number[]): { calls: number; billed: number } {
  let calls = 0;
  let billed = 0;
  let count = 0;
  let bytes = 0;
  const flush = () => {
    if (count === 0) return;
    calls++;
    billed += sqsBilled(bytes);
    count = 0;
    bytes = 0;
  };
  for (const size of messageBytes) {
    if (count === SQS_BATCH_MESSAGES || (count > 0 && bytes + size > SQS_BATCH_BYTES)) flush();
    count++;
    bytes += size;
  }
  flush();
  return { calls, billed };
}

/**
 * A DynamoDB item's billed size: attribute names plus values (strings as UTF-8, numbers about one
 * byte per two digits plus one, lists and maps 3 bytes plus 1 per element), as the DynamoDB
 * developer guide's "item sizes" section describes.
 */
export function dynamoItemBytes(item: Readonly<Record<string, unknown>>): number {
  let total = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    total += Buffer.byteLength(name, 'utf8') + valueBytes(value);
  }
  return total;
}

function valueBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number')
    return Math.ceil(String(Math.abs(value)).replace(/[.-]/g, '').replace(/^0+/, '').length / 2) + 1;
  if (typeof value === 'boolean' || value === null) return 1;
  if (Array.isArray(value)) return 3 + value.reduce((n: number, v) => n + 1 + valueBytes(v), 0);
  if (typeof value === 'object')
    return (
      3 +
      Object.entries(value as Record<string, unknown>).reduce(
        (n, [k, v]) => n + 1 + Buffer.byteLength(k, 'utf8') + valueBytes(v),
        0,
      )
    );
  return 0;
}

const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / DDB_WRITE_UNIT_BYTES));
const readUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / DDB_READ_UNIT_BYTES));

/** DynamoDB usage: API calls and the read and write request units they consume. */
export interface DynamoUsage {
  requests: number;
  readUnits: number;
  writeUnits: number;
}

/** What one class costs in requests, beyond its files' S3 requests. */
export interface ClassRequests {
  chunks: number;
  /** Bytes of its transfer jobs, as sent to the transfer queue. */
  transferMessageBytes: number;
  /** Billed SQS requests of this class alone: its crawl job's send/receive/delete and its transfer jobs' sends. */
  sqs: { crawl: number; transferSend: number };
  dynamodb: DynamoUsage;
}

/** The settings that shape a class's requests, from config.ts. */
export interface RequestShape {
  /** TRANSFER_CHUNK_FILES. */
  chunkFiles: number;
}

/** One file as the crawler sends it in a transfer job (playlists carry their enumerated length and digest). */
export interface JobFile {
  src: string;
  key: string;
  kind: FileKind;
  bytes?: number | undefined;
  sha256?: string | undefined;
}

/** The class record (`pk=CLASS#<id>, sk=META`) as src/adapters/dynamodb/ledger.ts holds it while chunks are counted. */
function metaItem(classId: string, title: string, manifestUrl: string): Record<string, unknown> {
  return {
    pk: `CLASS#${classId}`,
    sk: 'META',
    listPk: 'CLASSES#0',
    listSk: classId,
    classId,
    status: 'TRANSFERRING',
    title,
    manifestUrl,
    gen: 1,
    planId: PLAN_ID,
    totalFiles: 99_999,
    totalChunks: 9_999,
    doneChunks: 9_999,
    doneFiles: 99_999,
    doneBytes: 999_999_999_999,
    failed: {},
    createdAt: ISO_TIME,
    updatedAt: ISO_TIME,
    crawledAt: ISO_TIME,
  };
}

/**
 * Requests for one class of the pipeline as built today (scanner, crawler, transfer; ledger calls as
 * in src/adapters/dynamodb/ledger.ts, where every class-record write is the lifecycle's decision: a consistent
 * read, then a conditional write), given its files in key order:
 *
 * - scanner, per class: `markPending` (one conditional UpdateItem: it decides as if the class were new,
 *   and its guard catches the rest; the class item is also written to the `classes` index, which
 *   projects it);
 * - crawler: `getClass` (GetItem), `markCrawling` and `recordPlan` (GetItem + UpdateItem each, + index),
 *   one crawl message (received and deleted alone: batch size 1), transfer jobs sent 10 per call;
 * - transfer, per chunk: `viewChunk` (one BatchGetItem: the class item and the chunk item, which does
 *   not exist yet), then `countChunk` (one TransactWriteItems: the chunk item and the class counter at
 *   the transactional rate, plus the index copy of the class item; the last chunk completes the class
 *   in the same write).
 *
 * Contention retries (a conditional write overtaken by another chunk's) are not counted.
 */
export function classRequests(
  input: { classId: string; title: string; manifestUrl: string; files: readonly JobFile[]; etagBytes: number },
  shape: RequestShape,
): ClassRequests {
  const { classId, files } = input;
  const meta = dynamoItemBytes(metaItem(classId, input.title, input.manifestUrl));
  const metaW = writeUnits(meta);
  const metaR = readUnits(meta);
  const messages: number[] = [];
  let chunkWrites = 0;
  for (let c = 0, i = 0; i < files.length; c++, i += shape.chunkFiles) {
    const chunk = files.slice(i, i + shape.chunkFiles);
    const jobFiles = chunk.map((f) => ({
      src: f.src,
      key: f.key,
      kind: f.kind,
      ...(f.sha256 ? { sha256: f.sha256, bytes: f.bytes } : {}),
    }));
    messages.push(
      Buffer.byteLength(
        JSON.stringify(transferJob({ classId, gen: 1, planId: PLAN_ID, chunk: c, files: jobFiles })),
        'utf8',
      ),
    );
    const chunkItem = {
      pk: `CLASS#${classId}`,
      sk: `CHUNK#000001#${String(c).padStart(6, '0')}`,
      gen: 1,
      chunk: c,
      files: chunk.length,
      bytes: 999_999_999,
      at: ISO_TIME,
      landed: chunk.map((f) => ({ k: f.key, b: 9_999_999, e: 'e'.repeat(input.etagBytes) })),
    };
    chunkWrites += 2 * writeUnits(dynamoItemBytes(chunkItem));
  }
  const chunks = messages.length;
  const send = sqsSendBilled(messages);
  // The crawl job: one message sent in the scanner's batch of 10 (a tenth of a call), received and deleted alone.
  const crawlMessage = Buffer.byteLength(
    JSON.stringify(
      crawlJob({
        classId,
        manifestUrl: input.manifestUrl,
        title: input.title,
        requestedAt: ISO_TIME,
        endedAt: ISO_TIME,
      }),
    ),
    'utf8',
  );
  const dynamodb: DynamoUsage = {
    // markPending 1, getClass 1, markCrawling 2, recordPlan 2; then a batch read and a transaction per chunk.
    requests: 6 + chunks * 2,
    // Three reads of the class item; per chunk the class item and a chunk item not written yet (a miss costs a unit).
    readUnits: 3 * metaR + chunks * (metaR + 1),
    // Three class-item writes, each also to the index; per chunk the transaction (both items twice) and the index copy.
    writeUnits: 3 * 2 * metaW + chunkWrites + chunks * (2 * metaW + metaW),
  };
  return {
    chunks,
    transferMessageBytes: messages.reduce((a, b) => a + b, 0),
    sqs: {
      crawl: sqsBilled(crawlMessage) / SQS_BATCH_MESSAGES + sqsBilled(crawlMessage) + 1,
      transferSend: send.billed,
    },
    dynamodb,
  };
}

/**
 * The transfer queue's deliveries for the whole copy: Lambda's event source mapping fills batches of
 * `batchSize` chunks from every class alike, so invocations are the library's chunks over the batch
 * size (a floor: a thin queue gives smaller batches), each one ReceiveMessage billed by its payload
 * (the average job's size) and one DeleteMessageBatch.
 */
export function transferDeliveries(
  chunks: number,
  messageBytes: number,
  batchSize: number,
): { invocations: number; receiveBilled: number; deletes: number } {
  if (chunks <= 0) return { invocations: 0, receiveBilled: 0, deletes: 0 };
  const invocations = Math.ceil(chunks / batchSize);
  const perBatch = sqsBilled((messageBytes / chunks) * Math.min(batchSize, chunks));
  return { invocations, receiveBilled: invocations * perBatch, deletes: invocations };
}

/** Requests the scanner makes per catalog page, whatever the classes: the page's send/receive/delete, its record and its batch read. */
export interface ScanRequests {
  pages: number;
  sqs: number;
  dynamodb: DynamoUsage;
  invocations: number;
}

/**
 * The scan of a catalog of `documents` documents in pages of `pageSize` (SCAN_PAGE_SIZE), `validClasses`
 * of them ready to copy: each page is one scan message (sent by the previous page, received, deleted),
 * its claim (a conditional PutItem, so a duplicate continuation does nothing), a BatchGetItem of its
 * ready classes per 100, and one scan-page record (PutItem, holding up to 2,000 class ids). The
 * ObjectId phase ends by sending the string-id phase: one more page.
 */
export function scanRequests(documents: number, validClasses: number, pageSize: number): ScanRequests {
  const pages = Math.ceil(documents / pageSize) + 1;
  const readyPerPage = pages > 0 ? validClasses / pages : 0;
  // The page record: ids of up to 2,000 enqueued and skipped classes, ~26 bytes each with overhead.
  const recordBytes = 200 + Math.min(2000, Math.ceil(documents / Math.max(1, pages))) * 26;
  const batchGets = pages * Math.ceil(readyPerPage / DDB_BATCH_GET_KEYS);
  return {
    pages,
    invocations: pages,
    sqs: 3 * pages,
    dynamodb: {
      requests: 2 * pages + batchGets,
      // One strongly consistent read unit per class looked up (items under 4 KB).
      readUnits: validClasses,
      writeUnits: pages * (1 + writeUnits(recordBytes)),
    },
  };
}

/**
 * Empty long polls while the copy runs: Lambda keeps at least 5 pollers on each of the 3 queues, each
 * a 20-second ReceiveMessage (AWS: "Lambda uses long polling ... scales back to five").
 */
export function idlePollRequests(wallSeconds: number): number {
  return Math.ceil(3 * 5 * (wallSeconds / 20));
}
