// The ledger's translation of lifecycle decisions into DynamoDB expressions (src/adapters/dynamodb/ledger-expressions.ts),
// held to the pure lifecycle against the real local DynamoDB (dynoxide): for generated records and
// guards a conditional write succeeds exactly when `holds(guard, state)` says so, and a decision's
// effect written through DynamoDB reads back as what the lifecycle's `apply` makes of the state. This
// file is the mutation target `ledger-expressions` (docs/testing.md).
import { randomBytes } from 'node:crypto';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apply,
  CLASS_STATUSES,
  decide,
  failedCountOf,
  holds,
  type ClassEvent,
  type ClassState,
  type Effect,
  type Guard,
} from '../../../src/domain/lifecycle/class-lifecycle.ts';
import { effectUpdate, Expr, guardCondition } from '../../../src/adapters/dynamodb/ledger-expressions.ts';
import { cutUtf8, MAX_NOTE_BYTES } from '../../../src/adapters/dynamodb/ledger-items.ts';
import { startTestStack, type TestStack } from '../../helpers/stack.ts';
import { secondsBetween } from '../../../src/domain/lifecycle/class-dates.ts';

let t: TestStack;
const table = `expr-${randomBytes(3).toString('hex')}`;
const RUNS = Number(process.env.FLANTS_EXPR_RUNS ?? 100);

