// Over 400 lines on purpose: the whole lifecycle (states, events, guards, decisions) in one place, so that what can happen to a class record is read and reviewed at once (docs/ledger.md draws it).
/**
 * The class lifecycle: states, events, the transitions between them and the guard of each.
 *
 * Pure: no AWS, no clock, no I/O. The ledger adapter turns every `Apply` decision into one
 * conditional write whose condition is exactly `decision.guard` (see `holds` for its meaning), so
 * what this module allows is all that can happen to a stored class record, however deliveries
 * interleave. docs/ledger.md draws it.
 */

export const CLASS_STATUSES = ['PENDING', 'CRAWLING', 'TRANSFERRING', 'COMPLETE', 'FAILED'] as const;
export type ClassStatus = (typeof CLASS_STATUSES)[number];

/** What the lifecycle needs to know of a class record; `undefined` status = no record yet. */
export interface ClassState {
  status: ClassStatus | undefined;
  /** Current plan generation; 0 before the first plan. Only ever moves forward. */
  gen: number;
  /** Identity of the current generation's content: file list and chunk size. */
  planId?: string | undefined;
  /** requestedAt of the forced copy that started the current generation, if one did. */
  forcedAt?: string | undefined;
  /** When a change check found the origin changed, for the latest generation a change started. */
  changedAt?: string | undefined;
  totalChunks: number;
  doneChunks: number;
  /** Chunks of the current generation recorded as failed (never also done). */
  failed: readonly number[];
  /**
   * How many chunks are failed, when `failed` lists only those known: the stored record keeps a
   * count, and the adapter reads only the event's own chunk's entry (`failed` is then that chunk or
   * nothing). Absent: `failed` is the whole set.
   */
  failedCount?: number | undefined;
  /** Why the last crawl failed, while that still stands. */
  crawlError?: string | undefined;
  /** The generation that reached COMPLETE, if any did. */
  completedGen?: number | undefined;
  /**
   * Re-plans in a row that transfers asked for because a playlist named other files than the plan
   * (PLAYLIST_CHANGED); 0 once a generation completes or a crawl not asked for by a transfer plans.
   */
  replans?: number | undefined;
  /**
   * Which chunks are done, when known. The stored record keeps counts only: there the chunk's own
   * record answers (its write is conditional in the same transaction, see `Guard.chunkUndone`).
   */
  doneIds?: readonly number[] | undefined;
  /**
   * Generations the bucket has moved this class up since its last completion or plan of its own
   * (`bucketAhead`): bounded by MAX_BUCKET_AHEAD_MOVES, so a bucket that keeps being ahead fails the class.
   */
  bucketAheadMoves?: number | undefined;
}

/** Every event that can move a class. */
export type ClassEvent =
  /** The scanner or `flants enqueue` asked for the class. */
  | { type: 'enqueued' }
  /** A crawl began (any delivery of a crawl job). */
  | { type: 'crawlStarted' }
  /**
   * Playlists may still grow (no EXT-X-ENDLIST) and the grace period is not over: crawl again later.
   * The grace period counts from the class's end, or, without a plausible one, from its first wait
   * (`waitingSince`, written by the first `waiting` and kept until `planned`).
   */
  | { type: 'waiting' }
  /**
   * A crawl enumerated the class: its content id, chunk count and, for a forced copy, its request
   * time; `changedAt` when a change check (recheck) found the origin's files changed since the copy.
   */
  | {
      type: 'planned';
      planId: string;
      totalChunks: number;
      forcedAt?: string | undefined;
      changedAt?: string | undefined;
      /** The crawl was asked for by a transfer's PLAYLIST_CHANGED (counted by `replanRequested`); any other crawl ends a run of re-plans. */
      replan?: boolean | undefined;
    }
  /**
   * A transfer of generation `gen`, sent when the class had made `replans` re-plans in a row, found a
   * playlist naming other files than the plan and asks for a re-plan; `max` is REPLAN_MAX.
   */
  | { type: 'replanRequested'; gen: number; replans: number; max: number }
  /** A change check compared a COMPLETE generation with the origin (the result is bookkeeping only). */
  | { type: 'checked'; gen: number }
  /**
   * A transfer job of generation `gen` copied and verified every file of `chunk`. `planId`: the
   * job's plan, when known: a job sent before the ledger was reset may carry a generation number
   * the ledger has since given to another plan.
   */
  | { type: 'chunkCounted'; gen: number; chunk: number; planId?: string | undefined }
  /** A delivery of a chunk failed and SQS will deliver it again. */
  | { type: 'attemptFailed'; gen: number; chunk: number }
  /**
   * A chunk failed on its last delivery, or its last delivery began (`provisional`): recorded first so
   * that a crash, timeout or out-of-memory kill on that delivery still leaves the class FAILED.
   */
  | { type: 'chunkFailed'; gen: number; chunk: number; provisional?: boolean; planId?: string | undefined }
  /** A crawl failed for good (or its last delivery began: `provisional`). */
  | { type: 'crawlFailed'; provisional?: boolean }
  /**
   * A transfer job of generation `gen` was refused by the bucket: the key holds an object written by
   * generation `bucketGen`, newer than the job's (STALE_GENERATION).
   */
  | { type: 'bucketAhead'; gen: number; bucketGen: number };

