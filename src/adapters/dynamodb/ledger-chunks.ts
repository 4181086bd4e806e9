/**
 * A chunk's records: what a transfer reads before it copies (`viewChunk`), the count (`countChunk`: one
 * transaction of the chunk record, written once per generation, and the class counters under the
 * lifecycle's guard; the last chunk's also completes the class), and the chunk records read back.
 */
import { QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { FlantsError } from '../../errors.ts';
import { MAX_GONE_LISTED, type CountResult } from '../../domain/ledger/records.ts';
import type { ClassLedger } from '../../domain/ports/ledger.ts';
import { rethrowUnlessFirstRefused } from './errors.ts';
import { itemSize, MAX_ITEM_BYTES } from './item-size.ts';
import { effectUpdate, Expr, guardCondition } from './ledger-expressions.ts';
import {
  chunkOfItem,
  chunkSk,
  failedMap,
  landedItem,
  META,
  now,
  pad,
  pk,
  toRecord,
  viewToSnapshot,
  type Item,
} from './ledger-codec.ts';
import type { LedgerTable } from './ledger-table.ts';
import { freshFromOf } from '../../domain/lifecycle/class-dates.ts';

/**
 * Counts a chunk's files gone at the origin (kept) on the class record, and names them while fewer
 * than MAX_GONE_LISTED are named. The list grows only under a condition on its size as `item` had it,
 * so concurrent counts can never push it past the bound (an overtaken count reads again and retries).
 */
function goneUpdate(e: Expr, gone: readonly string[], item: Item | undefined): void {
  if (gone.length === 0) return;
  e.add.push(`goneCount ${e.value(gone.length)}`);
  const listed = Array.isArray(item?.goneKeys) ? (item.goneKeys as unknown[]).length : 0;
  const room = MAX_GONE_LISTED - listed;
  if (room <= 0) return;
  const keys = e.name('goneKeys');
  e.set.push(
    `${keys} = list_append(if_not_exists(${keys}, ${e.value([])}), ${e.value(gone.slice(0, room).map((k) => k.slice(0, 1024)))})`,
  );
  e.cond.push(listed === 0 ? `attribute_not_exists(${keys})` : `size(${keys}) = ${e.value(listed)}`);
}

export function chunkRecords(
  t: LedgerTable,
): Pick<ClassLedger, 'viewChunk' | 'countChunk' | 'listChunks' | 'eachChunk'> {
  return {
    async viewChunk(classId, gen, chunk) {
      const cSk = chunkSk(gen, chunk);
      const inState = t.shardOf(chunk) > 0;
      const items = await t.readItems([
        t.metaKey(classId),
        { pk: pk(classId), sk: cSk },
        ...(inState ? [t.stateKey(classId, gen, chunk)] : []),
      ]);
      const meta = items.find((i) => i.sk === META);
      const state = items.find((i) => String(i.sk).startsWith('STATE#'));
      const holder = inState ? state : meta;
      return {
        record: meta ? toRecord(meta, state ? [state] : []) : undefined,
        chunkDone: items.some((i) => i.sk === cSk),
        chunkFailed: failedMap(holder)[String(chunk)] !== undefined,
      };
    },

    async countChunk(classId, gen, chunk, files, seen, planId) {
      const bytes = files.reduce((n, f) => n + f.bytes, 0);
      const inState = t.shardOf(chunk) > 0;
      const record = {
        pk: pk(classId),
        sk: chunkSk(gen, chunk),
        gen,
        chunk,
        files: files.length,
        bytes,
        at: now(),
        landed: files.map(landedItem),
      };
      // The chunk record grows with its files' keys and URLs: refuse clearly what DynamoDB would refuse.
      const size = itemSize(record);
      if (size > MAX_ITEM_BYTES)
        throw new FlantsError(
          'LEDGER_ITEM_TOO_LARGE',
          `chunk ${chunk} of class ${classId} cannot be recorded: its ${files.length} files' keys and source URLs take ${size} bytes, above DynamoDB's ${MAX_ITEM_BYTES}-byte item; lower TRANSFER_CHUNK_FILES`,
        );
      return t.transition<CountResult>(
        classId,
        { type: 'chunkCounted', gen, chunk, planId },
        async (d, item) => {
          const at = now();
          const e = new Expr();
          // A chunk past the first state item has its done and failed entries in its own state item.
          const s = inState ? new Expr() : e;
          guardCondition(d.guard, e, s);
          // doneSet rides in the same update as the counters: the bit field costs no extra request.
          const { freshnessSeconds } = effectUpdate(d.effect, e, at, { freshFrom: freshFromOf(item, at) }, s);
          // A redriven chunk's reason leaves the sample (a path can be removed only from a map that exists).
          if (d.effect.unfail && item?.failReasons && typeof item.failReasons === 'object')
            e.remove.push(`failReasons.${e.name(String(chunk))}`);
          e.add.push(`doneChunks ${e.value(1)}`, `doneFiles ${e.value(files.length)}`, `doneBytes ${e.value(bytes)}`);
          s.add.push(`doneSet ${s.value(new Set([chunk]))}`);
          goneUpdate(
            e,
            files.filter((f) => f.goneAtOrigin).map((f) => f.key),
            item,
          );
          try {
            await t.ddb.send(
              new TransactWriteCommand({
                TransactItems: [
                  {
                    Put: {
                      TableName: t.table,
                      Item: { ...record, at },
                      ConditionExpression: 'attribute_not_exists(pk)',
                    },
                  },
                  t.classUpdate(classId, e),
                  ...t.stateUpdate(classId, gen, chunk, s),
                ],
              }),
            );
          } catch (err) {
            // The chunk record exists: counted already. A refused guard: transition reads and decides again.
            rethrowUnlessFirstRefused(err);
            return { outcome: 'duplicate', completed: false };
          }
          return {
            outcome: 'counted',
            completed: d.effect.complete !== undefined,
            ...(d.effect.complete && freshnessSeconds !== undefined ? { freshnessSeconds } : {}),
          };
        },
        (why) => ({ outcome: why === 'duplicate' ? 'duplicate' : 'stale', completed: false }),
        // A redrive of a failed chunk is decided from a fresh read: its sample reason must be seen to be removed.
        seen && !seen.chunkFailed ? viewToSnapshot(seen, chunk, t.perItem) : undefined,
      );
    },

    async listChunks(classId, gen) {
      const items = await t.queryAll(pk(classId), `CHUNK#${pad(gen)}#`);
      return items.map(chunkOfItem);
    },

    async *eachChunk(classId, gen) {
      let start: Item | undefined;
      do {
        const res = await t.ddb.send(
          new QueryCommand({
            TableName: t.table,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': pk(classId), ':prefix': `CHUNK#${pad(gen)}#` },
            ExclusiveStartKey: start,
            ConsistentRead: true,
          }),
        );
        for (const i of res.Items ?? []) yield chunkOfItem(i);
        start = res.LastEvaluatedKey;
      } while (start);
    },
  };
}