beforeAll(async () => {
  t = await startTestStack({ services: ['dynamodb'] });
  await t.aws.ddb.send(
    new CreateTableCommand({
      TableName: table,
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}, 120_000);
afterAll(async () => t?.stop());

type Item = Record<string, unknown>;

const TIMES = ['2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z'];
/** When every write of this file happens. */
const AT = '2026-04-01T00:00:00.000Z';
const LONG = `origin answered HTTP 503 ${'é'.repeat(1500)}`;

/** A class as the lifecycle sees it, and how the ledger stored it. */
interface Stored {
  state: ClassState;
  /** The failed entries live in a chunk-state item (chunks past the class record's share), not on the class record. */
  split: boolean;
  meta: Item | undefined;
  /** The chunk-state item, when one was written. */
  stateItem: Item | undefined;
}

/**
 * Generated class records. `terse`: zero counters and empty maps left out, as records written before
 * those attributes (or never planned) have them; every condition must read a missing one as zero.
 */
const rawArb = fc.record({
  exists: fc.boolean(),
  status: fc.constantFrom(...CLASS_STATUSES),
  gen: fc.integer({ min: 0, max: 3 }),
  planId: fc.constantFrom('p1', 'p2'),
  total: fc.integer({ min: 1, max: 4 }),
  done: fc.integer({ min: 0, max: 4 }),
  failed: fc.subarray([0, 1, 2, 3]),
  forcedAt: fc.option(fc.constantFrom(...TIMES), { nil: undefined }),
  changedAt: fc.option(fc.constantFrom(...TIMES), { nil: undefined }),
  crawlError: fc.option(fc.constantFrom('origin down', 'playlist changed'), { nil: undefined }),
  replans: fc.integer({ min: 0, max: 3 }),
  completedGen: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  bucketAheadMoves: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
  freshFrom: fc.option(fc.constantFrom(...TIMES), { nil: undefined }),
  terse: fc.boolean(),
  split: fc.boolean(),
});
type Raw = typeof rawArb extends fc.Arbitrary<infer R> ? R : never;

function storedOf(r: Raw): Stored {
  const pk = `CLASS#${randomBytes(6).toString('hex')}`;
  if (!r.exists)
    return {
      state: { status: undefined, gen: 0, totalChunks: 0, doneChunks: 0, failed: [], failedCount: 0 },
      split: r.split,
      meta: undefined,
      stateItem: undefined,
    };
  const planned = r.gen > 0;
  const totalChunks = planned ? r.total : 0;
  const doneChunks = Math.min(r.done, totalChunks);
  const failed = planned ? r.failed.filter((c) => c < totalChunks) : [];
  const state: ClassState = {
    status: r.status,
    gen: r.gen,
    planId: planned ? r.planId : undefined,
    forcedAt: r.forcedAt,
    changedAt: r.changedAt,
    totalChunks,
    doneChunks,
    failed,
    failedCount: failed.length,
    crawlError: r.crawlError,
    completedGen: r.completedGen,
    replans: r.replans,
    bucketAheadMoves: r.bucketAheadMoves,
  };
  const map = Object.fromEntries(failed.map((c) => [String(c), 2]));
  const keep = (v: number) => !r.terse || v !== 0;
  const meta: Item = {
    pk,
    sk: 'META',
    status: r.status,
    ...(keep(r.gen) ? { gen: r.gen } : {}),
    ...(planned
      ? { planId: r.planId, totalChunks, doneChunks, lastChunk: totalChunks - 1, doneFiles: 7, doneBytes: 700 }
      : {}),
    ...(keep(failed.length) ? { failedChunks: failed.length } : {}),
    ...(planned && !r.split && (failed.length > 0 || !r.terse) ? { failed: map } : {}),
    ...(planned && r.split && !r.terse ? { failed: {} } : {}),
    ...(r.crawlError ? { crawlError: r.crawlError } : {}),
    ...(keep(r.replans) ? { replans: r.replans } : {}),
    ...(r.completedGen !== undefined ? { completedGen: r.completedGen } : {}),
    ...(r.bucketAheadMoves !== undefined ? { bucketAheadMoves: r.bucketAheadMoves } : {}),
    ...(r.forcedAt ? { forcedAt: r.forcedAt } : {}),
    ...(r.changedAt ? { changedAt: r.changedAt } : {}),
    ...(r.freshFrom ? { freshFrom: r.freshFrom } : {}),
    // What a generation's bookkeeping leaves on a record: a new generation clears it.
    goneCount: 1,
    goneKeys: ['a/gone.ts'],
    doneSet: new Set([0]),
    completedAt: TIMES[0],
    freshnessSeconds: 5,
    lastAttemptError: 'chunk 0: reset',
    lastAttemptAt: TIMES[0],
    failedAttempts: 2,
    waiting: 'playlists still growing',
    waitUntil: TIMES[2],
    warnings: ['copied without EXT-X-ENDLIST'],
    failReasons: { '0': 'HTTP 404' },
    crawledAt: TIMES[0],
    updatedAt: TIMES[0],
  };
  const stateItem =
    planned && r.split && (failed.length > 0 || !r.terse) ? { ...stateKey(pk, r.gen), failed: map } : undefined;
  return { state, split: r.split, meta, stateItem };
}
const storedArb: fc.Arbitrary<Stored> = rawArb.map(storedOf);

/** A planned class of two chunks, one done, as `storedOf` stores it; `r` changes what it says. */
const example = (r: Partial<Raw>): Stored =>
  storedOf({
    exists: true,
    status: 'TRANSFERRING',
    gen: 1,
    planId: 'p1',
    total: 2,
    done: 1,
    failed: [],
    forcedAt: undefined,
    changedAt: undefined,
    crawlError: undefined,
    replans: 0,
    completedGen: undefined,
    bucketAheadMoves: undefined,
    freshFrom: TIMES[0],
    terse: false,
    split: false,
    ...r,
  });

/** A guard of up to three fields, each the state's own value or another: guards that hold and guards that refuse. */
function guardArb(st: ClassState): fc.Arbitrary<Guard> {
  const or = <T>(own: T, other: fc.Arbitrary<T>) => fc.oneof(fc.constant(own), other);
  const statuses = fc.subarray([...CLASS_STATUSES], { minLength: 1 });
  const fields = {
    exists: fc.boolean(),
    statusIn: st.status ? fc.oneof(statuses, fc.constant([st.status])) : statuses,
    statusNot: st.status ? fc.oneof(statuses, fc.constant([st.status])) : statuses,
    gen: or(st.gen, fc.integer({ min: 0, max: 3 })),
    planId: or(st.planId ?? 'p1', fc.constantFrom('p1', 'p2')),
    progress: fc.constantFrom('notLast' as const, 'last' as const),
    chunkFailed: fc.record({ chunk: fc.integer({ min: 0, max: 3 }), is: fc.boolean() }),
    failedCount: or(failedCountOf(st), fc.integer({ min: 0, max: 3 })),
    failedAbove: or(Math.max(0, failedCountOf(st) - 1), fc.integer({ min: 0, max: 2 })),
    crawlError: fc.boolean(),
    notAllDone: fc.boolean(),
    replans: or(st.replans ?? 0, fc.integer({ min: 0, max: 3 })),
  };
  const keys = Object.keys(fields) as Array<keyof typeof fields>;
  return fc
    .tuple(fc.subarray(keys, { minLength: 0, maxLength: 3 }), fc.record(fields))
    .map(([chosen, all]) => Object.fromEntries(chosen.map((k) => [k, all[k]])) as Guard);
}

async function store(s: Stored): Promise<void> {
  if (s.meta) await t.aws.ddb.send(new PutCommand({ TableName: table, Item: s.meta }));
  if (s.stateItem) await t.aws.ddb.send(new PutCommand({ TableName: table, Item: s.stateItem }));
}

const keyOf = (s: Stored) => ({ pk: String(s.meta?.pk ?? `CLASS#${randomBytes(6).toString('hex')}`), sk: 'META' });
/** The chunk-state item of a generation (its first past the class record's share): one generation's failures never reach another's. */
const stateKey = (pk: string, gen: number) => ({ pk, sk: `STATE#${String(gen).padStart(6, '0')}#000001` });

/** True when DynamoDB refused the write for its condition; any other error (a malformed expression) fails the test. */
function refused(err: unknown): boolean {
  const name = (err as Error).name;
  if (name === 'ConditionalCheckFailedException') return true;
  const reasons = (err as { CancellationReasons?: Array<{ Code?: string }> }).CancellationReasons;
  if (name === 'TransactionCanceledException' && reasons?.some((r) => r.Code === 'ConditionalCheckFailed')) return true;
  throw err;
}

/**
 * Writes the class record (and the chunk-state item, when `s` is a separate builder with clauses of
 * its own) as the ledger does: one update, or one transaction of both.
 */
async function write(key: { pk: string; sk: string }, gen: number, e: Expr, s: Expr): Promise<boolean> {
  const metaUpdate = {
    TableName: table,
    Key: key,
    UpdateExpression: e.update(),
    ...(e.condition() ? { ConditionExpression: e.condition() } : {}),
    ...e.params(),
  };
  try {
    if (s === e || (s.update() === '' && s.condition() === undefined)) {
      await t.aws.ddb.send(new UpdateCommand(metaUpdate));
    } else if (s.update() === '') {
      await t.aws.ddb.send(
        new TransactWriteCommand({
          TransactItems: [
            { Update: metaUpdate },
            {
              ConditionCheck: {
                TableName: table,
                Key: stateKey(key.pk, gen),
                ConditionExpression: s.condition()!,
                ...s.params(),
              },
            },
          ],
        }),
      );
    } else {
      await t.aws.ddb.send(
        new TransactWriteCommand({
          TransactItems: [
            { Update: metaUpdate },
            {
              Update: {
                TableName: table,
                Key: stateKey(key.pk, gen),
                UpdateExpression: s.update(),
                ...(s.condition() ? { ConditionExpression: s.condition() } : {}),
                ...s.params(),
              },
            },
          ],
        }),
      );
    }
    return true;
  } catch (err) {
    if (refused(err)) return false;
    throw err;
  }
}

/** The class record and its current generation's chunk-state item. */
async function read(key: { pk: string; sk: string }): Promise<{ meta: Item | undefined; stateItem: Item | undefined }> {
  const m = await t.aws.ddb.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
  const gen = Number(m.Item?.gen ?? 0);
  const s = await t.aws.ddb.send(
    new GetCommand({ TableName: table, Key: stateKey(key.pk, gen), ConsistentRead: true }),
  );
  return { meta: m.Item, stateItem: s.Item };
}

/** The stored record as the lifecycle's state, the failed set whole (class record and chunk-state item). */
function stateOf(meta: Item | undefined, stateItem: Item | undefined): ClassState {
  if (!meta) return { status: undefined, gen: 0, totalChunks: 0, doneChunks: 0, failed: [], failedCount: 0 };
  const failed = [meta.failed, stateItem?.failed].flatMap((m) =>
    m && typeof m === 'object' ? Object.keys(m).map(Number) : [],
  );
  return {
    status: meta.status as ClassState['status'],
    gen: Number(meta.gen ?? 0),
    planId: meta.planId as string | undefined,
    forcedAt: meta.forcedAt as string | undefined,
    changedAt: meta.changedAt as string | undefined,
    totalChunks: Number(meta.totalChunks ?? 0),
    doneChunks: Number(meta.doneChunks ?? 0),
    failed,
    failedCount: Number(meta.failedChunks ?? 0),
    crawlError: meta.crawlError as string | undefined,
    completedGen: meta.completedGen === undefined ? undefined : Number(meta.completedGen),
    replans: Number(meta.replans ?? 0),
    bucketAheadMoves: meta.bucketAheadMoves === undefined ? undefined : Number(meta.bucketAheadMoves),
  };
}

/** What two states must agree on (a missing re-plan count is 0; the failed set in any order). */
function comparable(s: ClassState): Record<string, unknown> {
  return {
    ...s,
    failed: [...s.failed].sort((a, b) => a - b),
    failedCount: failedCountOf(s),
    replans: s.replans ?? 0,
  };
}

describe('guards as DynamoDB conditions', () => {
  it('a conditional write succeeds exactly when the lifecycle says the guard holds, for generated records and guards', async () => {
    let held = 0;
    let refusedCount = 0;
    await fc.assert(
      fc.asyncProperty(
        storedArb.chain((s) => fc.tuple(fc.constant(s), guardArb(s.state))),
        async ([s, guard]) => {
          await store(s);
          const key = keyOf(s);
          const e = new Expr();
          const holder = s.split ? new Expr() : e;
          guardCondition(guard, e, holder);
          e.set.push(`probe = ${e.value(1)}`);
          const ok = await write(key, s.state.gen, e, holder);
          expect(ok, `guard ${JSON.stringify(guard)} on ${JSON.stringify(s.state)}`).toBe(holds(guard, s.state));
          if (ok) held++;
          else refusedCount++;
        },
      ),
      { numRuns: RUNS },
    );
    // Both answers were put to the test, not only one.
    expect(held).toBeGreaterThan(RUNS / 10);
    expect(refusedCount).toBeGreaterThan(RUNS / 10);
  });

  it('a guard of every field at once is one clause per field, all of which must hold', async () => {
    const s: ClassState = {
      status: 'TRANSFERRING',
      gen: 2,
      planId: 'p1',
      totalChunks: 3,
      doneChunks: 1,
      failed: [1],
      failedCount: 1,
      crawlError: undefined,
      replans: 1,
    };
    const guard: Guard = {
      exists: true,
      statusIn: ['TRANSFERRING', 'FAILED'],
      statusNot: ['COMPLETE'],
      gen: 2,
      planId: 'p1',
      progress: 'notLast',
      chunkFailed: { chunk: 1, is: true },
      failedCount: 1,
      failedAbove: 0,
      crawlError: false,
      notAllDone: true,
      replans: 1,
    };
    expect(holds(guard, s)).toBe(true);
    const e = new Expr();
    guardCondition(guard, e);
    expect(e.cond).toHaveLength(12);
    // Each field alone, made false, refuses the write.
    const pk = `CLASS#${randomBytes(6).toString('hex')}`;
    const meta: Item = {
      pk,
      sk: 'META',
      status: 'TRANSFERRING',
      gen: 2,
      planId: 'p1',
      totalChunks: 3,
      lastChunk: 2,
      doneChunks: 1,
      failed: { '1': 1 },
      failedChunks: 1,
      replans: 1,
    };
    await t.aws.ddb.send(new PutCommand({ TableName: table, Item: meta }));
    const tryWith = async (g: Guard) => {
      const x = new Expr();
      guardCondition(g, x);
      x.set.push(`probe = ${x.value(1)}`);
      return write({ pk, sk: 'META' }, 2, x, x);
    };
    expect(await tryWith(guard)).toBe(true);
    const wrong: Guard[] = [
      { exists: false },
      { statusIn: ['FAILED'] },
      { statusNot: ['TRANSFERRING'] },
      { gen: 1 },
      { planId: 'p2' },
      { progress: 'last' },
      { chunkFailed: { chunk: 1, is: false } },
      { failedCount: 2 },
      { failedAbove: 1 },
      { crawlError: true },
      { replans: 0 },
    ];
    for (const w of wrong) {
      expect(holds({ ...guard, ...w }, s), JSON.stringify(w)).toBe(false);
      expect(await tryWith({ ...guard, ...w }), JSON.stringify(w)).toBe(false);
    }
  });

  it('an empty guard writes no condition at all', () => {
    const e = new Expr();
    guardCondition({}, e);
    expect(e.condition()).toBeUndefined();
    expect(e.params()).toEqual({});
  });
});

/** Events aimed at a stored class: mostly its own generation and plan, so that most decisions apply. */
function eventArb(st: ClassState): fc.Arbitrary<ClassEvent> {
  const gen = fc.oneof(fc.constant(st.gen), fc.integer({ min: 0, max: 3 }));
  const chunk = fc.integer({ min: 0, max: 3 });
  const planId = fc.option(fc.constantFrom(st.planId ?? 'p1', 'p2'), { nil: undefined });
  const later = fc.option(fc.constantFrom(...TIMES, '2026-03-15T00:00:00.000Z'), { nil: undefined });
  return fc.oneof(
    fc.constant({ type: 'enqueued' as const }),
    fc.constant({ type: 'crawlStarted' as const }),
    fc.constant({ type: 'waiting' as const }),
    fc.record({
      type: fc.constant('planned' as const),
      planId: fc.constantFrom(st.planId ?? 'p1', 'p2', 'p3'),
      totalChunks: fc.integer({ min: 0, max: 4 }),
      forcedAt: later,
      changedAt: later,
      replan: fc.boolean(),
    }),
    fc.record({
      type: fc.constant('replanRequested' as const),
      gen,
      replans: fc.oneof(fc.constant(st.replans ?? 0), fc.integer({ min: 0, max: 3 })),
      max: fc.integer({ min: 1, max: 2 }),
    }),
    fc.record({ type: fc.constant('checked' as const), gen }),
    // The events with the most to write, most often.
    { weight: 4, arbitrary: fc.record({ type: fc.constant('chunkCounted' as const), gen, chunk, planId }) },
    fc.record({ type: fc.constant('attemptFailed' as const), gen, chunk }),
    {
      weight: 3,
      arbitrary: fc.record({
        type: fc.constant('chunkFailed' as const),
        gen,
        chunk,
        provisional: fc.boolean(),
        planId,
      }),
    },
    fc.record({ type: fc.constant('crawlFailed' as const), provisional: fc.boolean() }),
    fc.record({ type: fc.constant('bucketAhead' as const), gen, bucketGen: fc.integer({ min: 0, max: 6 }) }),
  );
}

/** Attributes a new generation removes, unless the same write sets them again. */
const CLEARED_BY_NEW_GENERATION = [
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
];

/**
 * Writes a decision the way the ledger does: its guard and effect, plus the clauses of the event
 * itself that the callers add (a counted chunk, a chunk newly failed).
 */
async function applyThroughDynamo(
  s: Stored,
  d: { guard: Guard; effect: Effect },
  crawlError: string | undefined,
): Promise<{ meta: Item | undefined; stateItem: Item | undefined; freshnessSeconds?: number }> {
  const key = keyOf(s);
  const e = new Expr();
  const holder = s.split ? new Expr() : e;
  guardCondition(d.guard, e, holder);
  const holderItem = s.split ? s.stateItem : s.meta;
  const createMap = !holderItem?.failed || typeof holderItem.failed !== 'object';
  const out = effectUpdate(
    d.effect,
    e,
    AT,
    {
      ...(crawlError !== undefined ? { crawlError } : {}),
      ...(d.effect.fail ? { failure: { files: 3, createMap } } : {}),
      freshFrom: s.meta?.freshFrom as string | undefined,
    },
    holder,
  );
  if (d.effect.count) e.add.push(`doneChunks ${e.value(1)}`);
  if (d.effect.fail && !d.guard.chunkFailed?.is) e.add.push(`failedChunks ${e.value(1)}`);
  expect(await write(key, s.state.gen, e, holder), 'the write of a decision made from the stored state').toBe(true);
  return { ...(await read(key)), ...out };
}

describe('effects as DynamoDB updates', () => {
  it('a decision written through DynamoDB reads back as the lifecycle applies it, for generated records and events', async () => {
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        storedArb.chain((s) =>
          fc.tuple(
            fc.constant(s),
            eventArb(s.state),
            fc.option(fc.constantFrom('origin down', LONG), { nil: undefined }),
          ),
        ),
        async ([s, event, crawlError]) => {
          const d = decide(s.state, event);
          // (A decision whose guard refuses the very state it was made from is never written: the
          // ledger's write is refused and it decides again. replanRequested on a FAILED generation
          // whose chunks are all done makes one; no write of the lifecycle leads to that state.)
          if (d.kind === 'skip' || !holds(d.guard, s.state)) return;
          for (const k of Object.keys(d.effect)) seen.add(k);
          if (d.effect.newGeneration) seen.add(`cause:${d.effect.newGeneration.cause}`);
          await store(s);
          const after = await applyThroughDynamo(s, d, crawlError);
          const expected = apply(s.state, d.effect, cutUtf8(crawlError ?? 'crawl failed', MAX_NOTE_BYTES));
          expect(
            comparable(stateOf(after.meta, after.stateItem)),
            `${JSON.stringify(event)} on ${JSON.stringify(s.state)}`,
          ).toEqual(comparable(expected));
          const m = after.meta!;
          expect(m.updatedAt).toBe(AT);
          const g = d.effect.newGeneration;
          let freshFrom = s.meta?.freshFrom;
          if (g) {
            expect(m).toMatchObject({
              lastChunk: g.totalChunks - 1,
              doneFiles: 0,
              doneBytes: 0,
              failReasons: {},
              crawledAt: AT,
            });
            for (const a of CLEARED_BY_NEW_GENERATION)
              if (!(d.effect.complete && (a === 'completedAt' || a === 'freshnessSeconds')))
                expect(m[a], `${a} after a new generation`).toBeUndefined();
            const started = g.cause === 'changed' ? g.changedAt : g.cause === 'forced' ? g.forcedAt : undefined;
            if (started) freshFrom = started;
          } else if (s.meta) {
            expect(m.lastAttemptAt).toBe(d.effect.complete ? undefined : TIMES[0]);
            expect(m.doneSet).toEqual(new Set([0]));
          }
          expect(m.freshFrom).toBe(freshFrom);
          if (d.effect.complete) {
            expect(m.completedAt).toBe(AT);
            expect(m.lastAttemptError).toBeUndefined();
            const seconds = secondsBetween(freshFrom as string | undefined, AT);
            // Without a start to count from, nothing is written (what a new generation removed stays removed).
            expect(m.freshnessSeconds).toBe(seconds ?? (g ? undefined : s.meta?.freshnessSeconds));
            expect(after.freshnessSeconds).toBe(seconds);
          } else {
            expect(after.freshnessSeconds).toBeUndefined();
            if (!g && s.meta) expect(m.completedAt).toBe(TIMES[0]);
          }
          if (d.effect.fail) {
            const holder = s.split ? after.stateItem : m;
            expect((holder?.failed as Item)[String(d.effect.fail.chunk)]).toBe(3);
          }
        },
      ),
      {
        numRuns: RUNS,
        // Rare draws, every time: each cause of a new generation, the last failed chunk counted, a crawl error cut.
        examples: (
          [
            [
              example({ status: 'COMPLETE', completedGen: 1, done: 2, changedAt: TIMES[0] }),
              { type: 'planned', planId: 'p1', totalChunks: 2, changedAt: TIMES[1] },
              undefined,
            ],
            [
              example({ forcedAt: TIMES[0] }),
              { type: 'planned', planId: 'p1', totalChunks: 3, forcedAt: TIMES[1] },
              undefined,
            ],
            [example({ bucketAheadMoves: 2, split: true }), { type: 'bucketAhead', gen: 1, bucketGen: 3 }, undefined],
            [
              example({ status: 'FAILED', failed: [1], split: true, done: 0 }),
              { type: 'chunkCounted', gen: 1, chunk: 1 },
              undefined,
            ],
            [
              example({ status: 'FAILED', failed: [1] }),
              { type: 'chunkCounted', gen: 1, chunk: 1, planId: 'p1' },
              undefined,
            ],
            [example({ replans: 2 }), { type: 'replanRequested', gen: 1, replans: 2, max: 2 }, LONG],
            [example({ replans: 1, terse: true }), { type: 'planned', planId: 'p1', totalChunks: 2 }, undefined],
            [example({ split: true, terse: true }), { type: 'chunkFailed', gen: 1, chunk: 1 }, undefined],
            [example({}), { type: 'attemptFailed', gen: 1, chunk: 1 }, undefined],
            [example({ failed: [0], split: true }), { type: 'planned', planId: 'p2', totalChunks: 4 }, undefined],
            [example({ status: 'CRAWLING', gen: 0, crawlError: 'origin down' }), { type: 'waiting' }, undefined],
            [example({ exists: false }), { type: 'enqueued' }, undefined],
            [example({ status: 'FAILED', gen: 0, terse: true }), { type: 'crawlFailed' }, 'origin down'],
          ] as Array<[Stored, ClassEvent, string | undefined]>
        ).map((x) => [x]),
      },
    );
    // Every kind of effect the lifecycle makes was written at least once.
    for (const k of [
      'status',
      'newGeneration',
      'count',
      'fail',
      'unfail',
      'complete',
      'setCrawlError',
      'clearCrawlError',
      'replans',
      'noteOnly',
      'cause:content',
      'cause:forced',
      'cause:changed',
      'cause:bucketAhead',
    ])
      expect(seen, k).toContain(k);
  });

  it('a failure entry in an item without a failed map creates the map, and only while no other write made one', async () => {
    const pk = `CLASS#${randomBytes(6).toString('hex')}`;
    await t.aws.ddb.send(
      new PutCommand({ TableName: table, Item: { pk, sk: 'META', status: 'TRANSFERRING', gen: 1 } }),
    );
    const failing = (createMap: boolean) => {
      const e = new Expr();
      effectUpdate({ fail: { chunk: 2, provisional: false } }, e, AT, { failure: { files: 4, createMap } });
      return e;
    };
    expect(await write({ pk, sk: 'META' }, 1, failing(true), failing(true))).toBe(true);
    expect((await read({ pk, sk: 'META' })).meta?.failed).toEqual({ '2': 4 });
    // The map exists now: creating it again would drop entries, so that write is refused.
    expect(await write({ pk, sk: 'META' }, 1, failing(true), failing(true))).toBe(false);
    // Without a failure entry to write, a fail effect writes none.
    const e = new Expr();
    effectUpdate({ fail: { chunk: 3, provisional: false } }, e, AT, {});
    expect(e.update()).not.toContain('failed');
  });

  it('a crawl error is written as given, cut to MAX_NOTE_BYTES, or says "crawl failed"', () => {
    const text = (crawlError: string | undefined) => {
      const e = new Expr();
      effectUpdate({ setCrawlError: true }, e, AT, crawlError === undefined ? {} : { crawlError });
      return Object.values(e.values).find((v) => typeof v === 'string' && v !== AT);
    };
    expect(text('origin down')).toBe('origin down');
    expect(text(undefined)).toBe('crawl failed');
    expect(Buffer.byteLength(String(text(LONG)))).toBeLessThanOrEqual(MAX_NOTE_BYTES);
    expect(text(LONG)).toBe(cutUtf8(LONG, MAX_NOTE_BYTES));
  });

  it('a forced or changed generation is as fresh as its request; freshness counts from there to completion', () => {
    const e = new Expr();
    const out = effectUpdate(
      {
        status: 'COMPLETE',
        newGeneration: {
          gen: 2,
          planId: 'p',
          totalChunks: 0,
          forcedAt: '2026-03-31T23:59:58.500Z',
          changedAt: TIMES[0],
          cause: 'forced',
        },
        complete: { gen: 2 },
      },
      e,
      AT,
      { freshFrom: TIMES[1] },
    );
    expect(out).toEqual({ freshnessSeconds: 1.5 });
    const changed = new Expr();
    const out2 = effectUpdate(
      {
        newGeneration: {
          gen: 2,
          planId: 'p',
          totalChunks: 1,
          forcedAt: TIMES[0],
          changedAt: '2026-03-31T23:00:00.000Z',
          cause: 'changed',
        },
        complete: { gen: 2 },
      },
      changed,
      AT,
      {},
    );
    expect(out2).toEqual({ freshnessSeconds: 3600 });
  });
});

describe('what a completion and a re-plan count write', () => {
  it('a completion with nothing to count freshness from writes no freshness and says none', () => {
    const e = new Expr();
    const out = effectUpdate({ status: 'COMPLETE', complete: { gen: 1 } }, e, AT, {});
    expect(Object.keys(out)).toEqual([]);
    expect(e.update()).not.toContain('freshnessSeconds');
    // A generation copied ends any run of re-plans.
    expect(e.update()).toMatch(/REMOVE .*\breplans\b/);
  });

  it('ending a run of re-plans removes the count (a record carries one only during a run); a run goes on with its count', () => {
    const ended = new Expr();
    effectUpdate({ replans: 0 }, ended, AT, {});
    expect(ended.update()).toMatch(/REMOVE .*\breplans\b/);
    expect(ended.update()).not.toMatch(/replans =/);
    const counting = new Expr();
    effectUpdate({ replans: 1 }, counting, AT, {});
    expect(counting.update()).toMatch(/SET .*replans = /);
    expect(counting.update()).not.toContain('REMOVE');
  });
});

describe('the expression builder', () => {
  it('names an attribute once, however often a clause asks; values are numbered apart', () => {
    const e = new Expr();
    const a = e.name('status');
    expect(e.name('gen')).not.toBe(a);
    expect(e.name('status')).toBe(a);
    expect(Object.keys(e.names)).toHaveLength(2);
    expect(e.value(1)).not.toBe(e.value(1));
  });

  it('a path set or added in the same update is not also removed; each clause kind appears once', () => {
    const e = new Expr();
    e.set.push('a = :x', 'b=:y');
    e.add.push('c :z');
    e.remove.push('a', 'b', 'c', 'd', 'd');
    expect(e.update()).toBe('SET a = :x, b=:y ADD c :z REMOVE d');
    const r = new Expr();
    r.remove.push('x');
    expect(r.update()).toBe('REMOVE x');
    const c = new Expr();
    c.cond.push('a', 'b OR c');
    expect(c.condition()).toBe('(a) AND (b OR c)');
  });
});

describe('secondsBetween', () => {
  it('counts seconds with millisecond precision, never below zero, and nothing without two dates', () => {
    expect(secondsBetween('2026-04-01T00:00:00.000Z', '2026-04-01T00:00:01.250Z')).toBe(1.25);
    expect(secondsBetween('2026-04-01T00:00:02.000Z', '2026-04-01T00:00:01.000Z')).toBe(0);
    expect(secondsBetween(undefined, AT)).toBeUndefined();
    expect(secondsBetween('not a date', AT)).toBeUndefined();
    expect(secondsBetween(AT, 'not a date')).toBeUndefined();
  });
});
