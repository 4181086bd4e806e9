// The ledger's translation of lifecycle decisions into DynamoDB expressions: a decision's guard as
// condition clauses, its effect as update clauses. Kept apart from the rest of the adapter so its
// own test (test/adapters/dynamodb/ledger-expressions.test.ts) can hold it to the pure lifecycle, clause by clause.
import type { Effect, Guard } from '../../domain/lifecycle/class-lifecycle.ts';
import { cutUtf8, MAX_NOTE_BYTES } from './ledger-items.ts';
import { secondsBetween } from '../../domain/lifecycle/class-dates.ts';

/** Builds DynamoDB update clauses; names and values are numbered so clauses never clash. */
export class Expr {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, unknown> = {};
  private n = 0;
  readonly set: string[] = [];
  readonly add: string[] = [];
  readonly remove: string[] = [];
  readonly cond: string[] = [];

  name(attr: string): string {
    const known = Object.entries(this.names).find(([, v]) => v === attr);
    if (known) return known[0];
    const k = `#n${this.n++}`;
    this.names[k] = attr;
    return k;
  }

  value(v: unknown): string {
    const k = `:v${this.n++}`;
    this.values[k] = v;
    return k;
  }

  update(): string {
    // A path may appear once per update: what is set or added wins over a removal of the same attribute.
    // Stryker disable next-line Regex: a clause's path never holds "=", so where the split ends after "=" changes nothing
    const written = new Set([...this.set, ...this.add].map((c) => c.split(/\s*=\s*|\s+/)[0]));
    const remove = [...new Set(this.remove)].filter((r) => !written.has(r));
    const parts: string[] = [];
    if (this.set.length) parts.push(`SET ${this.set.join(', ')}`);
    if (this.add.length) parts.push(`ADD ${this.add.join(', ')}`);
    if (remove.length) parts.push(`REMOVE ${remove.join(', ')}`);
    return parts.join(' ');
  }

  condition(): string | undefined {
    return this.cond.length ? this.cond.map((c) => `(${c})`).join(' AND ') : undefined;
  }

  /** Names and values, or nothing when empty (DynamoDB refuses empty maps). */
  params(): { ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Record<string, unknown> } {
    return {
      ...(Object.keys(this.names).length ? { ExpressionAttributeNames: this.names } : {}),
      ...(Object.keys(this.values).length ? { ExpressionAttributeValues: this.values } : {}),
    };
  }
}

/**
 * Writes a lifecycle guard as condition clauses: one clause per guard field, nothing else. The
 * chunk's failed entry is a clause of the item that holds it (`s`: the class record, or the chunk's
 * state item written in the same transaction).
 */
export function guardCondition(guard: Guard, e: Expr, holder: Expr = e): void {
  // Stryker disable next-line StringLiteral: without statusIn or statusNot the name is never used
  const s = guard.statusIn || guard.statusNot ? e.name('status') : '';
  if (guard.exists === true) e.cond.push('attribute_exists(pk)');
  if (guard.exists === false) e.cond.push('attribute_not_exists(pk)');
  if (guard.statusIn) e.cond.push(`${s} IN (${guard.statusIn.map((x) => e.value(x)).join(', ')})`);
  if (guard.statusNot)
    e.cond.push(`attribute_not_exists(${s}) OR NOT (${s} IN (${guard.statusNot.map((x) => e.value(x)).join(', ')}))`);
  if (guard.gen !== undefined) {
    e.cond.push(guard.gen === 0 ? `attribute_not_exists(gen) OR gen = ${e.value(0)}` : `gen = ${e.value(guard.gen)}`);
  }
  if (guard.planId !== undefined) e.cond.push(`planId = ${e.value(guard.planId)}`);
  if (guard.progress === 'notLast') e.cond.push('doneChunks < lastChunk');
  if (guard.progress === 'last') e.cond.push('doneChunks = lastChunk');
  if (guard.chunkFailed) {
    const path = `failed.${holder.name(String(guard.chunkFailed.chunk))}`;
    holder.cond.push(guard.chunkFailed.is ? `attribute_exists(${path})` : `attribute_not_exists(${path})`);
  }
  if (guard.failedCount !== undefined) {
    e.cond.push(
      guard.failedCount === 0
        ? `attribute_not_exists(failedChunks) OR failedChunks = ${e.value(0)}`
        : `failedChunks = ${e.value(guard.failedCount)}`,
    );
  }
  if (guard.failedAbove !== undefined) e.cond.push(`failedChunks > ${e.value(guard.failedAbove)}`);
  if (guard.crawlError !== undefined)
    e.cond.push(guard.crawlError ? 'attribute_exists(crawlError)' : 'attribute_not_exists(crawlError)');
  if (guard.notAllDone) e.cond.push(`attribute_not_exists(gen) OR gen = ${e.value(0)} OR doneChunks < totalChunks`);
  if (guard.replans !== undefined)
    e.cond.push(
      guard.replans === 0
        ? `attribute_not_exists(replans) OR replans = ${e.value(0)}`
        : `replans = ${e.value(guard.replans)}`,
    );
  // guard.chunkUndone is not a clause of the class record: it is the chunk item's own condition
  // (attribute_not_exists), written by countChunk and recordChunkFailure in the same transaction.
}

