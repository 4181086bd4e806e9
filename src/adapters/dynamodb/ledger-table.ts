/**
 * The ledger's table as its modules share it: the reads every part needs, and `transition`, the one
 * loop that turns a lifecycle decision into a conditional write (decide from the stored record, write
 * with the decision's guard as the condition, decide again when another writer overtook it).
 */
import {
  BatchGetCommand,
  GetCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { decide, type ClassEvent, type Decision, type SkipWhy } from '../../domain/lifecycle/class-lifecycle.ts';
import type { ClassRecord } from '../../domain/ledger/records.ts';
import { withRetry } from '../../util/retry.ts';
import {
  isConditionFailed,
  isRetryableDynamoDB,
  isTransactionConflict,
  LEDGER_RETRY,
  unprocessedKeys,
} from './errors.ts';
import { effectUpdate, Expr, guardCondition } from './ledger-expressions.ts';
import {
  eventChunk,
  META,
  now,
  pad,
  pk,
  stateSk,
  toRecord,
  toState,
  type Item,
  type Snapshot,
} from './ledger-codec.ts';
import { stateShard } from './ledger-items.ts';

export type Apply = Extract<Decision, { kind: 'apply' }>;
type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export interface LedgerTable {
  ddb: DynamoDBDocumentClient;
  table: string;
  /** Chunks whose state one item holds (CHUNKS_PER_STATE_ITEM, lower in tests). */
  perItem: number;
  metaKey(classId: string): { pk: string; sk: string };
  /** The chunk-state item that holds a chunk's done and failed entries (for chunks past the first `perItem`). */
  stateKey(classId: string, gen: number, chunk: number): { pk: string; sk: string };
  shardOf(chunk: number): number;
  readItem(classId: string): Promise<Item | undefined>;
  /** Reads several items at once, whatever DynamoDB leaves unprocessed under throttling. */
  readItems(keys: Item[]): Promise<Item[]>;
  /** The record with its generation's chunk-state items merged in (one more query only for a class of more than `perItem` chunks). */
  fullRecord(classId: string, item: Item): Promise<ClassRecord>;
  /** The chunk-state items of a generation (none for a class of up to `perItem` chunks). */
  readStates(classId: string, item: Item): Promise<Item[]>;
  /** A transaction's update of the class record, under the guard and clauses `e` holds. */
  classUpdate(classId: string, e: Expr): TransactItem;
  /** A transaction's update of the chunk-state item that holds `chunk` (`s`'s clauses), none for a chunk on the class record. */
  stateUpdate(classId: string, gen: number, chunk: number, s: Expr): TransactItem[];
  /** Every item of a partition whose sort key starts with `prefix`, all pages. */
  queryAll(partition: string, prefix: string): Promise<Item[]>;
  /**
   * Decides an event against the stored record and writes the decision with the lifecycle's guard as
   * its condition; when the guard was overtaken (another writer got there first) it reads and decides
   * again. `write` adds the event's own clauses and performs the write.
   */
  transition<T>(
    classId: string,
    event: ClassEvent,
    write: (d: Apply, item: Item | undefined, snap: Snapshot) => Promise<T>,
    onSkip: (why: SkipWhy, item: Item | undefined) => T | Promise<T>,
    /** What the caller read already (`null`: assume there is no record); decided from, then confirmed by the write's guard. */
    seen?: Snapshot | null,
  ): Promise<T>;
  /** A plain conditional update of the class record for one decision; says how fresh a generation it completed was. */
  updateMeta(
    classId: string,
    d: Apply,
    extra: (e: Expr) => void,
    at?: string,
    data?: { crawlError?: string; freshFrom?: string | undefined },
  ): Promise<{ freshnessSeconds?: number }>;
}

export function ledgerTable(ddb: DynamoDBDocumentClient, table: string, perItem: number): LedgerTable {
  const metaKey = (classId: string) => ({ pk: pk(classId), sk: META });
  const shardOf = (chunk: number) => stateShard(chunk, perItem);
  const stateKey = (classId: string, gen: number, chunk: number) => ({
    pk: pk(classId),
    sk: stateSk(gen, shardOf(chunk)),
  });

  async function readItem(classId: string): Promise<Item | undefined> {
    const res = await ddb.send(new GetCommand({ TableName: table, Key: metaKey(classId), ConsistentRead: true }));
    return res.Item;
  }

  async function readItems(keys: Item[]): Promise<Item[]> {
    const items: Item[] = [];
    let left: Item[] = keys;
    if (left.length === 0) return items;
    // A missing record must never read as "unknown class" because a key was left unprocessed.
    await withRetry(
      async () => {
        const res: { Responses?: Record<string, Item[]>; UnprocessedKeys?: Record<string, { Keys?: Item[] }> } =
          await ddb.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: left, ConsistentRead: true } } }));
        items.push(...(res.Responses?.[table] ?? []));
        left = res.UnprocessedKeys?.[table]?.Keys ?? [];
        if (left.length) throw unprocessedKeys(left.length);
      },
      { ...LEDGER_RETRY, retryable: isRetryableDynamoDB },
    );
    return items;
  }

  /** What an event is decided from: the class record, and the state item of a chunk past the first. */
  async function readSnapshot(classId: string, event: ClassEvent): Promise<Snapshot> {
    const c = eventChunk(event);
    if (!c || shardOf(c.chunk) === 0) return { meta: await readItem(classId) };
    const items = await readItems([metaKey(classId), stateKey(classId, c.gen, c.chunk)]);
    return { meta: items.find((i) => i.sk === META), state: items.find((i) => i.sk !== META) };
  }

  async function queryAll(partition: string, prefix: string): Promise<Item[]> {
    const out: Item[] = [];
    let start: Item | undefined;
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

  async function readStates(classId: string, item: Item): Promise<Item[]> {
    const gen = Number(item.gen ?? 0);
    if (gen === 0 || Number(item.totalChunks ?? 0) <= perItem) return [];
    return queryAll(pk(classId), `STATE#${pad(gen)}#`);
  }

  return {
    ddb,
    table,
    perItem,
    metaKey,
    stateKey,
    shardOf,
    readItem,
    readItems,
    readStates,
    queryAll,

    classUpdate(classId, e) {
      return {
        Update: {
          TableName: table,
          Key: metaKey(classId),
          UpdateExpression: e.update(),
          ConditionExpression: e.condition()!,
          ...e.params(),
        },
      };
    },

    stateUpdate(classId, gen, chunk, s) {
      if (shardOf(chunk) === 0) return [];
      const condition = s.condition();
      return [
        {
          Update: {
            TableName: table,
            Key: stateKey(classId, gen, chunk),
            UpdateExpression: s.update(),
            ...(condition ? { ConditionExpression: condition } : {}),
            ...s.params(),
          },
        },
      ];
    },

    async fullRecord(classId, item) {
      return toRecord(item, await readStates(classId, item));
    },

    async transition(classId, event, write, onSkip, seen) {
      let snap: Snapshot = seen ?? { meta: undefined };
      let fresh = seen === undefined;
      return withRetry(
        async () => {
          for (;;) {
            if (fresh) snap = await readSnapshot(classId, event);
            const d = decide(toState(snap, event, perItem), event);
            if (d.kind === 'skip') {
              // A skip decided from a possibly old snapshot is confirmed on a fresh read before it counts.
              if (!fresh) {
                fresh = true;
                continue;
              }
              return onSkip(d.why, snap.meta);
            }
            // Whatever becomes of this write, another attempt decides from a fresh read.
            fresh = true;
            return await write(d, snap.meta, snap);
          }
        },
        {
          ...LEDGER_RETRY,
          // Overtaken: read and decide again at once. Busy: the same, after a jittered pause.
          retryable: (err) => isConditionFailed(err) || isTransactionConflict(err),
          immediate: isConditionFailed,
        },
      );
    },

    async updateMeta(classId, d, extra, at = now(), data = {}) {
      const e = new Expr();
      guardCondition(d.guard, e);
      const out = effectUpdate(d.effect, e, at, data);
      extra(e);
      const condition = e.condition();
      await ddb.send(
        new UpdateCommand({
          TableName: table,
          Key: metaKey(classId),
          UpdateExpression: e.update(),
          ...(condition ? { ConditionExpression: condition } : {}),
          ...e.params(),
        }),
      );
      return out;
    },
  };
}
