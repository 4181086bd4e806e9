import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { expect } from 'vitest';
import { volatilePlaylist } from '../../lab/origin-server.ts';
import { digestOfPlaylist } from '../../src/hls/reference-digest.ts';
import type { PlannedFile } from '../../src/hls/types.ts';
import { MAX_BUCKET_AHEAD_MOVES } from '../../src/domain/lifecycle/class-lifecycle.ts';
import { planIdOf } from '../../src/domain/planning/chunking.ts';
import { MAX_GONE_LISTED, type LandedFile } from '../../src/domain/ledger/records.ts';
import type { Ledger } from '../../src/domain/ports/ledger.ts';
import { mapLimit } from '../../src/util/concurrency.ts';
import type { LedgerSubject } from './ledger.contract.ts';

/**
 * The ledger's model (test/contracts/ledger.contract.ts runs it against every implementation):
 * random interleavings of crawls (same or changed content, another chunk size, forced), deliveries
 * (duplicate, concurrent, stale), failed attempts, final failures, crashes on the last delivery,
 * crawl failures and redrives, re-plans, files gone at the origin (kept, found by a change check or
 * by a transfer), a ledger reset below the bucket's generation (the table restored or recreated while
 * SQS still holds the old jobs) and bucket answers newer than the ledger, with the invariants checked
 * after every step. FLANTS_MODEL_RUNS sets the number of sequences (`npm run test:model` runs 10,000).
 *
 * Longer than ~400 lines: one model, its commands and the invariants they are checked against read
 * together.
 */

export const RUNS = Number(process.env.FLANTS_MODEL_RUNS ?? 1000);

interface Content {
  planId: string;
  files: LandedFile[];
  chunkSize: number;
}

const file = (key: string, bytes: number): LandedFile => ({ key, bytes, etag: `etag-${key}` });
const A = Array.from({ length: 6 }, (_, i) => file(`a/${i}.ts`, 100 + i));
const B = Array.from({ length: 4 }, (_, i) => file(`b/${i}.ts`, 200 + i));
const C = Array.from({ length: 24 }, (_, i) => file(`c/${i}.ts`, 300 + i));
/**
 * A class whose playlist differs on every request (a token in every URI, a changing comment and
 * date: the lab origin's `token` mode): its plan id, as the crawler computes it from the n-th read.
 * Every read names the same files, so every read gives the same plan id (issue 18, case 1).
 */
const VOLATILE_TEXT = `#EXTM3U\n#EXT-X-TARGETDURATION:4\n${A.map((f) => `#EXTINF:4,\n${f.key.slice(2)}`).join('\n')}\n#EXT-X-ENDLIST\n`;
function volatilePlanId(read: number): string {
  const text = volatilePlaylist(VOLATILE_TEXT, 'token', read, new Date(read * 1000));
  const src = 'https://origin.example/a/index.m3u8';
  const files: PlannedFile[] = [
    ...A.map((f) => ({
      key: `m/${f.key}`,
      src: `https://origin.example/${f.key}?token=${read}`,
      kind: 'segment' as const,
    })),
    {
      key: 'm/a/index.m3u8',
      src,
      kind: 'playlist',
      sha256: createHash('sha256').update(text).digest('hex'),
      refs: digestOfPlaylist(text, { src, finalUrl: src, root: 'm/' }),
    },
  ];
  return planIdOf(files, 2);
}
const VOLATILE_PLAN = volatilePlanId(1);

/** What a crawl may find: the same files cut two ways, other files, many chunks (12 chunk-state items); the last is the volatile class above. */
const CONTENTS: Content[] = [
  { planId: 'aaaa0002', files: A, chunkSize: 2 },
  { planId: 'aaaa0003', files: A, chunkSize: 3 },
  { planId: 'bbbb0002', files: B, chunkSize: 2 },
  { planId: 'cccc0001', files: C, chunkSize: 1 },
  { planId: VOLATILE_PLAN, files: A, chunkSize: 2 },
];
/** REPLAN_MAX of the model: small, so that random sequences reach it. */
const REPLAN_MAX = 2;

