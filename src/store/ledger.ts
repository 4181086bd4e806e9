import { createHash } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';

export type ClassStatus = 'PENDING' | 'CRAWLING' | 'TRANSFERRING' | 'COMPLETE' | 'FAILED';

/** The class record (`pk=CLASS#<id>, sk=META`). */
export interface ClassRecord {
  classId: string;
  status: ClassStatus;
  title?: string;
  manifestUrl?: string;
  planId?: string;
  totalFiles?: number;
  totalChunks?: number;
  doneChunks?: number;
  doneFiles?: number;
  doneBytes?: number;
  failedChunks?: number;
  failedFiles?: number;
  lastError?: string;
  createdAt?: string;
  updatedAt?: string;
  crawledAt?: string;
  completedAt?: string;
}

/** One file of a chunk as it landed in S3: the proof the report and verification use. */
export interface LandedFile {
  key: string;
  bytes: number;
  etag: string;
}

export interface FailedFile {
  key: string;
  src: string;
  reason: string;
}

export interface FailureRecord {
  classId: string;
  planId: string;
  chunk: number;
  files: FailedFile[];
  at: string;
}

/** One scan page's verdicts, kept so "why was my class not copied?" has an answer. */
export interface ScanPageRecord {
  scanId: string;
  page: string;
  at: string;
  scanned: number;
  enqueued: string[];
  skipped: Array<{ classId: string; reason: string; detail?: string }>;
}

export type ChunkOutcome = 'counted' | 'duplicate' | 'stale';

/** What the pipeline needs of the ledger; every counter change is atomic and idempotent. */
export interface Ledger {
  getClass(classId: string): Promise<ClassRecord | undefined>;
  getClasses(classIds: readonly string[]): Promise<Map<string, ClassRecord>>;
  listClasses(): Promise<ClassRecord[]>;
  /** Records that a class was enqueued; never downgrades an existing record. */
  markPending(classId: string, info: { title?: string; manifestUrl: string }): Promise<void>;
  markCrawling(classId: string, info: { title?: string; manifestUrl: string }): Promise<void>;
  /**
   * Records a crawl's plan. The same plan keeps its counters (a re-crawl counts nothing twice);
   * a new plan resets them. Returns the chunks of this plan already done.
   */
  recordPlan(classId: string, plan: { planId: string; totalFiles: number; totalChunks: number }): Promise<Set<number>>;
  isChunkDone(classId: string, planId: string, chunk: number): Promise<boolean>;
  /** Records a chunk as done and adds it to the class counters in one transaction. */
  completeChunk(classId: string, planId: string, chunk: number, files: readonly LandedFile[]): Promise<ChunkOutcome>;
  /** Marks the class COMPLETE if every chunk of its plan is done; true only for the one call that did. */
  tryComplete(classId: string, planId: string): Promise<boolean>;
  /** Records files that exhausted their retries and marks the class FAILED. */
  recordFailure(classId: string, planId: string, chunk: number, files: readonly FailedFile[]): Promise<void>;
  /** Marks a class FAILED for a reason that is not a file (e.g. its playlist cannot be crawled). */
  failClass(classId: string, reason: string): Promise<void>;
  listFailures(classId: string): Promise<FailureRecord[]>;
  listChunks(classId: string, planId: string): Promise<Array<{ chunk: number; files: LandedFile[] }>>;
  recordScanPage(page: ScanPageRecord): Promise<void>;
  getScan(scanId: string): Promise<ScanPageRecord[]>;
}

const META = 'META';
/** Index of class records only; its partition key is sharded (see serverless.yml). */
const CLASS_INDEX = 'classes';
const CLASS_SHARDS = 8;
/** The index keys every class record carries, so `listClasses` never scans chunk items. */
const listKeys = (classId: string) => ({ listPk: `CLASSES#${createHash('md5').update(classId).digest()[0]! % CLASS_SHARDS}`, listSk: classId });
const pk = (classId: string) => `CLASS#${classId}`;
const chunkSk = (planId: string, chunk: number) => `CHUNK#${planId}#${String(chunk).padStart(6, '0')}`;
const failSk = (planId: string, chunk: number) => `FAIL#${planId}#${String(chunk).padStart(6, '0')}`;
const now = () => new Date().toISOString();

/** Runs a conditional write: false when its condition did not hold (another delivery got there first). */
async function conditional(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (err) {
    if ((err as Error).name === 'ConditionalCheckFailedException') return false;
    throw err;
  }
}