/**
 * A condition on the stored record. Every field present must hold; the adapter writes each as one
 * clause of a DynamoDB ConditionExpression.
 */
export interface Guard {
  /** The record exists (true) or does not (false). */
  exists?: boolean;
  statusIn?: readonly ClassStatus[];
  statusNot?: readonly ClassStatus[];
  /** The current generation is exactly this one. */
  gen?: number;
  /** The current generation's plan is exactly this one (a generation number may be reused after a ledger reset). */
  planId?: string;
  /** `doneChunks < totalChunks - 1` ('notLast') or `doneChunks = totalChunks - 1` ('last'). */
  progress?: 'notLast' | 'last';
  /** Whether `chunk` is (true) or is not (false) in the failed set. */
  chunkFailed?: { chunk: number; is: boolean };
  /** The failed set has exactly this many chunks. */
  failedCount?: number;
  /**
   * The failed set has more than this many chunks: a redriven chunk that is not the last failed one
   * changes no status, so its count need not wait for the others' (thousands may be redriven at once).
   */
  failedAbove?: number;
  /** A crawl error stands (true) or does not (false). */
  crawlError?: boolean;
  /** Not every chunk of a planned generation is done (a fully copied plan is never failed). */
  notAllDone?: boolean;
  /** The chunk has no done record in the current generation (checked on the chunk item, in the same transaction). */
  chunkUndone?: number;
  /** The class has made exactly this many re-plans in a row (absent counts as 0). */
  replans?: number;
}

/** What the write does beyond its counters; the adapter maps each field to its update clauses. */
export interface Effect {
  status?: ClassStatus;
  /**
   * Start a new generation (gen+1, or above what the bucket holds) with these totals (counters reset,
   * failures cleared). `cause` says what started it: other content, a newer forced copy, a change
   * check that found the origin changed, or a bucket holding a newer generation than the ledger.
   */
  newGeneration?: {
    gen: number;
    planId: string;
    totalChunks: number;
    forcedAt?: string | undefined;
    changedAt?: string | undefined;
    cause: GenerationCause;
  };
  /** Count the chunk (chunk record written in the same transaction). */
  count?: { chunk: number };
  /** Add (or re-state) the chunk in the failed set. */
  fail?: { chunk: number; provisional: boolean };
  /** Take the chunk out of the failed set (a redriven chunk that was copied). */
  unfail?: { chunk: number };
  /** Mark the generation complete: sets completedGen, exactly once per generation. */
  complete?: { gen: number };
  setCrawlError?: boolean;
  clearCrawlError?: boolean;
  /** Set the count of re-plans in a row (0 ends a run). */
  replans?: number;
  /** Only bookkeeping (last attempt error, timestamps): no state the lifecycle reads changes. */
  noteOnly?: boolean;
}