/** The content a job was planned from (plans are known by id: a job may outlive the ledger that planned it). */
const contentOf = (job: { planId: string }): Content => CONTENTS.find((c) => c.planId === job.planId)!;
/** A reason longer than any the ledger keeps whole (it cuts reasons to MAX_REASON_BYTES). */
const LONG_REASON = `origin answered HTTP 503 for ${'https://cdn.example.com/'.repeat(80)}: ${'é'.repeat(600)}`;

const chunksOf = (c: Content): LandedFile[][] =>
  Array.from({ length: Math.ceil(c.files.length / c.chunkSize) }, (_, i) =>
    c.files.slice(i * c.chunkSize, (i + 1) * c.chunkSize),
  );

interface Job {
  gen: number;
  planId: string;
  chunk: number;
  files: LandedFile[];
  /** The class's re-plans in a row when the job was sent: a PLAYLIST_CHANGED it finds names this round. */
  replans: number;
}

interface Model {
  /** Every transfer job ever sent: SQS may deliver any of them again, at any time (also after a ledger reset). */
  jobs: Job[];
  /** What each generation of the current ledger (since its last reset) planned. */
  plans: Map<number, Content>;
  /** Completions by `<epoch>:<gen>`: a generation number reused after a reset is another generation. */
  completions: Map<string, number>;
  /** Files gone at the origin (kept) the current record must count, by `<epoch>:<gen>`. */
  gone: Map<string, number>;
  lastGen: number;
  clock: number;
  /** Generations started in a row by re-plans transfers asked for: never more than REPLAN_MAX. */
  run: number;
  /** Ledger resets so far. */
  epoch: number;
  /** The newest generation any object in the bucket was written by (the bucket outlives ledger resets). */
  bucketGen: number;
  /** The newest bucket generation the ledger moved above since its last reset: its generation stays above it. */
  fencedAbove: number;
}

interface Real {
  ledger: Ledger;
  classId: string;
  /** Deletes every record of the class: the table restored to before it, or recreated. */
  wipe(): Promise<void>;
  /** The backend's own checks of the class's storage. */
  checkStorage(): Promise<void>;
}

const at = (m: Model, gen: number) => `${m.epoch}:${gen}`;
/** A generation completed: counted once, and the end of any run of re-plans. */
const completed = (m: Model, gen: number) => {
  m.completions.set(at(m, gen), (m.completions.get(at(m, gen)) ?? 0) + 1);
  m.run = 0;
};

/** Counts a delivery as the transfer would, some of its files gone at the origin and kept; the model follows what counted. */
async function count(m: Model, r: Real, job: Job, gone = 0) {
  const files = job.files.map((f, i) => (i < gone ? { ...f, goneAtOrigin: true } : f));
  const res = await r.ledger.countChunk(r.classId, job.gen, job.chunk, files, undefined, job.planId);
  if (res.outcome === 'counted') {
    const n = files.filter((f) => f.goneAtOrigin).length;
    m.gone.set(at(m, job.gen), (m.gone.get(at(m, job.gen)) ?? 0) + n);
  }
  if (res.completed) completed(m, job.gen);
  return res;
}

type Cmd = fc.AsyncCommand<Model, Real>;

