// A little over 400 lines on purpose: every Ledger method in one place, each a read, the lifecycle's decision and one write.
/**
 * The ledger in memory: the same lifecycle decisions the DynamoDB adapter writes, applied to plain
 * records. Where DynamoDB holds a decision's guard as a condition expression, this checks it with the
 * lifecycle's own `holds` on the record; where DynamoDB writes the effect as update clauses, this
 * applies it with the same meaning (what a write sets wins over what it removes; counters are added).
 * Each method reads, decides and writes with no `await` in between, so one call is one transaction:
 * concurrent callers interleave only between whole writes, as conditional writes make them interleave
 * in DynamoDB. The shared contract (test/contracts/ledger.contract.ts, the model-based test) holds it
 * to the DynamoDB adapter; it is the unit tests' ledger.
 *
 * What it leaves out is storage, not rules: DynamoDB's item budgets (reasons, listings, titles and
 * scan pages are kept whole here, not cut), its retries, and `LEDGER_ITEM_TOO_LARGE`.
 */
import { createHash } from 'node:crypto';
import { FlantsError } from '../../errors.ts';
import {
  decide,
  holds,
  NO_RECORD,
  type ClassEvent,
  type Decision,
  type SkipWhy,
} from '../../domain/lifecycle/class-lifecycle.ts';
import type {
  BucketAheadOutcome,
  ClassInfo,
  ClassRecord,
  CountResult,
  FailureOutcome,
  FailureRecord,
  LandedFile,
  PlanResult,
  ReplanOutcome,
} from '../../domain/ledger/records.ts';
import { CLASS_SHARDS, MAX_GONE_LISTED } from '../../domain/ledger/records.ts';
import type { Ledger } from '../../domain/ports/ledger.ts';
import { effectOn, identityOf, landedCopy, recordView, stateOf, Update, type Stored } from './ledger-record.ts';
import { memoryScanLedger } from './scan-ledger.ts';
import { freshFromOf } from '../../domain/lifecycle/class-dates.ts';
import { plannedEvent } from '../../domain/ledger/records.ts';

type Apply = Extract<Decision, { kind: 'apply' }>;
/** What a refused chunk failure answers, by the lifecycle's reason (any other: stale). */
const FAILURE_SKIPS: Partial<Record<SkipWhy, FailureOutcome>> = {
  complete: 'complete',
  'chunk-failed-already': 'already-recorded',
  'chunk-done': 'chunk-done',
};
const now = () => new Date().toISOString();
const byNumber = (a: number, b: number) => a - b;