/**
 * What started a generation: its content differs from the last plan's, a forced copy, a change
 * check, or the bucket holding objects of a newer generation than the ledger's (`bucketAhead`).
 */
export type GenerationCause = 'content' | 'forced' | 'changed' | 'bucketAhead';

/**
 * Times the bucket may move a class's generation up (`bucketAhead`) before the class fails instead:
 * after a ledger restored or recreated below the bucket one move (rarely two) is enough; more means
 * something keeps writing newer generations under the prefix (another stage on the same DEST_PREFIX).
 */
export const MAX_BUCKET_AHEAD_MOVES = 4;

export type Decision =
  | { kind: 'apply'; guard: Guard; effect: Effect }
  /** Nothing to write; `why` says which rule refused, for the caller's outcome and logs. */
  | { kind: 'skip'; why: SkipWhy };

export type SkipWhy =
  | 'exists'
  | 'complete'
  | 'stale'
  | 'duplicate'
  | 'same-plan'
  | 'chunk-failed-already'
  | 'all-done'
  | 'chunk-done'
  | 'no-record'
  | 'not-complete'
  /** A bucket answer that is not ahead of the ledger's current generation: the job was merely stale. */
  | 'not-ahead';

/** Transitions of the stored status that the lifecycle can make, by event (for docs and tests). */
export const TRANSITIONS: Record<ClassEvent['type'], ReadonlyArray<readonly [ClassStatus | 'none', ClassStatus]>> = {
  enqueued: [['none', 'PENDING']],
  crawlStarted: [
    ['none', 'CRAWLING'],
    ['PENDING', 'CRAWLING'],
    ['FAILED', 'CRAWLING'],
    ['CRAWLING', 'CRAWLING'],
  ],
  waiting: [
    ['none', 'PENDING'],
    ['PENDING', 'PENDING'],
    ['CRAWLING', 'PENDING'],
    ['FAILED', 'PENDING'],
  ],
  planned: [
    ['none', 'TRANSFERRING'],
    ['PENDING', 'TRANSFERRING'],
    ['CRAWLING', 'TRANSFERRING'],
    ['TRANSFERRING', 'TRANSFERRING'],
    ['FAILED', 'TRANSFERRING'],
    ['CRAWLING', 'FAILED'],
    ['FAILED', 'FAILED'],
    ['TRANSFERRING', 'FAILED'],
    ['PENDING', 'FAILED'],
    ['COMPLETE', 'TRANSFERRING'],
    ['none', 'COMPLETE'],
    ['PENDING', 'COMPLETE'],
    ['CRAWLING', 'COMPLETE'],
    ['TRANSFERRING', 'COMPLETE'],
    ['FAILED', 'COMPLETE'],
    ['COMPLETE', 'COMPLETE'],
  ],
  chunkCounted: [
    ['TRANSFERRING', 'TRANSFERRING'],
    ['TRANSFERRING', 'COMPLETE'],
    ['FAILED', 'FAILED'],
    ['FAILED', 'TRANSFERRING'],
    ['FAILED', 'COMPLETE'],
    ['CRAWLING', 'CRAWLING'],
    ['CRAWLING', 'COMPLETE'],
    ['PENDING', 'PENDING'],
    ['PENDING', 'COMPLETE'],
  ],
  attemptFailed: [
    ['PENDING', 'PENDING'],
    ['CRAWLING', 'CRAWLING'],
    ['TRANSFERRING', 'TRANSFERRING'],
    ['FAILED', 'FAILED'],
  ],
  chunkFailed: [
    ['PENDING', 'FAILED'],
    ['CRAWLING', 'FAILED'],
    ['TRANSFERRING', 'FAILED'],
    ['FAILED', 'FAILED'],
  ],
  // Counting a re-plan changes no status; the one past REPLAN_MAX fails the class.
  replanRequested: [
    ['PENDING', 'FAILED'],
    ['CRAWLING', 'FAILED'],
    ['TRANSFERRING', 'FAILED'],
    ['FAILED', 'FAILED'],
  ],
  crawlFailed: [
    ['none', 'FAILED'],
    ['PENDING', 'FAILED'],
    ['CRAWLING', 'FAILED'],
    ['TRANSFERRING', 'FAILED'],
    ['FAILED', 'FAILED'],
  ],
  // Bookkeeping on a COMPLETE generation: never a status change.
  checked: [],
  bucketAhead: [
    ['PENDING', 'TRANSFERRING'],
    ['CRAWLING', 'TRANSFERRING'],
    ['TRANSFERRING', 'TRANSFERRING'],
    ['FAILED', 'TRANSFERRING'],
    ['PENDING', 'FAILED'],
    ['CRAWLING', 'FAILED'],
    ['TRANSFERRING', 'FAILED'],
    ['FAILED', 'FAILED'],
  ],
};