/** The invariants: after every step, whatever came before. */
async function checkInvariants(m: Model, r: Real): Promise<void> {
  const rec = await r.ledger.getClass(r.classId);
  for (const [gen, n] of m.completions) expect(n, `completions of generation ${gen}`).toBeLessThanOrEqual(1);
  // Re-planning is bounded: at most REPLAN_MAX generations in a row, and past the limit the class is FAILED, saying why.
  expect(m.run).toBeLessThanOrEqual(REPLAN_MAX);
  await r.checkStorage();
  if (!rec) return;
  expect(rec.replans ?? 0).toBeLessThanOrEqual(REPLAN_MAX + 1);
  // (A later crawl failure may replace the reason with its own, still a standing crawl error.)
  if ((rec.replans ?? 0) > REPLAN_MAX) expect([rec.status, typeof rec.crawlError]).toEqual(['FAILED', 'string']);
  if (rec.status === 'COMPLETE') expect(rec.replans ?? 0).toBe(0);
  const gen = rec.gen ?? 0;
  expect(gen).toBeGreaterThanOrEqual(m.lastGen);
  m.lastGen = gen;
  m.bucketGen = Math.max(m.bucketGen, gen);
  // Fenced against the bucket: once the ledger moved above a bucket generation it stays above it, a bounded number of times.
  if (m.fencedAbove > 0) expect(gen).toBeGreaterThan(m.fencedAbove);
  expect(rec.bucketAheadMoves ?? 0).toBeLessThanOrEqual(MAX_BUCKET_AHEAD_MOVES);
  if (gen === 0) return;
  const plan = m.plans.get(gen)!;
  const chunks = await r.ledger.listChunks(r.classId, gen);
  const keys = chunks.flatMap((c) => c.files.map((f) => f.key));
  // Exact accounting: the counters are the chunk records of this generation, each file once.
  expect(new Set(keys).size).toBe(keys.length);
  expect(rec.doneChunks ?? 0).toBe(chunks.length);
  // The bit field's done set is exactly the chunk records of this generation.
  expect(rec.doneChunkIds).toEqual(chunks.map((c) => c.chunk).sort((a, b) => a - b));
  expect(rec.doneFiles ?? 0).toBe(keys.length);
  expect(rec.doneBytes ?? 0).toBe(chunks.flatMap((c) => c.files).reduce((n, f) => n + f.bytes, 0));
  expect(rec.totalFiles).toBe(plan.files.length);
  expect(rec.totalChunks).toBe(chunksOf(plan).length);
  for (const c of chunks) expect(c.files.map((f) => f.key)).toEqual(chunksOf(plan)[c.chunk]!.map((f) => f.key));
  // Nothing stays in progress forever: a generation whose every chunk is counted is COMPLETE.
  if (chunks.length === rec.totalChunks) expect(rec.status).toBe('COMPLETE');
  const failedIds = rec.failedChunkIds ?? [];
  expect(failedIds.filter((id) => chunks.some((c) => c.chunk === id))).toEqual([]);
  // Files gone at the origin and kept: counted exactly (by the transfers, or as the last change check found them), a few named.
  const gone = rec.goneAtOrigin ?? { count: 0, keys: [] };
  expect(gone.count).toBe(m.gone.get(at(m, gen)) ?? 0);
  expect(gone.keys.length).toBeLessThanOrEqual(Math.min(gone.count, MAX_GONE_LISTED));
  for (const k of gone.keys) expect(plan.files.map((f) => f.key)).toContain(k);
  // Failures are counted exactly: the counter is the failed set, failed + done never exceed the plan,
  // and the failure items of the failed set list (or count as truncated) every failed file.
  expect(rec.failedChunks).toBe(failedIds.length);
  expect(failedIds.length + chunks.length).toBeLessThanOrEqual(rec.totalChunks ?? 0);
  const failures = await r.ledger.listFailures(r.classId);
  expect(failures.map((f) => f.chunk)).toEqual(failedIds);
  expect(failures.reduce((n, f) => n + f.files.length + (f.truncated ?? 0), 0)).toBe(rec.failedFiles);
  if (rec.status === 'COMPLETE') {
    expect(rec.completedGen).toBe(gen);
    expect([...keys].sort()).toEqual(plan.files.map((f) => f.key).sort());
    expect(rec.doneFiles).toBe(rec.totalFiles);
    expect(rec.failedFiles).toBe(0);
    expect(await r.ledger.listFailures(r.classId)).toEqual([]);
    expect(m.completions.get(at(m, gen))).toBe(1);
    expect(rec.bucketAheadMoves).toBeUndefined();
  } else {
    expect(m.completions.get(at(m, gen)) ?? 0).toBe(0);
  }
  if (rec.status === 'FAILED') expect(failedIds.length > 0 || rec.crawlError !== undefined).toBe(true);
}

/** How a crawl was asked for: by a scan, forced, or by a change check that found the origin changed. */
type CrawlKind = 'plain' | 'force' | 'change';

