/**
 * A chunk's failure: its failed files in a failure item of their own (`FAIL#<gen>#<chunk>`, bounded),
 * the class marked FAILED with the chunk in its failed set and a sample of reasons on the class record,
 * in one transaction that is refused when another delivery counted the chunk; and failures read back.
 */
import { QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { FailedFile, FailureOutcome, FailureRecord } from '../../domain/ledger/records.ts';
import type { ClassLedger } from '../../domain/ports/ledger.ts';
import { rethrowUnlessFirstRefused } from './errors.ts';
import { effectUpdate, Expr, guardCondition } from './ledger-expressions.ts';
import { chunkSk, failSk, now, pad, pk, reasonSample, toRecord, type Item } from './ledger-codec.ts';
import { boundedFailure, cutUtf8, FAILURE_SAMPLE_SIZE, MAX_REASON_BYTES } from './ledger-items.ts';
import type { LedgerTable } from './ledger-table.ts';

export function chunkFailures(
  t: LedgerTable,
): Pick<ClassLedger, 'recordChunkFailure' | 'listFailures' | 'pageFailures'> {
  const ledgerFailures: Pick<ClassLedger, 'recordChunkFailure' | 'listFailures' | 'pageFailures'> = {
    async recordChunkFailure(classId, gen, chunk, files, opts = {}) {
      const provisional = opts.provisional ?? false;
      const bounded = boundedFailure(files);
      const reason = cutUtf8(files[0]?.reason ?? 'unknown', MAX_REASON_BYTES);
      const inState = t.shardOf(chunk) > 0;
      return t.transition<FailureOutcome>(
        classId,
        { type: 'chunkFailed', gen, chunk, provisional, planId: opts.planId },
        async (d, item, snap) => {
          const at = now();
          const e = new Expr();
          const s = inState ? new Expr() : e;
          guardCondition(d.guard, e, s);
          const holder = inState ? snap.state : item;
          const createMap = !holder?.failed || typeof holder.failed !== 'object';
          // The class record keeps a sample of reasons (every reason is in the failure item): this
          // chunk's when it is in the sample already or there is room, which the write's condition holds to.
          effectUpdate(d.effect, e, at, { failure: { files: files.length, createMap } }, s);
          const sample = reasonSample(item);
          // Named only when written: DynamoDB refuses a name the expressions do not use.
          const path = () => `failReasons.${e.name(String(chunk))}`;
          if (!item?.failReasons || typeof item.failReasons !== 'object') {
            // Records planned before the sample existed: the map is created whole (a path needs its map).
            e.set.push(`failReasons = ${e.value({ [String(chunk)]: reason })}`);
            e.cond.push('attribute_not_exists(failReasons)');
          } else if (sample[String(chunk)] !== undefined) {
            e.set.push(`${path()} = ${e.value(reason)}`);
          } else if (Object.keys(sample).length < FAILURE_SAMPLE_SIZE) {
            e.set.push(`${path()} = ${e.value(reason)}`);
            e.cond.push(`size(failReasons) < ${e.value(FAILURE_SAMPLE_SIZE)}`);
          }
          if (!d.guard.chunkFailed?.is) e.add.push(`failedChunks ${e.value(1)}`);
          try {
            await t.ddb.send(
              new TransactWriteCommand({
                TransactItems: [
                  // A chunk another delivery counted is not failed, whatever this one saw.
                  {
                    ConditionCheck: {
                      TableName: t.table,
                      Key: { pk: pk(classId), sk: chunkSk(gen, chunk) },
                      ConditionExpression: 'attribute_not_exists(pk)',
                    },
                  },
                  t.classUpdate(classId, e),
                  {
                    Put: {
                      TableName: t.table,
                      Item: {
                        pk: pk(classId),
                        sk: failSk(gen, chunk),
                        classId,
                        gen,
                        chunk,
                        files: bounded.files,
                        truncated: bounded.truncated,
                        provisional,
                        at,
                      },
                    },
                  },
                  ...t.stateUpdate(classId, gen, chunk, s),
                ],
              }),
            );
          } catch (err) {
            rethrowUnlessFirstRefused(err);
            return 'chunk-done';
          }
          return 'recorded';
        },
        (why) => (why === 'complete' ? 'complete' : why === 'chunk-failed-already' ? 'already-recorded' : 'stale'),
      );
    },

    async listFailures(classId) {
      const out: FailureRecord[] = [];
      let after: number | undefined;
      do {
        const page = await ledgerFailures.pageFailures(classId, after, 100);
        out.push(...page.failures);
        after = page.next;
      } while (after !== undefined);
      return out;
    },

    async pageFailures(classId, after, limit) {
      const item = await t.readItem(classId);
      if (!item || !Number(item.failedChunks ?? 0)) return { failures: [] };
      const gen = Number(item.gen ?? 0);
      const failed = new Set(toRecord(item, await t.readStates(classId, item)).failedChunkIds);
      const failures: FailureRecord[] = [];
      // Failure items of chunks counted since (a redrive) stay as history: only the failed set's count.
      let start: Item | undefined = after === undefined ? undefined : { pk: pk(classId), sk: failSk(gen, after) };
      while (failures.length < limit) {
        const res: { Items?: Item[]; LastEvaluatedKey?: Item } = await t.ddb.send(
          new QueryCommand({
            TableName: t.table,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': pk(classId), ':prefix': `FAIL#${pad(gen)}#` },
            ExclusiveStartKey: start,
            ConsistentRead: true,
            Limit: limit - failures.length,
          }),
        );
        for (const i of res.Items ?? []) {
          if (!failed.has(Number(i.chunk))) continue;
          failures.push({
            classId,
            gen: Number(i.gen),
            chunk: Number(i.chunk),
            files: i.files as FailedFile[],
            ...(Number(i.truncated) > 0 ? { truncated: Number(i.truncated) } : {}),
            provisional: i.provisional === true,
            at: String(i.at),
          });
        }
        start = res.LastEvaluatedKey;
        if (!start) return { failures };
      }
      return { failures, next: failures.at(-1)!.chunk };
    },
  };
  return ledgerFailures;
}