const NOT_COMPLETE: readonly ClassStatus[] = ['COMPLETE'];

/** A forced request starts a new generation only if it is newer than the one that started the current one. */
export function isNewForce(state: ClassState, forcedAt: string | undefined): boolean {
  return forcedAt !== undefined && (state.forcedAt === undefined || forcedAt > state.forcedAt);
}

/**
 * A change check's finding starts a new generation only if it is newer than the one that started the
 * current generation (a redelivered check of a generation it already replaced changes nothing).
 */
export function isNewChange(state: ClassState, changedAt: string | undefined): boolean {
  return changedAt !== undefined && (state.changedAt === undefined || changedAt > state.changedAt);
}

/** Whether a job's plan (when it names one) is the current generation's. */
function samePlanAs(state: ClassState, planId: string | undefined): boolean {
  return planId === undefined || state.planId === planId;
}

/** How many chunks of the current generation are failed. */
export function failedCountOf(state: ClassState): number {
  return state.failedCount ?? state.failed.length;
}

/** The status a planned generation has when nothing else decides it. */
function plannedStatus(failedCount: number, crawlError: boolean): ClassStatus {
  return failedCount > 0 || crawlError ? 'FAILED' : 'TRANSFERRING';
}

/** Decides what an event does to a class in `state`: the guard the write must hold, and its effect. */
export function decide(state: ClassState, event: ClassEvent): Decision {
  const exists = state.status !== undefined;
  const complete = state.status === 'COMPLETE';
  switch (event.type) {
    case 'enqueued':
      // Never downgrades: only a class with no record becomes PENDING.
      return exists
        ? { kind: 'skip', why: 'exists' }
        : { kind: 'apply', guard: { exists: false }, effect: { status: 'PENDING' } };

    case 'crawlStarted':
      if (complete) return { kind: 'skip', why: 'complete' };
      // A re-crawl of a class whose plan is being copied resumes it: nothing visible changes.
      if (state.status === 'TRANSFERRING') return { kind: 'skip', why: 'same-plan' };
      return { kind: 'apply', guard: { statusNot: ['COMPLETE', 'TRANSFERRING'] }, effect: { status: 'CRAWLING' } };

    case 'waiting':
      if (complete) return { kind: 'skip', why: 'complete' };
      if (state.status === 'TRANSFERRING') return { kind: 'skip', why: 'same-plan' };
      return {
        kind: 'apply',
        guard: { statusNot: ['COMPLETE', 'TRANSFERRING'] },
        effect: { status: 'PENDING', clearCrawlError: true },
      };

    case 'planned': {
      // A crawl no transfer asked for (a scan, an enqueue, a redrive, a forced copy, a change check) ends a run of re-plans.
      const endRun: Effect = !event.replan && (state.replans ?? 0) > 0 ? { replans: 0 } : {};
      const forceNew = isNewForce(state, event.forcedAt);
      // Only a COMPLETE class is ever checked for changes; a class still being copied reads the origin as it is now.
      const changeNew = complete && isNewChange(state, event.changedAt);
      const samePlan = state.gen > 0 && state.planId === event.planId && !forceNew && !changeNew;
      if (samePlan) {
        if (complete) return { kind: 'skip', why: 'complete' };
        // Resume: counters kept, the status says what the plan's own chunks say.
        const status = state.doneChunks >= state.totalChunks ? 'COMPLETE' : plannedStatus(failedCountOf(state), false);
        if (status === 'COMPLETE') {
          return {
            kind: 'apply',
            guard: { gen: state.gen, statusNot: NOT_COMPLETE },
            effect: { status, complete: { gen: state.gen }, clearCrawlError: true, ...endRun },
          };
        }
        return {
          kind: 'apply',
          guard: { gen: state.gen, statusNot: NOT_COMPLETE, failedCount: failedCountOf(state) },
          effect: { status, clearCrawlError: true, ...endRun },
        };
      }
      // COMPLETE is final for its generation: only a newer forced copy, or a newer change found by a
      // change check, starts another (gen only moves forward, so the guard `gen = g` pins the COMPLETE seen).
      if (complete && !forceNew && !changeNew) return { kind: 'skip', why: 'complete' };
      const gen = state.gen + 1;
      const cause: GenerationCause = forceNew ? 'forced' : changeNew ? 'changed' : 'content';
      return {
        kind: 'apply',
        guard: { gen: state.gen, ...(complete ? {} : { statusNot: NOT_COMPLETE }) },
        effect: {
          status: event.totalChunks === 0 ? 'COMPLETE' : 'TRANSFERRING',
          newGeneration: {
            gen,
            planId: event.planId,
            totalChunks: event.totalChunks,
            forcedAt: forceNew ? event.forcedAt : state.forcedAt,
            changedAt: changeNew ? event.changedAt : state.changedAt,
            cause,
          },
          clearCrawlError: true,
          ...(event.totalChunks === 0 ? { complete: { gen } } : {}),
          ...endRun,
        },
      };
    }

    case 'replanRequested': {
      if (!exists) return { kind: 'skip', why: 'no-record' };
      if (complete) return { kind: 'skip', why: 'complete' };
      const replans = state.replans ?? 0;
      // Another chunk of the same round asked first (one re-plan per round, however many chunks saw
      // the change), or a newer plan was made since: its jobs were sent, this request is spent.
      if (event.gen !== state.gen || event.replans !== replans) return { kind: 'skip', why: 'stale' };
      const guard: Guard = { gen: state.gen, statusNot: NOT_COMPLETE, replans };
      // A playlist that names other files every time it is read can never be copied: stop, and say which.
      if (replans >= event.max)
        return {
          kind: 'apply',
          guard: { ...guard, notAllDone: true },
          effect: { status: 'FAILED', setCrawlError: true, replans: replans + 1 },
        };
      return { kind: 'apply', guard, effect: { replans: replans + 1 } };
    }

    case 'chunkCounted': {
      if (!exists) return { kind: 'skip', why: 'no-record' };
      if (event.gen !== state.gen || !samePlanAs(state, event.planId)) return { kind: 'skip', why: 'stale' };
      if (complete || state.doneChunks >= state.totalChunks || state.doneIds?.includes(event.chunk))
        return { kind: 'skip', why: 'duplicate' };
      const wasFailed = state.failed.includes(event.chunk);
      const last = state.doneChunks + 1 === state.totalChunks;
      const guard: Guard = {
        gen: state.gen,
        ...(event.planId !== undefined ? { planId: event.planId } : {}),
        progress: last ? 'last' : 'notLast',
        chunkFailed: { chunk: event.chunk, is: wasFailed },
        chunkUndone: event.chunk,
        // Whether this count changes the status depends on the failed set, the crawl error and the status:
        // pin them when it is the last failed chunk; while others stay failed it changes no status.
        ...(wasFailed
          ? failedCountOf(state) > 1
            ? { failedAbove: 1 }
            : {
                failedCount: failedCountOf(state),
                crawlError: Boolean(state.crawlError),
                ...(exists ? { statusIn: [state.status!] } : {}),
              }
          : {}),
      };
      const effect: Effect = {
        count: { chunk: event.chunk },
        ...(wasFailed ? { unfail: { chunk: event.chunk } } : {}),
      };
      if (last) {
        // Done chunks and failed chunks never overlap, so the last chunk leaves no failure behind.
        return {
          kind: 'apply',
          guard,
          effect: { ...effect, status: 'COMPLETE', complete: { gen: state.gen }, clearCrawlError: true },
        };
      }
      if (wasFailed && state.status === 'FAILED' && failedCountOf(state) === 1 && !state.crawlError) {
        return { kind: 'apply', guard, effect: { ...effect, status: 'TRANSFERRING' } };
      }
      return { kind: 'apply', guard, effect };
    }

    case 'attemptFailed':
      if (!exists) return { kind: 'skip', why: 'no-record' };
      if (event.gen !== state.gen) return { kind: 'skip', why: 'stale' };
      if (complete) return { kind: 'skip', why: 'complete' };
      return { kind: 'apply', guard: { gen: state.gen, statusNot: NOT_COMPLETE }, effect: { noteOnly: true } };

    case 'chunkFailed':
      if (!exists) return { kind: 'skip', why: 'no-record' };
      if (event.gen !== state.gen || !samePlanAs(state, event.planId)) return { kind: 'skip', why: 'stale' };
      if (complete) return { kind: 'skip', why: 'complete' };
      // A chunk another delivery counted is not failed, whatever this delivery saw.
      if (state.doneIds?.includes(event.chunk)) return { kind: 'skip', why: 'chunk-done' };
      if (state.failed.includes(event.chunk) && event.provisional) return { kind: 'skip', why: 'chunk-failed-already' };
      return {
        kind: 'apply',
        guard: {
          gen: state.gen,
          ...(event.planId !== undefined ? { planId: event.planId } : {}),
          statusNot: NOT_COMPLETE,
          chunkFailed: { chunk: event.chunk, is: state.failed.includes(event.chunk) },
          chunkUndone: event.chunk,
        },
        effect: { status: 'FAILED', fail: { chunk: event.chunk, provisional: event.provisional ?? false } },
      };

    case 'checked':
      if (!exists) return { kind: 'skip', why: 'no-record' };
      if (event.gen !== state.gen) return { kind: 'skip', why: 'stale' };
      if (!complete) return { kind: 'skip', why: 'not-complete' };
      return { kind: 'apply', guard: { gen: state.gen, statusIn: ['COMPLETE'] }, effect: { noteOnly: true } };

    case 'bucketAhead': {
      if (!exists || state.gen === 0) return { kind: 'skip', why: 'no-record' };
      if (complete) return { kind: 'skip', why: 'complete' };
      // Objects are written with their job's generation, never above the ledger's: an object newer
      // than the ledger's current generation means the ledger lost generations (restored, recreated)
      // or something else writes the prefix. Anything else is a job older than the ledger: only stale.
      if (event.bucketGen <= state.gen) return { kind: 'skip', why: 'not-ahead' };
      const guard: Guard = { gen: state.gen, statusNot: NOT_COMPLETE };
      if ((state.bucketAheadMoves ?? 0) >= MAX_BUCKET_AHEAD_MOVES)
        return { kind: 'apply', guard, effect: { status: 'FAILED', setCrawlError: true } };
      // The same plan again, above every generation the bucket was seen to hold: generations only move forward.
      return {
        kind: 'apply',
        guard,
        effect: {
          status: 'TRANSFERRING',
          newGeneration: {
            gen: event.bucketGen + 1,
            planId: state.planId ?? '',
            totalChunks: state.totalChunks,
            forcedAt: state.forcedAt,
            changedAt: state.changedAt,
            cause: 'bucketAhead',
          },
          clearCrawlError: true,
          // A generation the bucket forced is not a re-plan: it starts its own run of them, or a class that
          // failed for its re-plans would be moving again with its count past the limit (only FAILED may be).
          ...((state.replans ?? 0) > 0 ? { replans: 0 } : {}),
        },
      };
    }

    case 'crawlFailed':
      if (complete) return { kind: 'skip', why: 'complete' };
      if (state.gen > 0 && state.doneChunks >= state.totalChunks) return { kind: 'skip', why: 'all-done' };
      return {
        kind: 'apply',
        guard: { statusNot: NOT_COMPLETE, notAllDone: true },
        effect: { status: 'FAILED', setCrawlError: true },
      };
  }
}