class Crawl implements Cmd {
  constructor(
    readonly content: number,
    readonly kind: CrawlKind,
  ) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const c = CONTENTS[this.content]!;
    const chunks = chunksOf(c);
    m.clock++;
    const before = await r.ledger.getClass(r.classId);
    await r.ledger.markCrawling(r.classId, { manifestUrl: 'http://origin/m.m3u8' });
    const stamp = `2026-12-01T00:00:${String(m.clock).padStart(2, '0')}.000Z`;
    const forcedAt = this.kind === 'force' ? stamp : undefined;
    const changedAt = this.kind === 'change' ? stamp : undefined;
    const res = await r.ledger.recordPlan(r.classId, {
      planId: c.planId,
      totalFiles: c.files.length,
      totalChunks: chunks.length,
      forcedAt,
      changedAt,
    });
    // A change found by a check always starts a generation from COMPLETE, even with the same plan id.
    if (this.kind === 'change' && before?.status === 'COMPLETE')
      expect(res).toMatchObject({ outcome: 'new', gen: (before.gen ?? 0) + 1 });
    if (res.outcome === 'new') m.plans.set(res.gen, c);
    if (res.outcome === 'new') m.gone.set(at(m, res.gen), 0);
    if (res.outcome !== 'complete') {
      expect(m.plans.get(res.gen)?.planId).toBe(c.planId);
      // A crawl no transfer asked for ends a run of re-plans.
      m.run = 0;
      expect(res.replans ?? 0).toBe(0);
      chunks.forEach((files, chunk) => {
        if (!res.done.has(chunk)) m.jobs.push({ gen: res.gen, planId: c.planId, chunk, files, replans: 0 });
      });
    }
    if (res.completed) completed(m, res.gen);
    await checkInvariants(m, r);
  }
  toString = () => `crawl(${CONTENTS[this.content]!.planId}${this.kind === 'plain' ? '' : `, ${this.kind}`})`;
}

/**
 * A change check of whatever generation the class is in: bookkeeping on COMPLETE only, nothing else
 * moves. `gone` files of the plan are gone at the origin (purged after the copy): kept, listed.
 */
class Check implements Cmd {
  constructor(readonly gone: number) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const before = await r.ledger.getClass(r.classId);
    const keys = (m.plans.get(before?.gen ?? 0)?.files ?? []).slice(0, this.gone).map((f) => f.key);
    const noted = await r.ledger.markChecked(r.classId, before?.gen ?? 0, 'unchanged', {
      count: keys.length,
      keys,
    });
    expect(noted).toBe(before?.status === 'COMPLETE');
    if (noted) m.gone.set(at(m, before!.gen!), keys.length);
    const after = await r.ledger.getClass(r.classId);
    expect([after?.status, after?.gen, after?.doneChunks]).toEqual([before?.status, before?.gen, before?.doneChunks]);
    await checkInvariants(m, r);
  }
  toString = () => `change check${this.gone ? ` (${this.gone} gone at the origin)` : ''}`;
}

/** Picks one of the jobs sent so far (any generation: redeliveries and stale jobs included). */
abstract class JobCmd implements Cmd {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.jobs.length > 0;
  job(m: Model): Job {
    return m.jobs[this.pick % m.jobs.length]!;
  }
  abstract run(m: Model, r: Real): Promise<void>;
}

/**
 * A transfer job found its playlist naming other files (PLAYLIST_CHANGED) and asked for a re-plan;
 * the crawl it starts reads the playlist again and finds either the same references in other bytes
 * (`same`: the same plan id, so the same generation resumes, counting nothing twice) or other files.
 */
