/**
 * The class lifecycle's decisions written to the class record (src/domain/lifecycle/class-lifecycle.ts
 * decides; `LedgerTable.transition` writes each decision conditionally on its guard): pending, crawling,
 * waiting, planned, checked, re-plans, a bucket ahead, a failed crawl, a failed attempt, and the
 * verification's note. Chunks and failures are in ledger-chunks.ts and ledger-failures.ts.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { FlantsError } from '../../errors.ts';
import { judgeEndedAt } from '../../domain/lifecycle/class-dates.ts';
import {
  MAX_GONE_LISTED,
  type BucketAheadOutcome,
  type ClassInfo,
  type PlanResult,
  type ReplanOutcome,
} from '../../domain/ledger/records.ts';
import type { ClassLedger } from '../../domain/ports/ledger.ts';
import { isConditionFailed } from './errors.ts';
import type { Expr } from './ledger-expressions.ts';
import { listKeys, now } from './ledger-codec.ts';
import { boundedWarnings, cutUtf8, MAX_NOTE_BYTES, MAX_TITLE_BYTES, removedSample } from './ledger-items.ts';
import type { LedgerTable } from './ledger-table.ts';
import { freshFromOf } from '../../domain/lifecycle/class-dates.ts';
import { plannedEvent } from '../../domain/ledger/records.ts';

/** Identity attributes every write that may create the record sets. */
const identity = (classId: string, info: ClassInfo, at: string) => (e: Expr) => {
  const keys = listKeys(classId);
  e.set.push(
    `classId = ${e.value(classId)}`,
    `listPk = ${e.value(keys.listPk)}`,
    `listSk = ${e.value(keys.listSk)}`,
    `title = ${e.value(cutUtf8(info.title ?? classId, MAX_TITLE_BYTES))}`,
    `manifestUrl = ${e.value(info.manifestUrl)}`,
    `createdAt = if_not_exists(createdAt, ${e.value(at)})`,
  );
  // An implausible end (the epoch, the far future) is no end: the crawler's warning says why.
  const ended = judgeEndedAt(info.endedAt, new Date(at)).endedAt;
  if (ended) e.set.push(`endedAt = ${e.value(ended)}`);
  // Freshness counts from the class's end, or from when FLAnts first heard of it when the catalog has no end.
  e.set.push(`freshFrom = if_not_exists(freshFrom, ${e.value(ended ?? at)})`);
};

type ClassWrites =
  | 'markPending'
  | 'markCrawling'
  | 'markChecked'
  | 'recordBucketAhead'
  | 'markWaiting'
  | 'recordPlan'
  | 'requestReplan'
  | 'noteAttemptFailure'
  | 'failCrawl'
  | 'recordVerification';