/** Whether a guard holds for a state: the meaning the adapter's condition expressions implement. */
export function holds(guard: Guard, state: ClassState): boolean {
  const exists = state.status !== undefined;
  if (guard.exists !== undefined && guard.exists !== exists) return false;
  if (guard.statusIn && !(state.status !== undefined && guard.statusIn.includes(state.status))) return false;
  // A missing record has no status, so it is "not" any of them (DynamoDB's `<>` on a missing attribute is true).
  if (guard.statusNot && state.status !== undefined && guard.statusNot.includes(state.status)) return false;
  if (guard.gen !== undefined && state.gen !== guard.gen) return false;
  if (guard.planId !== undefined && state.planId !== guard.planId) return false;
  if (guard.progress === 'notLast' && !(state.doneChunks < state.totalChunks - 1)) return false;
  if (guard.progress === 'last' && state.doneChunks !== state.totalChunks - 1) return false;
  if (guard.chunkFailed && state.failed.includes(guard.chunkFailed.chunk) !== guard.chunkFailed.is) return false;
  if (guard.failedCount !== undefined && failedCountOf(state) !== guard.failedCount) return false;
  if (guard.failedAbove !== undefined && !(failedCountOf(state) > guard.failedAbove)) return false;
  if (guard.crawlError !== undefined && Boolean(state.crawlError) !== guard.crawlError) return false;
  if (guard.notAllDone && state.gen > 0 && state.doneChunks >= state.totalChunks) return false;
  if (guard.chunkUndone !== undefined && state.doneIds?.includes(guard.chunkUndone)) return false;
  if (guard.replans !== undefined && (state.replans ?? 0) !== guard.replans) return false;
  return true;
}