class Replan extends JobCmd {
  constructor(
    pick: number,
    readonly same: boolean,
    readonly other: number,
    /** The job sent last (the current round, so runs of re-plans reach the limit), not any job. */
    readonly latest: boolean,
  ) {
    super(pick);
  }
  override async run(m: Model, r: Real): Promise<void> {
    const job = this.latest ? m.jobs[m.jobs.length - 1]! : this.job(m);
    const before = await r.ledger.getClass(r.classId);
    const asked = await r.ledger.requestReplan(r.classId, {
      gen: job.gen,
      replans: job.replans,
      max: REPLAN_MAX,
      reason: 'playlist m/a/index.m3u8 (https://origin.example/a/index.m3u8) named other files than its plan',
    });
    const current = before?.gen === job.gen && (before.replans ?? 0) === job.replans && before.status !== 'COMPLETE';
    // Exactly one request of a round counts; any other (an older round, another generation, COMPLETE) is spent.
    expect(asked === 'stale').toBe(!current);
    if (asked === 'failed') {
      expect(job.replans).toBe(REPLAN_MAX);
      const after = await r.ledger.getClass(r.classId);
      expect([after?.status, after?.gen, after?.doneChunks]).toEqual(['FAILED', before?.gen, before?.doneChunks]);
      // The reason names the playlist, and what to do.
      expect(after?.lastError).toContain('playlist m/a/index.m3u8');
    }
    if (asked === 'counted') {
      const plan = m.plans.get(job.gen)!;
      m.clock++;
      // The same references in other bytes: the plan id computed from this read is the plan's.
      const c = this.same ? plan : CONTENTS[this.other % CONTENTS.length]!;
      const planId = this.same && plan.planId === VOLATILE_PLAN ? volatilePlanId(m.clock + 1) : c.planId;
      expect(planId).toBe(c.planId);
      await r.ledger.markCrawling(r.classId, { manifestUrl: 'http://origin/m.m3u8' });
      const res = await r.ledger.recordPlan(r.classId, {
        planId,
        totalFiles: c.files.length,
        totalChunks: chunksOf(c).length,
        replan: true,
      });
      expect(res.replans).toBe(job.replans + 1);
      if (this.same || c.planId === plan.planId) {
        // Resumed: the same generation, nothing counted or uncounted.
        expect(res).toMatchObject({ outcome: 'resumed', gen: job.gen });
        const after = await r.ledger.getClass(r.classId);
        expect([after?.doneChunks, after?.doneFiles]).toEqual([before?.doneChunks, before?.doneFiles]);
      } else {
        expect(res).toMatchObject({ outcome: 'new', gen: job.gen + 1 });
        m.plans.set(res.gen, c);
        m.run++;
      }
      if (res.outcome === 'new') m.gone.set(at(m, res.gen), 0);
      chunksOf(c).forEach((files, chunk) => {
        if (!res.done.has(chunk))
          m.jobs.push({ gen: res.gen, planId: c.planId, chunk, files, replans: res.replans ?? 0 });
      });
      if (res.completed) completed(m, res.gen);
    }
    await checkInvariants(m, r);
  }
  override toString = () =>
    `replan(${this.latest ? 'latest' : `#${this.pick}`}, ${this.same ? 'same references' : `content ${this.other}`})`;
}

class Deliver extends JobCmd {
  constructor(
    pick: number,
    readonly copies: number,
    readonly gone: number,
  ) {
    super(pick);
  }
  override async run(m: Model, r: Real): Promise<void> {
    const job = this.job(m);
    const before = await r.ledger.getClass(r.classId);
    const results = await Promise.all(Array.from({ length: this.copies }, () => count(m, r, job, this.gone)));
    if ((before?.gen ?? 0) !== job.gen || before?.planId !== job.planId) {
      // Nothing counts for a plan that is not current.
      expect(results.every((x) => x.outcome === 'stale')).toBe(true);
      const after = await r.ledger.getClass(r.classId);
      expect(after?.doneChunks).toBe(before?.doneChunks);
    } else {
      expect(results.filter((x) => x.outcome === 'counted').length).toBeLessThanOrEqual(1);
    }
    await checkInvariants(m, r);
  }
  override toString = () =>
    `deliver(#${this.pick}${this.copies > 1 ? ` ×${this.copies} at once` : ''}${this.gone ? `, ${this.gone} gone at the origin` : ''})`;
}