/** `listChunks` tells a resumed plan which chunks are done already. */
export function classTransitions(
  t: LedgerTable,
  listChunks: ClassLedger['listChunks'],
): Pick<ClassLedger, ClassWrites> {
  return {
    async markPending(classId, info) {
      const at = now();
      await t.transition(
        classId,
        { type: 'enqueued' },
        (d) => t.updateMeta(classId, d, identity(classId, info, at), at),
        () => undefined,
        // Most enqueued classes are new: decide as if absent (one write); the guard catches the others.
        null,
      );
    },

    async markCrawling(classId, info) {
      const at = now();
      await t.transition(
        classId,
        { type: 'crawlStarted' },
        (d) =>
          t.updateMeta(
            classId,
            d,
            (e) => {
              identity(classId, info, at)(e);
              e.remove.push('waiting', 'waitUntil');
            },
            at,
          ),
        () => undefined,
      );
    },

    async markChecked(classId, gen, result, gone) {
      const at = now();
      return t.transition(
        classId,
        { type: 'checked', gen },
        async (d) => {
          await t.updateMeta(
            classId,
            d,
            (e) => {
              e.set.push(`checkedAt = ${e.value(at)}`, `checkResult = ${e.value(cutUtf8(result, MAX_NOTE_BYTES))}`);
              // What this check found gone replaces what was listed: a file the origin serves again is no longer listed.
              if (gone && gone.count > 0)
                e.set.push(
                  `goneCount = ${e.value(gone.count)}`,
                  `goneKeys = ${e.value(gone.keys.slice(0, MAX_GONE_LISTED).map((k) => k.slice(0, 1024)))}`,
                );
              else if (gone) e.remove.push('goneCount', 'goneKeys');
            },
            at,
          );
          return true;
        },
        () => false,
      );
    },

    async recordBucketAhead(classId, gen, bucketGen, reason) {
      return t.transition<BucketAheadOutcome>(
        classId,
        { type: 'bucketAhead', gen, bucketGen },
        async (d) => {
          await t.updateMeta(classId, d, () => undefined, now(), { crawlError: reason });
          return d.effect.newGeneration ? { outcome: 'moved', gen: d.effect.newGeneration.gen } : { outcome: 'failed' };
        },
        () => ({ outcome: 'stale' }),
      );
    },

    async markWaiting(classId, info) {
      const at = now();
      await t.transition(
        classId,
        { type: 'waiting' },
        (d) =>
          t.updateMeta(
            classId,
            d,
            (e) => {
              identity(classId, info, at)(e);
              e.set.push(
                `waiting = ${e.value(cutUtf8(info.reason, MAX_NOTE_BYTES))}`,
                `waitUntil = ${e.value(info.until)}`,
                // The first wait anchors the grace period of a class without a plausible end: never moved by a re-crawl.
                `waitingSince = if_not_exists(waitingSince, ${e.value(info.since)})`,
              );
            },
            at,
          ),
        () => undefined,
      );
    },

    async recordPlan(classId, plan) {
      const at = now();
      const event = plannedEvent(plan);
      const result = await t.transition<PlanResult>(
        classId,
        event,
        async (d, item) => {
          const { freshnessSeconds } = await t.updateMeta(
            classId,
            d,
            (e) => {
              if (d.effect.newGeneration) {
                e.set.push(`totalFiles = ${e.value(plan.totalFiles)}`);
                // Files an earlier generation copied that this plan no longer has: listed, never deleted.
                if (plan.removed?.length)
                  e.set.push(
                    `removedFiles = ${e.value(removedSample(plan.removed))}`,
                    `removedCount = ${e.value(plan.removed.length)}`,
                  );
                else e.remove.push('removedFiles', 'removedCount');
              } else e.set.push(`crawledAt = ${e.value(at)}`);
              e.remove.push('waiting', 'waitUntil', 'waitingSince');
              if (plan.warnings?.length) e.set.push(`warnings = ${e.value(boundedWarnings(plan.warnings))}`);
            },
            at,
            { freshFrom: freshFromOf(item, at) },
          );
          const gen = d.effect.newGeneration?.gen ?? Number(item?.gen ?? 0);
          return {
            outcome: d.effect.newGeneration ? 'new' : 'resumed',
            gen,
            done: new Set<number>(),
            completed: d.effect.complete !== undefined,
            ...(freshnessSeconds === undefined ? {} : { freshnessSeconds }),
            replans: d.effect.complete ? 0 : (d.effect.replans ?? Number(item?.replans ?? 0)),
          };
        },
        (why, item) => {
          if (why !== 'complete')
            throw new FlantsError('LEDGER_STATE', `cannot record plan ${plan.planId} for class ${classId}: ${why}`);
          return {
            outcome: 'complete',
            gen: Number(item?.gen ?? 0),
            done: new Set<number>(),
            completed: false,
            replans: 0,
          };
        },
      );
      if (result.outcome === 'resumed') {
        for (const c of await listChunks(classId, result.gen)) result.done.add(c.chunk);
      }
      return result;
    },

    async requestReplan(classId, { gen, replans, max, reason }) {
      const at = now();
      return t.transition<ReplanOutcome>(
        classId,
        { type: 'replanRequested', gen, replans, max },
        async (d) => {
          await t.updateMeta(classId, d, () => undefined, at, { crawlError: reason });
          return d.effect.status === 'FAILED' ? 'failed' : 'counted';
        },
        () => 'stale',
      );
    },

    async noteAttemptFailure(classId, gen, chunk, reason) {
      const at = now();
      await t.transition(
        classId,
        { type: 'attemptFailed', gen, chunk },
        (d) =>
          t.updateMeta(
            classId,
            d,
            (e) => {
              e.set.push(
                `lastAttemptError = ${e.value(cutUtf8(`chunk ${chunk}: ${reason}`, MAX_NOTE_BYTES))}`,
                `lastAttemptAt = ${e.value(at)}`,
              );
              e.add.push(`failedAttempts ${e.value(1)}`);
            },
            at,
          ),
        () => undefined,
      );
    },

    async failCrawl(classId, reason, opts = {}) {
      const at = now();
      return t.transition(
        classId,
        { type: 'crawlFailed', ...(opts.provisional ? { provisional: true } : {}) },
        async (d) => {
          await t.updateMeta(
            classId,
            d,
            (e) => {
              if (opts.info) identity(classId, opts.info, at)(e);
              else {
                const keys = listKeys(classId);
                e.set.push(
                  `classId = ${e.value(classId)}`,
                  `listPk = ${e.value(keys.listPk)}`,
                  `listSk = ${e.value(keys.listSk)}`,
                  `createdAt = if_not_exists(createdAt, ${e.value(at)})`,
                );
              }
            },
            at,
            { crawlError: reason },
          );
          return true;
        },
        () => false,
      );
    },

    async recordVerification(classId, gen, v) {
      try {
        await t.ddb.send(
          new UpdateCommand({
            TableName: t.table,
            Key: t.metaKey(classId),
            // A handful of kinds and a bounded line: the record's budget is not touched.
            UpdateExpression: 'SET verifiedAt = :at, verifiedGen = :g, verifyResult = :r, verifyFindings = :c',
            ConditionExpression: 'attribute_exists(pk) AND #gen = :g',
            ExpressionAttributeNames: { '#gen': 'gen' },
            ExpressionAttributeValues: {
              ':at': v.at,
              ':g': gen,
              ':r': cutUtf8(v.result, MAX_NOTE_BYTES),
              ':c': v.counts,
            },
          }),
        );
        return true;
      } catch (err) {
        if (isConditionFailed(err)) return false;
        throw err;
      }
    },
  };
}