/** Applies a decision's effect to a state: the model of the adapter's write, used by tests and docs. */
export function apply(state: ClassState, effect: Effect, crawlError = 'error'): ClassState {
  let next: ClassState = { ...state, failed: [...state.failed] };
  if (effect.newGeneration) {
    const g = effect.newGeneration;
    next = {
      ...next,
      gen: g.gen,
      planId: g.planId,
      totalChunks: g.totalChunks,
      forcedAt: g.forcedAt,
      changedAt: g.changedAt,
      doneChunks: 0,
      failed: [],
      ...(next.failedCount !== undefined ? { failedCount: 0 } : {}),
      ...(next.doneIds ? { doneIds: [] } : {}),
      // Moves the bucket forced are counted until the class completes or plans for a reason of its own.
      bucketAheadMoves: g.cause === 'bucketAhead' ? (state.bucketAheadMoves ?? 0) + 1 : undefined,
    };
  }
  if (effect.count) {
    next.doneChunks += 1;
    if (next.doneIds) next.doneIds = [...next.doneIds, effect.count.chunk];
  }
  if (effect.unfail) {
    if (next.failedCount !== undefined && next.failed.includes(effect.unfail.chunk)) next.failedCount -= 1;
    next.failed = next.failed.filter((c) => c !== effect.unfail!.chunk);
  }
  if (effect.fail && !next.failed.includes(effect.fail.chunk)) {
    if (next.failedCount !== undefined) next.failedCount += 1;
    next.failed = [...next.failed, effect.fail.chunk];
  }
  if (effect.replans !== undefined) next.replans = effect.replans;
  if (effect.complete) {
    next.completedGen = effect.complete.gen;
    // A generation copied ends any run of re-plans.
    next.replans = 0;
    next.bucketAheadMoves = undefined;
  }
  if (effect.clearCrawlError) next.crawlError = undefined;
  if (effect.setCrawlError) next.crawlError = crawlError;
  if (effect.status) next.status = effect.status;
  return next;
}

/** The empty state of a class with no record. */
export const NO_RECORD: ClassState = { status: undefined, gen: 0, totalChunks: 0, doneChunks: 0, failed: [] };