class FinalFailure extends JobCmd {
  constructor(
    pick: number,
    readonly provisional: boolean,
  ) {
    super(pick);
  }
  override async run(m: Model, r: Real): Promise<void> {
    const job = this.job(m);
    const reason = this.provisional ? 'the last delivery did not finish' : 'origin answered HTTP 404';
    await r.ledger.recordChunkFailure(
      r.classId,
      job.gen,
      job.chunk,
      job.files.map((f) => ({ key: f.key, src: `http://origin/${f.key}`, reason })),
      { provisional: this.provisional, planId: job.planId },
    );
    await checkInvariants(m, r);
  }
  override toString = () => `${this.provisional ? 'crash on last delivery' : 'final failure'}(#${this.pick})`;
}

/** The last delivery of every chunk of the current plan fails at once (an origin outage), with long reasons. */
class FailMany implements Cmd {
  constructor(readonly provisional: boolean) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const rec = await r.ledger.getClass(r.classId);
    const plan = rec?.gen ? m.plans.get(rec.gen) : undefined;
    if (plan) {
      const outcomes = await mapLimit(chunksOf(plan), 4, (files, chunk) =>
        r.ledger.recordChunkFailure(
          r.classId,
          rec!.gen!,
          chunk,
          files.map((f) => ({
            key: f.key,
            src: `http://origin/${f.key}?token=${'t'.repeat(5000)}`,
            reason: LONG_REASON,
          })),
          { provisional: this.provisional },
        ),
      );
      // Nothing refused: every chunk is recorded or was already done (or recorded, for a provisional one).
      for (const o of outcomes) expect(['recorded', 'chunk-done', 'already-recorded', 'complete']).toContain(o);
    }
    await checkInvariants(m, r);
  }
  toString = () => `outage: every chunk's last delivery ${this.provisional ? 'began' : 'failed'}`;
}

class AttemptFailure extends JobCmd {
  override async run(m: Model, r: Real): Promise<void> {
    const job = this.job(m);
    await r.ledger.noteAttemptFailure(r.classId, job.gen, job.chunk, 'origin answered HTTP 503');
    await checkInvariants(m, r);
  }
  override toString = () => `failed attempt(#${this.pick})`;
}

class CrawlFailure implements Cmd {
  constructor(readonly provisional: boolean) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const before = await r.ledger.getClass(r.classId);
    const applied = await r.ledger.failCrawl(r.classId, 'crawl failed: origin answered HTTP 404', {
      provisional: this.provisional,
    });
    if (before?.status === 'COMPLETE') expect(applied).toBe(false);
    await checkInvariants(m, r);
  }
  toString = () => `crawl failure${this.provisional ? ' (last delivery began)' : ''}`;
}

/** What races a delivery: another count, a final failure, a crawl failure, or a re-crawl of the same content. */
type Rival = 'count' | 'finalFailure' | 'crawlFailure' | 'recrawl';

/** Two things in flight at once against one class record. */
class Race implements Cmd {
  constructor(
    readonly a: number,
    readonly b: number,
    readonly rival: Rival,
  ) {}
  check = (m: Readonly<Model>) => m.jobs.length > 0;
  async run(m: Model, r: Real): Promise<void> {
    const ja = m.jobs[this.a % m.jobs.length]!;
    const jb = m.jobs[this.b % m.jobs.length]!;
    const rival = async (): Promise<{ completed: boolean; gen: number } | undefined> => {
      switch (this.rival) {
        case 'count':
          await count(m, r, jb);
          return undefined;
        case 'finalFailure':
          await r.ledger.recordChunkFailure(
            r.classId,
            jb.gen,
            jb.chunk,
            jb.files.map((f) => ({ key: f.key, src: f.key, reason: 'HTTP 404' })),
            { planId: jb.planId },
          );
          return undefined;
        case 'crawlFailure':
          await r.ledger.failCrawl(r.classId, 'crawl failed: HTTP 404');
          return undefined;
        case 'recrawl': {
          const plan = contentOf(jb);
          const res = await r.ledger.recordPlan(r.classId, {
            planId: plan.planId,
            totalFiles: plan.files.length,
            totalChunks: chunksOf(plan).length,
          });
          if (res.outcome === 'new') m.plans.set(res.gen, plan);
          if (res.outcome === 'new') m.gone.set(at(m, res.gen), 0);
          if (res.outcome !== 'complete') {
            m.run = 0;
            chunksOf(plan).forEach(
              (files, chunk) =>
                !res.done.has(chunk) && m.jobs.push({ gen: res.gen, planId: plan.planId, chunk, files, replans: 0 }),
            );
          }
          return { completed: res.completed, gen: res.gen };
        }
      }
    };
    const [, rb] = await Promise.all([count(m, r, ja), rival()]);
    if (rb?.completed) completed(m, rb.gen);
    await checkInvariants(m, r);
  }
  toString = () => `race(#${this.a} counts, #${this.b} ${this.rival})`;
}