/** A chunk's failure as its state entry takes it: how many of its files failed. */
export interface FailureEntry {
  files: number;
  /** The item holding the entry has no `failed` map yet (a new chunk-state item): it is written whole. */
  createMap?: boolean;
}

/**
 * The lifecycle's effect as update clauses (what the event itself adds is written by the caller);
 * the chunk's failed entry goes to the item that holds it (`s`, the class record by default).
 */
export function effectUpdate(
  effect: Effect,
  e: Expr,
  at: string,
  extra: { crawlError?: string; failure?: FailureEntry; freshFrom?: string | undefined },
  s: Expr = e,
): { freshnessSeconds?: number } {
  let freshFrom = extra.freshFrom;
  if (effect.status) e.set.push(`${e.name('status')} = ${e.value(effect.status)}`);
  e.set.push(`updatedAt = ${e.value(at)}`);
  const g = effect.newGeneration;
  if (g) {
    const zero = e.value(0);
    e.set.push(
      `gen = ${e.value(g.gen)}`,
      `planId = ${e.value(g.planId)}`,
      `totalChunks = ${e.value(g.totalChunks)}`,
      `lastChunk = ${e.value(g.totalChunks - 1)}`,
      `doneChunks = ${zero}`,
      `doneFiles = ${zero}`,
      `doneBytes = ${zero}`,
      `failedChunks = ${zero}`,
      `failed = ${e.value({})}`,
      `failReasons = ${e.value({})}`,
      `crawledAt = ${e.value(at)}`,
    );
    if (g.forcedAt) e.set.push(`forcedAt = ${e.value(g.forcedAt)}`);
    if (g.changedAt) e.set.push(`changedAt = ${e.value(g.changedAt)}`);
    // A generation a forced copy or a change check started is as fresh as that request, not as the class's end.
    const started = g.cause === 'changed' ? g.changedAt : g.cause === 'forced' ? g.forcedAt : undefined;
    if (started) {
      e.set.push(`freshFrom = ${e.value(started)}`);
      freshFrom = started;
    }
    // Moves forced by the bucket are counted until the class completes or plans for a reason of its own.
    if (g.cause === 'bucketAhead') e.add.push(`bucketAheadMoves ${e.value(1)}`);
    else e.remove.push('bucketAheadMoves');
    // doneSet belongs to one generation, like the counters (an empty set cannot be stored: remove it);
    // so do the files its transfers found gone at the origin.
    e.remove.push(
      'goneCount',
      'goneKeys',
      'doneSet',
      'completedAt',
      'freshnessSeconds',
      'lastAttemptError',
      'lastAttemptAt',
      'failedAttempts',
      'waiting',
      'waitUntil',
      'warnings',
    );
  }
  if (effect.fail && extra.failure) {
    if (extra.failure.createMap) {
      // A path can be set only in a map that exists; the condition keeps a map written meanwhile.
      s.set.push(`failed = ${s.value({ [String(effect.fail.chunk)]: extra.failure.files })}`);
      s.cond.push('attribute_not_exists(failed)');
    } else s.set.push(`failed.${s.name(String(effect.fail.chunk))} = ${s.value(extra.failure.files)}`);
  }
  if (effect.unfail) {
    s.remove.push(`failed.${s.name(String(effect.unfail.chunk))}`);
    e.add.push(`failedChunks ${e.value(-1)}`);
  }
  let freshnessSeconds: number | undefined;
  if (effect.complete) {
    e.set.push(`completedGen = ${e.value(effect.complete.gen)}`, `completedAt = ${e.value(at)}`);
    e.remove.push('lastAttemptError', 'lastAttemptAt', 'bucketAheadMoves');
    // Freshness is written by the very write that completes the generation: exactly once, like COMPLETE.
    freshnessSeconds = secondsBetween(freshFrom, at);
    if (freshnessSeconds !== undefined) e.set.push(`freshnessSeconds = ${e.value(freshnessSeconds)}`);
  }
  if (effect.replans !== undefined) {
    if (effect.replans > 0) e.set.push(`replans = ${e.value(effect.replans)}`);
    else e.remove.push('replans');
  }
  // A generation copied ends any run of re-plans.
  if (effect.complete) e.remove.push('replans');
  if (effect.clearCrawlError) e.remove.push('crawlError');
  if (effect.setCrawlError)
    e.set.push(`crawlError = ${e.value(cutUtf8(extra.crawlError ?? 'crawl failed', MAX_NOTE_BYTES))}`);
  return freshnessSeconds === undefined ? {} : { freshnessSeconds };
}