/** An in-memory Ledger; `wipe` forgets a class entirely (a table restored to before it, or recreated). */
export function memoryLedger(): Ledger & { wipe(classId: string): void } {
  const classes = new Map<string, Stored>();
  /** Chunk records by class, generation and chunk: what "counted once" is checked against. */
  const chunks = new Map<string, Map<number, Map<number, LandedFile[]>>>();
  /** Failure records by class, generation and chunk (kept as history when a redrive counts the chunk). */
  const failures = new Map<string, Map<number, Map<number, FailureRecord>>>();

  const inner = <K, V>(m: Map<K, V>, k: K, make: () => V): V => {
    if (!m.has(k)) m.set(k, make());
    return m.get(k)!;
  };
  const chunksOf = (classId: string, gen: number) =>
    inner(
      inner(chunks, classId, () => new Map<number, Map<number, LandedFile[]>>()),
      gen,
      () => new Map<number, LandedFile[]>(),
    );
  const failuresOf = (classId: string, gen: number) =>
    inner(
      inner(failures, classId, () => new Map<number, Map<number, FailureRecord>>()),
      gen,
      () => new Map<number, FailureRecord>(),
    );
  const doneIds = (classId: string, s: Stored | undefined) =>
    [...chunksOf(classId, s?.rec.gen ?? 0).keys()].sort(byNumber);
  const view = (classId: string, s: Stored) => recordView(s, doneIds(classId, s));

  /**
   * Decides an event on the record and, for an `apply`, checks its guard and writes the update `write`
   * builds (the effect's clauses are added by `write` through `effectOn`). No await: one step.
   */
  function step<T>(
    classId: string,
    event: ClassEvent,
    write: (d: Apply, s: Stored, u: Update) => T,
    onSkip: (why: SkipWhy, s: Stored | undefined) => T,
  ): T {
    const found = classes.get(classId);
    const state = found ? stateOf(found, doneIds(classId, found)) : NO_RECORD;
    const d = decide(state, event);
    if (d.kind === 'skip') return onSkip(d.why, found);
    // The condition DynamoDB would hold the write to, on the very record decided from.
    if (!holds(d.guard, state))
      throw new FlantsError(
        'LEDGER_STATE',
        `the lifecycle's guard for ${event.type} does not hold on class ${classId}, the record it was decided from: stateOf in src/adapters/memory/ledger-record.ts disagrees with decide (fix it there)`,
      );
    const s: Stored = found ?? { rec: { classId }, failed: new Map(), reasons: new Map() };
    const u = new Update();
    const out = write(d, s, u);
    u.commit(s.rec);
    classes.set(classId, s);
    return out;
  }

  /** `step` as the interface's promise: a refusal rejects it, as a failed write would. */
  function transition<T>(...args: Parameters<typeof step<T>>): Promise<T> {
    try {
      return Promise.resolve(step(...args));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  const identity = (u: Update, s: Stored, classId: string, info: ClassInfo, at: string) =>
    identityOf(u, s.rec, classId, info, at);

  const ledger: Ledger & { wipe(classId: string): void } = {
    wipe(classId) {
      classes.delete(classId);
      chunks.delete(classId);
      failures.delete(classId);
    },

    getClass: (classId) => {
      const s = classes.get(classId);
      return Promise.resolve(s ? view(classId, s) : undefined);
    },

    getClasses: (ids) => {
      const out = new Map<string, ClassRecord>();
      for (const id of ids) {
        const s = classes.get(id);
        if (s) out.set(id, view(id, s));
      }
      return Promise.resolve(out);
    },

    listClasses: () =>
      Promise.resolve([...classes.keys()].sort((a, b) => a.localeCompare(b)).map((id) => view(id, classes.get(id)!))),

    pageCompleteClasses: (shard, after, limit) => {
      const ids = [...classes.keys()]
        .filter((id) => createHash('md5').update(id).digest()[0]! % CLASS_SHARDS === shard)
        .filter((id) => after === undefined || id > after)
        .sort();
      // As the index query: `limit` records read, the COMPLETE ones returned, `last` where reading stopped.
      const read = ids.slice(0, limit);
      const records = read
        .filter((id) => classes.get(id)!.rec.status === 'COMPLETE')
        .map((id) => view(id, classes.get(id)!));
      return Promise.resolve({ records, ...(ids.length > limit ? { last: read.at(-1)! } : {}) });
    },

    markPending: (classId, info) => {
      const at = now();
      return transition(
        classId,
        { type: 'enqueued' },
        (d, s, u) => {
          identity(u, s, classId, info, at);
          effectOn(u, s, d.effect, at, {});
        },
        () => undefined,
      );
    },

    markCrawling: (classId, info) => {
      const at = now();
      return transition(
        classId,
        { type: 'crawlStarted' },
        (d, s, u) => {
          identity(u, s, classId, info, at);
          u.remove('waiting', 'waitUntil');
          effectOn(u, s, d.effect, at, {});
        },
        () => undefined,
      );
    },

    markWaiting: (classId, info) => {
      const at = now();
      return transition(
        classId,
        { type: 'waiting' },
        (d, s, u) => {
          identity(u, s, classId, info, at);
          u.set('waiting', info.reason).set('waitUntil', info.until);
          // The first wait anchors the grace period of a class without a plausible end: never moved by a re-crawl.
          if (s.rec.waitingSince === undefined) u.set('waitingSince', info.since);
          effectOn(u, s, d.effect, at, {});
        },
        () => undefined,
      );
    },

    markChecked: (classId, gen, result, gone) => {
      const at = now();
      return transition(
        classId,
        { type: 'checked', gen },
        (d, s, u) => {
          effectOn(u, s, d.effect, at, {});
          u.set('checkedAt', at).set('checkResult', result);
          // What this check found gone replaces what was listed: a file the origin serves again is no longer listed.
          if (gone && gone.count > 0)
            u.set('goneAtOrigin', { count: gone.count, keys: gone.keys.slice(0, MAX_GONE_LISTED) });
          else if (gone) u.remove('goneAtOrigin');
          return true;
        },
        () => false,
      );
    },

    recordBucketAhead: (classId, gen, bucketGen, reason) =>
      transition<BucketAheadOutcome>(
        classId,
        { type: 'bucketAhead', gen, bucketGen },
        (d, s, u) => {
          effectOn(u, s, d.effect, now(), { crawlError: reason });
          return d.effect.newGeneration ? { outcome: 'moved', gen: d.effect.newGeneration.gen } : { outcome: 'failed' };
        },
        () => ({ outcome: 'stale' }),
      ),

    recordPlan: (classId, plan) => {
      const at = now();
      const event = plannedEvent(plan);
      return transition<PlanResult>(
        classId,
        event,
        (d, s, u) => {
          const freshFrom = freshFromOf(s.rec, at);
          const { freshnessSeconds } = effectOn(u, s, d.effect, at, { freshFrom });
          if (d.effect.newGeneration) {
            u.set('totalFiles', plan.totalFiles);
            // Files an earlier generation copied that this plan no longer has: listed, never deleted.
            if (plan.removed?.length) u.set('removedFiles', [...plan.removed]).set('removedCount', plan.removed.length);
            else u.remove('removedFiles', 'removedCount');
          } else u.set('crawledAt', at);
          u.remove('waiting', 'waitUntil', 'waitingSince');
          if (plan.warnings?.length) u.set('warnings', [...plan.warnings]);
          const gen = d.effect.newGeneration?.gen ?? s.rec.gen ?? 0;
          return {
            outcome: d.effect.newGeneration ? 'new' : 'resumed',
            gen,
            // A resumed plan's jobs are sent for the chunks not done.
            done: new Set(d.effect.newGeneration ? [] : chunksOf(classId, gen).keys()),
            completed: d.effect.complete !== undefined,
            ...(freshnessSeconds === undefined ? {} : { freshnessSeconds }),
            replans: d.effect.complete ? 0 : (d.effect.replans ?? s.rec.replans ?? 0),
          };
        },
        (why, s) => {
          if (why !== 'complete')
            throw new FlantsError('LEDGER_STATE', `cannot record plan ${plan.planId} for class ${classId}: ${why}`);
          return { outcome: 'complete', gen: s?.rec.gen ?? 0, done: new Set<number>(), completed: false, replans: 0 };
        },
      );
    },

    requestReplan: (classId, { gen, replans, max, reason }) =>
      transition<ReplanOutcome>(
        classId,
        { type: 'replanRequested', gen, replans, max },
        (d, s, u) => {
          effectOn(u, s, d.effect, now(), { crawlError: reason });
          return d.effect.status === 'FAILED' ? 'failed' : 'counted';
        },
        () => 'stale',
      ),

    viewChunk: (classId, gen, chunk) => {
      const s = classes.get(classId);
      return Promise.resolve({
        record: s ? view(classId, s) : undefined,
        chunkDone: chunksOf(classId, gen).has(chunk),
        chunkFailed: s !== undefined && s.rec.gen === gen && s.failed.has(chunk),
      });
    },

    // `seen` only saves DynamoDB a read: here the record is always read, in the same step as the write.
    countChunk: (classId, gen, chunk, files, _seen, planId) =>
      transition<CountResult>(
        classId,
        { type: 'chunkCounted', gen, chunk, planId },
        (d, s, u) => {
          const at = now();
          const { freshnessSeconds } = effectOn(u, s, d.effect, at, { freshFrom: freshFromOf(s.rec, at) });
          u.add('doneChunks', 1)
            .add('doneFiles', files.length)
            .add(
              'doneBytes',
              files.reduce((n, f) => n + f.bytes, 0),
            );
          chunksOf(classId, gen).set(chunk, files.map(landedCopy));
          // Files gone at the origin (kept): all counted, the first MAX_GONE_LISTED named.
          const gone = files.filter((f) => f.goneAtOrigin).map((f) => f.key);
          if (gone.length > 0) {
            const was = s.rec.goneAtOrigin ?? { count: 0, keys: [] };
            const keys = [...was.keys, ...gone].slice(0, MAX_GONE_LISTED);
            u.set('goneAtOrigin', { count: was.count + gone.length, keys });
          }
          return {
            outcome: 'counted',
            completed: d.effect.complete !== undefined,
            ...(d.effect.complete && freshnessSeconds !== undefined ? { freshnessSeconds } : {}),
          };
        },
        (why) => ({ outcome: why === 'duplicate' ? 'duplicate' : 'stale', completed: false }),
      ),

    noteAttemptFailure: (classId, gen, chunk, reason) => {
      const at = now();
      return transition(
        classId,
        { type: 'attemptFailed', gen, chunk },
        (d, s, u) => {
          effectOn(u, s, d.effect, at, {});
          u.set('lastAttemptError', `chunk ${chunk}: ${reason}`).set('lastAttemptAt', at).add('failedAttempts', 1);
        },
        () => undefined,
      );
    },

    recordChunkFailure: (classId, gen, chunk, files, opts = {}) => {
      const provisional = opts.provisional ?? false;
      return transition<FailureOutcome>(
        classId,
        { type: 'chunkFailed', gen, chunk, provisional, planId: opts.planId },
        (d, s, u) => {
          const at = now();
          effectOn(u, s, d.effect, at, { failedFiles: files.length });
          s.reasons.set(chunk, files[0]?.reason ?? 'unknown');
          const listed = files.map((f) => ({ key: f.key, src: f.src, reason: f.reason }));
          failuresOf(classId, gen).set(chunk, { classId, gen, chunk, files: listed, provisional, at });
          return 'recorded';
        },
        (why) => FAILURE_SKIPS[why] ?? 'stale',
      );
    },

    failCrawl: (classId, reason, opts = {}) => {
      const at = now();
      return transition(
        classId,
        { type: 'crawlFailed', ...(opts.provisional ? { provisional: true } : {}) },
        (d, s, u) => {
          if (opts.info) identity(u, s, classId, opts.info, at);
          else if (s.rec.createdAt === undefined) u.set('createdAt', at);
          effectOn(u, s, d.effect, at, { crawlError: reason });
          return true;
        },
        () => false,
      );
    },

    listFailures: async (classId) => (await ledger.pageFailures(classId, undefined, Number.MAX_SAFE_INTEGER)).failures,

    pageFailures: (classId, after, limit) => {
      const s = classes.get(classId);
      if (!s || s.failed.size === 0) return Promise.resolve({ failures: [] });
      const items = failuresOf(classId, s.rec.gen ?? 0);
      // Failure records of chunks counted since (a redrive) stay as history: only the failed set's are listed.
      const ids = [...s.failed.keys()].filter((c) => items.has(c) && (after === undefined || c > after)).sort(byNumber);
      const failures = ids.slice(0, limit).map((c) => structuredClone(items.get(c)!));
      return Promise.resolve({ failures, ...(ids.length > limit ? { next: failures.at(-1)!.chunk } : {}) });
    },

    listChunks: (classId, gen) =>
      Promise.resolve(
        [...chunksOf(classId, gen)]
          .sort(([a], [b]) => a - b)
          .map(([chunk, f]) => ({ chunk, files: structuredClone(f) })),
      ),

    async *eachChunk(classId, gen) {
      yield* await ledger.listChunks(classId, gen);
    },

    recordVerification: (classId, gen, v) => {
      const s = classes.get(classId);
      if (!s || s.rec.gen !== gen) return Promise.resolve(false);
      Object.assign(s.rec, {
        verifiedAt: v.at,
        verifiedGen: gen,
        verifyResult: v.result,
        verifyFindings: { ...v.counts },
      });
      return Promise.resolve(true);
    },

    ...memoryScanLedger(),
  };
  return ledger;
}