/**
 * The ledger table restored from point-in-time recovery to before the class, or recreated, while the
 * bucket keeps its objects and SQS still holds every job sent: generations restart below the bucket's.
 */
class Reset implements Cmd {
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    await r.wipe();
    m.epoch++;
    m.lastGen = 0;
    m.plans = new Map();
    m.fencedAbove = 0;
    // The record and its run of re-plans are gone with it.
    m.run = 0;
    await checkInvariants(m, r);
  }
  toString = () => 'ledger reset (restored or recreated below the bucket)';
}

/** Another stage writing the same prefix: the bucket now holds a generation ahead of this ledger's. */
class OtherWriter implements Cmd {
  constructor(readonly ahead: number) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const rec = await r.ledger.getClass(r.classId);
    m.bucketGen = Math.max(m.bucketGen, (rec?.gen ?? 0) + this.ahead);
    await checkInvariants(m, r);
  }
  toString = () => `another writer ${this.ahead} generation(s) ahead`;
}

/**
 * A delivery whose copy the bucket refuses (STALE_GENERATION) because it holds the bucket's newest
 * generation; with `ahead`, another writer first put a generation that far ahead of the ledger's.
 * The transfer drops a job its view calls stale; with `lateView` the plan changed while it copied, so
 * the job reaches the ledger anyway. The ledger moves the plan above the bucket when the bucket is
 * ahead of its current generation (the crawl that triggers resumes that plan), fails the class after
 * MAX_BUCKET_AHEAD_MOVES moves, and otherwise calls the job stale.
 */
class BucketRefuses extends JobCmd {
  constructor(
    pick: number,
    readonly ahead: number,
    readonly lateView: boolean,
    /** Refusals in a row, each by a writer `ahead` of the ledger again (the bucket keeps being ahead). */
    readonly times = 1,
  ) {
    super(pick);
  }
  override check = (m: Readonly<Model>) => m.jobs.length > 0;
  override async run(m: Model, r: Real): Promise<void> {
    // The first refusal is of the picked job; the next ones of the newest job sent (the re-planned generation's).
    for (let i = 0; i < this.times; i++) await this.refuse(m, r, i === 0 ? this.job(m) : m.jobs.at(-1)!);
  }
  async refuse(m: Model, r: Real, job: Job): Promise<void> {
    const before = await r.ledger.getClass(r.classId);
    if (this.ahead) m.bucketGen = Math.max(m.bucketGen, (before?.gen ?? 0) + this.ahead);
    const viewed = before && before.gen === job.gen && before.planId === job.planId && before.status !== 'COMPLETE';
    if ((!viewed && !this.lateView) || m.bucketGen <= job.gen) return checkInvariants(m, r);
    const res = await r.ledger.recordBucketAhead(r.classId, job.gen, m.bucketGen, 'the bucket is ahead');
    const after = await r.ledger.getClass(r.classId);
    // No plan to move (no record, or none planned since a reset), a COMPLETE generation, or a bucket not ahead: stale.
    if (!before?.gen || before.status === 'COMPLETE' || m.bucketGen <= before.gen) {
      expect(res).toEqual({ outcome: 'stale' });
      expect(after?.updatedAt).toBe(before?.updatedAt);
    } else if ((before.bucketAheadMoves ?? 0) >= MAX_BUCKET_AHEAD_MOVES) {
      expect(res).toEqual({ outcome: 'failed' });
      expect(after).toMatchObject({ gen: before.gen, status: 'FAILED', crawlError: 'the bucket is ahead' });
    } else {
      expect(res).toEqual({ outcome: 'moved', gen: m.bucketGen + 1 });
      expect(after).toMatchObject({
        gen: m.bucketGen + 1,
        planId: before.planId,
        status: 'TRANSFERRING',
        doneChunks: 0,
      });
      m.fencedAbove = m.bucketGen;
      const plan = contentOf({ planId: before.planId! });
      m.plans.set(m.bucketGen + 1, plan);
      m.gone.set(at(m, m.bucketGen + 1), 0);
      chunksOf(plan).forEach((files, chunk) =>
        m.jobs.push({ gen: m.bucketGen + 1, planId: plan.planId, chunk, files, replans: after?.replans ?? 0 }),
      );
    }
    await checkInvariants(m, r);
  }
  override toString = () =>
    `bucket refuses(#${this.pick}${this.ahead ? `, another writer ${this.ahead} ahead` : ''}${this.lateView ? ', plan changed during the copy' : ''}${this.times > 1 ? `, ${this.times} times in a row` : ''})`;
}