function toRecord(item: Record<string, unknown>): ClassRecord {
  const { pk: _pk, sk: _sk, listPk: _lp, listSk: _ls, ...rest } = item;
  return rest as unknown as ClassRecord;
}

/** DynamoDB-backed Ledger on the single table of serverless.yml. */
export function createLedger(ddb: DynamoDBDocumentClient, table: string): Ledger {
  const ledger: Ledger = {
    async getClass(classId) {
      const res = await ddb.send(new GetCommand({ TableName: table, Key: { pk: pk(classId), sk: META }, ConsistentRead: true }));
      return res.Item ? toRecord(res.Item) : undefined;
    },

    async getClasses(classIds) {
      const out = new Map<string, ClassRecord>();
      const unique = [...new Set(classIds)];
      for (let i = 0; i < unique.length; i += 100) {
        let keys: Array<Record<string, unknown>> | undefined = unique.slice(i, i + 100).map((id) => ({ pk: pk(id), sk: META }));
        for (let attempt = 0; keys && keys.length > 0; attempt++) {
          const res: { Responses?: Record<string, Array<Record<string, unknown>>>; UnprocessedKeys?: Record<string, { Keys?: Array<Record<string, unknown>> }> } = await ddb.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }));
          for (const item of res.Responses?.[table] ?? []) {
            const r = toRecord(item);
            out.set(r.classId, r);
          }
          keys = res.UnprocessedKeys?.[table]?.Keys;
          if (attempt > 8 && keys?.length) throw new Error(`DynamoDB left ${keys.length} keys unprocessed`);
        }
      }
      return out;
    },

    async listClasses() {
      const shards = await Promise.all(
        Array.from({ length: CLASS_SHARDS }, async (_, n) => {
          const out: ClassRecord[] = [];
          let start: Record<string, unknown> | undefined;
          do {
            const res = await ddb.send(
              new QueryCommand({
                TableName: table,
                IndexName: CLASS_INDEX,
                KeyConditionExpression: 'listPk = :shard',
                ExpressionAttributeValues: { ':shard': `CLASSES#${n}` },
                ExclusiveStartKey: start,
              }),
            );
            for (const item of res.Items ?? []) out.push(toRecord(item));
            start = res.LastEvaluatedKey;
          } while (start);
          return out;
        }),
      );
      return shards.flat().sort((a, b) => a.classId.localeCompare(b.classId));
    },

    async markPending(classId, info) {
      const at = now();
      await conditional(
        ddb.send(
          new PutCommand({
            TableName: table,
            Item: { pk: pk(classId), sk: META, ...listKeys(classId), classId, status: 'PENDING', title: info.title, manifestUrl: info.manifestUrl, createdAt: at, updatedAt: at },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
    },

    async markCrawling(classId, info) {
      const at = now();
      await ddb.send(
        new UpdateCommand({
          TableName: table,
          Key: { pk: pk(classId), sk: META },
          UpdateExpression:
            'SET classId = :id, listPk = :lp, listSk = :id, #s = :crawling, title = :title, manifestUrl = :url, updatedAt = :at, createdAt = if_not_exists(createdAt, :at) REMOVE lastError',
          // A forced crawl of a COMPLETE class shows CRAWLING too; its new plan resets the counters.
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':id': classId, ':lp': listKeys(classId).listPk, ':crawling': 'CRAWLING', ':title': info.title ?? classId, ':url': info.manifestUrl, ':at': at },
        }),
      );
    },

    async recordPlan(classId, plan) {
      const at = now();
      // A new plan (first crawl, or the files changed, or a forced copy) starts from zero.
      const fresh = await conditional(
        ddb.send(
          new UpdateCommand({
            TableName: table,
            Key: { pk: pk(classId), sk: META },
            UpdateExpression:
              'SET planId = :p, totalFiles = :tf, totalChunks = :tc, doneChunks = :z, doneFiles = :z, doneBytes = :z, failedChunks = :z, failedFiles = :z, #s = :transferring, crawledAt = :at, updatedAt = :at REMOVE completedAt, lastError',
            ConditionExpression: 'attribute_not_exists(planId) OR planId <> :p',
            ExpressionAttributeNames: { '#s': 'status' },
            ExpressionAttributeValues: { ':p': plan.planId, ':tf': plan.totalFiles, ':tc': plan.totalChunks, ':z': 0, ':transferring': 'TRANSFERRING', ':at': at },
          }),
        ),
      );
      if (fresh) return new Set();
      // Same plan as before: keep the counters; the status says whether chunks failed on it.
      const setStatus = (status: ClassStatus, failedTest: string) =>
        conditional(
          ddb.send(
            new UpdateCommand({
              TableName: table,
              Key: { pk: pk(classId), sk: META },
              UpdateExpression: 'SET #s = :status, crawledAt = :at, updatedAt = :at',
              ConditionExpression: `planId = :p AND #s <> :complete AND ${failedTest}`,
              ExpressionAttributeNames: { '#s': 'status' },
              ExpressionAttributeValues: { ':status': status, ':p': plan.planId, ':complete': 'COMPLETE', ':at': at, ':z': 0 },
            }),
          ),
        );
      if (!(await setStatus('TRANSFERRING', '(attribute_not_exists(failedChunks) OR failedChunks <= :z)'))) {
        await setStatus('FAILED', 'failedChunks > :z');
      }
      const done = new Set<number>();
      for (const c of await ledger.listChunks(classId, plan.planId)) done.add(c.chunk);
      return done;
    },

    async isChunkDone(classId, planId, chunk) {
      const res = await ddb.send(
        new GetCommand({ TableName: table, Key: { pk: pk(classId), sk: chunkSk(planId, chunk) }, ProjectionExpression: 'pk', ConsistentRead: true }),
      );
      return Boolean(res.Item);
    },

    async completeChunk(classId, planId, chunk, files) {
      const at = now();
      const bytes = files.reduce((n, f) => n + f.bytes, 0);
      const failure = await ddb.send(
        new GetCommand({ TableName: table, Key: { pk: pk(classId), sk: failSk(planId, chunk) }, ConsistentRead: true }),
      );
      const failedCount = Array.isArray(failure.Item?.files) ? failure.Item.files.length : 0;
      const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [
        {
          Put: {
            TableName: table,
            Item: { pk: pk(classId), sk: chunkSk(planId, chunk), files: files.length, bytes, at, landed: files.map((f) => ({ k: f.key, b: f.bytes, e: f.etag })) },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Update: {
            TableName: table,
            Key: { pk: pk(classId), sk: META },
            UpdateExpression: failure.Item
              ? 'ADD doneChunks :one, doneFiles :n, doneBytes :b, failedChunks :minusOne, failedFiles :minusFailed SET updatedAt = :at'
              : 'ADD doneChunks :one, doneFiles :n, doneBytes :b SET updatedAt = :at',
            ConditionExpression: 'planId = :p',
            ExpressionAttributeValues: {
              ':one': 1,
              ':n': files.length,
              ':b': bytes,
              ':p': planId,
              ':at': at,
              ...(failure.Item ? { ':minusOne': -1, ':minusFailed': -failedCount } : {}),
            },
          },
        },
      ];
      if (failure.Item) {
        // The chunk failed before and was redriven: its failure is resolved in the same step.
        items.push({ Delete: { TableName: table, Key: { pk: pk(classId), sk: failSk(planId, chunk) }, ConditionExpression: 'attribute_exists(pk)' } });
      }
      try {
        await ddb.send(new TransactWriteCommand({ TransactItems: items }));
      } catch (err) {
        if (err instanceof TransactionCanceledException || (err as Error).name === 'TransactionCanceledException') {
          const reasons = (err as TransactionCanceledException).CancellationReasons ?? [];
          if (reasons[0]?.Code === 'ConditionalCheckFailed') return 'duplicate';
          if (reasons[1]?.Code === 'ConditionalCheckFailed') return 'stale';
          if (reasons[2]?.Code === 'ConditionalCheckFailed') return ledger.completeChunk(classId, planId, chunk, files);
        }
        throw err;
      }
      if (failure.Item) {
        // No failed chunk left: the class is transferring again (tryComplete may finish it).
        await conditional(
          ddb.send(
            new UpdateCommand({
              TableName: table,
              Key: { pk: pk(classId), sk: META },
              UpdateExpression: 'SET #s = :transferring, updatedAt = :at REMOVE lastError',
              ConditionExpression: 'planId = :p AND #s = :failed AND failedChunks <= :z',
              ExpressionAttributeNames: { '#s': 'status' },
              ExpressionAttributeValues: { ':transferring': 'TRANSFERRING', ':failed': 'FAILED', ':p': planId, ':z': 0, ':at': at },
            }),
          ),
        );
      }
      return 'counted';
    },

    tryComplete(classId, planId) {
      return conditional(
        ddb.send(
          new UpdateCommand({
            TableName: table,
            Key: { pk: pk(classId), sk: META },
            UpdateExpression: 'SET #s = :complete, completedAt = :at, updatedAt = :at',
            ConditionExpression: 'planId = :p AND doneChunks = totalChunks AND #s <> :complete',
            ExpressionAttributeNames: { '#s': 'status' },
            ExpressionAttributeValues: { ':complete': 'COMPLETE', ':p': planId, ':at': now() },
          }),
        ),
      );
    },

    async recordFailure(classId, planId, chunk, files) {
      const at = now();
      const reason = files[0]?.reason ?? 'unknown';
      try {
        await ddb.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: table,
                  Item: { pk: pk(classId), sk: failSk(planId, chunk), classId, planId, chunk, files, at },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              {
                Update: {
                  TableName: table,
                  Key: { pk: pk(classId), sk: META },
                  UpdateExpression: 'ADD failedChunks :one, failedFiles :n SET #s = :failed, lastError = :reason, updatedAt = :at',
                  ConditionExpression: 'planId = :p',
                  ExpressionAttributeNames: { '#s': 'status' },
                  ExpressionAttributeValues: { ':one': 1, ':n': files.length, ':failed': 'FAILED', ':reason': reason.slice(0, 1000), ':p': planId, ':at': at },
                },
              },
            ],
          }),
        );
      } catch (err) {
        // Already recorded by an earlier final attempt, or the plan moved on: nothing to add.
        if ((err as Error).name === 'TransactionCanceledException') return;
        throw err;
      }
    },

    async failClass(classId, reason) {
      await ddb.send(
        new UpdateCommand({
          TableName: table,
          Key: { pk: pk(classId), sk: META },
          UpdateExpression: 'SET classId = :id, listPk = :lp, listSk = :id, #s = :failed, lastError = :reason, updatedAt = :at, createdAt = if_not_exists(createdAt, :at)',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':id': classId, ':lp': listKeys(classId).listPk, ':failed': 'FAILED', ':reason': reason.slice(0, 1000), ':at': now() },
        }),
      );
    },

    async listFailures(classId) {
      const items = await queryAll(ddb, table, pk(classId), 'FAIL#');
      return items.map((i) => ({ classId, planId: String(i.planId), chunk: Number(i.chunk), files: i.files as FailedFile[], at: String(i.at) }));
    },

    async listChunks(classId, planId) {
      const items = await queryAll(ddb, table, pk(classId), `CHUNK#${planId}#`);
      return items.map((i) => ({
        chunk: Number(String(i.sk).split('#')[2]),
        files: ((i.landed as Array<{ k: string; b: number; e: string }>) ?? []).map((f) => ({ key: f.k, bytes: f.b, etag: f.e })),
      }));
    },

    async recordScanPage(page) {
      // Kept for 30 days: enough to answer questions about recent scans without growing forever.
      const expiresAt = Math.floor(Date.now() / 1000) + 30 * 24 * 3600;
      await ddb.send(
        new PutCommand({
          TableName: table,
          Item: { pk: `SCAN#${page.scanId}`, sk: `PAGE#${page.page}`, ...page, skipped: page.skipped.slice(0, 2000), enqueued: page.enqueued.slice(0, 2000), expiresAt },
        }),
      );
    },

    async getScan(scanId) {
      const items = await queryAll(ddb, table, `SCAN#${scanId}`, 'PAGE#');
      return items.map((i) => ({
        scanId,
        page: String(i.page),
        at: String(i.at),
        scanned: Number(i.scanned),
        enqueued: (i.enqueued as string[]) ?? [],
        skipped: (i.skipped as ScanPageRecord['skipped']) ?? [],
      }));
    },
  };
  return ledger;
}

async function queryAll(ddb: DynamoDBDocumentClient, table: string, partition: string, prefix: string): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  let start: Record<string, unknown> | undefined;
  do {
    const res = await ddb.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': partition, ':prefix': prefix },
        ExclusiveStartKey: start,
        ConsistentRead: true,
      }),
    );
    out.push(...(res.Items ?? []));
    start = res.LastEvaluatedKey;
  } while (start);
  return out;
}
