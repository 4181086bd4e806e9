/**
 * Reading class records: one, several, and all of them across the partitions of the class index
 * (`listPk` = CLASSES#0 … CLASSES#<CLASS_SHARDS − 1>, so no one partition holds every class).
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { CLASS_SHARDS, type ClassRecord } from '../../domain/ledger/records.ts';
import type { ClassLedger } from '../../domain/ports/ledger.ts';
import { CLASS_INDEX, toRecord, type Item } from './ledger-codec.ts';
import type { LedgerTable } from './ledger-table.ts';

export function classReads(
  t: LedgerTable,
): Pick<ClassLedger, 'getClass' | 'getClasses' | 'listClasses' | 'pageCompleteClasses'> {
  return {
    async getClass(classId) {
      const item = await t.readItem(classId);
      return item ? t.fullRecord(classId, item) : undefined;
    },

    async getClasses(classIds) {
      const out = new Map<string, ClassRecord>();
      const unique = [...new Set(classIds)];
      // BatchGetItem reads at most 100 keys a request.
      for (let i = 0; i < unique.length; i += 100) {
        for (const item of await t.readItems(unique.slice(i, i + 100).map((id) => t.metaKey(id)))) {
          const r = await t.fullRecord(String(item.classId), item);
          out.set(r.classId, r);
        }
      }
      return out;
    },

    async listClasses() {
      const shards = await Promise.all(
        Array.from({ length: CLASS_SHARDS }, async (_, n) => {
          const out: ClassRecord[] = [];
          let start: Item | undefined;
          do {
            const res = await t.ddb.send(
              new QueryCommand({
                TableName: t.table,
                IndexName: CLASS_INDEX,
                KeyConditionExpression: 'listPk = :shard',
                ExpressionAttributeValues: { ':shard': `CLASSES#${n}` },
                ExclusiveStartKey: start,
              }),
            );
            for (const item of res.Items ?? []) out.push(await t.fullRecord(String(item.classId), item));
            start = res.LastEvaluatedKey;
          } while (start);
          return out;
        }),
      );
      return shards.flat().sort((a, b) => a.classId.localeCompare(b.classId));
    },

    async pageCompleteClasses(shard, after, limit) {
      const res = await t.ddb.send(
        new QueryCommand({
          TableName: t.table,
          IndexName: CLASS_INDEX,
          KeyConditionExpression: after === undefined ? 'listPk = :shard' : 'listPk = :shard AND listSk > :after',
          FilterExpression: '#status = :complete',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':shard': `CLASSES#${shard}`,
            ':complete': 'COMPLETE',
            ...(after === undefined ? {} : { ':after': after }),
          },
          Limit: limit,
        }),
      );
      const last: unknown = res.LastEvaluatedKey?.listSk;
      return { records: (res.Items ?? []).map((i) => toRecord(i)), ...(typeof last === 'string' ? { last } : {}) };
    },
  };
}