/** A copy that landed in S3 and crashed before its ledger step: the ledger must not have moved. */
class CrashBeforeCount extends JobCmd {
  override async run(m: Model, r: Real): Promise<void> {
    await checkInvariants(m, r);
  }
  override toString = () => `crash after S3 write(#${this.pick})`;
}

const commands = [
  fc
    .tuple(
      fc.integer({ min: 0, max: CONTENTS.length - 1 }),
      fc.constantFrom<CrawlKind>('plain', 'plain', 'force', 'change'),
    )
    .map(([c, k]) => new Crawl(c, k)),
  fc.constantFrom(0, 0, 1, 2).map((g) => new Check(g)),
  fc
    .tuple(fc.nat(), fc.constantFrom(1, 1, 1, 2, 3), fc.constantFrom(0, 0, 0, 1, 2))
    .map(([p, n, g]) => new Deliver(p, n, g)),
  fc.constant(new Reset()),
  fc.constantFrom(1, 1, 3).map((n) => new OtherWriter(n)),
  fc
    .tuple(fc.nat(), fc.constantFrom(0, 0, 1, 2), fc.boolean(), fc.constantFrom(1, 1, 1, MAX_BUCKET_AHEAD_MOVES + 1))
    .map(([p, ahead, late, times]) => new BucketRefuses(p, ahead, late, times)),
  fc.tuple(fc.nat(), fc.boolean()).map(([p, prov]) => new FinalFailure(p, prov)),
  fc.boolean().map((prov) => new FailMany(prov)),
  fc.nat().map((p) => new AttemptFailure(p)),
  fc.boolean().map((p) => new CrawlFailure(p)),
  fc.nat().map((p) => new CrashBeforeCount(p)),
  // Twice: runs of re-plans need several in a row to reach REPLAN_MAX.
  ...[0, 1].map(() =>
    fc
      .tuple(fc.nat(), fc.boolean(), fc.nat(), fc.boolean())
      .map(([p, same, other, latest]) => new Replan(p, same, other, latest)),
  ),
  fc
    .tuple(fc.nat(), fc.nat(), fc.constantFrom<Rival>('count', 'finalFailure', 'crawlFailure', 'recrawl'))
    .map(([a, b, k]) => new Race(a, b, k)),
];

/** Runs RUNS random sequences against one implementation, each on a class of its own. */
export async function runLedgerModel(subject: LedgerSubject): Promise<void> {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(fc.commands(commands, { maxCommands: 14 }), async (cmds) => {
      const classId = `model-${n++}`;
      const real: Real = {
        ledger: subject.ledger,
        classId,
        wipe: () => subject.wipe(classId),
        checkStorage: async () => subject.checkStorage?.(classId),
      };
      const model: Model = {
        jobs: [],
        plans: new Map(),
        completions: new Map(),
        gone: new Map(),
        lastGen: 0,
        clock: 0,
        run: 0,
        epoch: 0,
        bucketGen: 0,
        fencedAbove: 0,
      };
      await fc.asyncModelRun(() => ({ model, real }), cmds);
    }),
    { numRuns: RUNS },
  );
}
