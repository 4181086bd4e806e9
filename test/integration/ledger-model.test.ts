import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { volatilePlaylist } from '../../lab/origin-server.ts';
import { digestOfPlaylist } from '../../src/hls/reference-digest.ts';
import type { PlannedFile } from '../../src/hls/types.ts';
import { planIdOf } from '../../src/pipeline/chunking.ts';
import { createLedger, type LandedFile, type Ledger } from '../../src/store/ledger.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

/**
 * Model-based test of the ledger: random interleavings of crawls (same or changed content, another
 * chunk size, forced), deliveries (duplicate, concurrent, stale), failed attempts, final failures,
 * crashes on the last delivery, crawl failures and redrives, against the real local DynamoDB, with
 * the invariants checked after every step. FLANTS_MODEL_RUNS sets the number of sequences
 * (`npm run test:model` runs 10,000).
 */

const RUNS = Number(process.env.FLANTS_MODEL_RUNS ?? 1000);

interface Content {
  planId: string;
  files: LandedFile[];
  chunkSize: number;
}

const file = (key: string, bytes: number): LandedFile => ({ key, bytes, etag: `etag-${key}` });
const A = Array.from({ length: 6 }, (_, i) => file(`a/${i}.ts`, 100 + i));
const B = Array.from({ length: 4 }, (_, i) => file(`b/${i}.ts`, 200 + i));
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

/** What a crawl may find: the same files cut two ways, and other files; the last is the volatile class above. */
const CONTENTS: Content[] = [
  { planId: 'aaaa0002', files: A, chunkSize: 2 },
  { planId: 'aaaa0003', files: A, chunkSize: 3 },
  { planId: 'bbbb0002', files: B, chunkSize: 2 },
  { planId: VOLATILE_PLAN, files: A, chunkSize: 2 },
];
/** REPLAN_MAX of the model: small, so that random sequences reach it. */
const REPLAN_MAX = 2;

const chunksOf = (c: Content): LandedFile[][] =>
  Array.from({ length: Math.ceil(c.files.length / c.chunkSize) }, (_, i) =>
    c.files.slice(i * c.chunkSize, (i + 1) * c.chunkSize),
  );

interface Job {
  gen: number;
  chunk: number;
  files: LandedFile[];
  /** The class's re-plans in a row when the job was sent: a PLAYLIST_CHANGED it finds names this round. */
  replans: number;
}

interface Model {
  /** Every transfer job ever sent: SQS may deliver any of them again, at any time. */
  jobs: Job[];
  /** What each generation planned. */
  plans: Map<number, Content>;
  completions: Map<number, number>;
  lastGen: number;
  clock: number;
  /** Generations started in a row by re-plans transfers asked for: never more than REPLAN_MAX. */
  run: number;
}

interface Real {
  ledger: Ledger;
  classId: string;
}

type Cmd = fc.AsyncCommand<Model, Real>;

/** The invariants: after every step, whatever came before. */
async function checkInvariants(m: Model, r: Real): Promise<void> {
  const rec = await r.ledger.getClass(r.classId);
  for (const [gen, n] of m.completions) expect(n, `completions of generation ${gen}`).toBeLessThanOrEqual(1);
  // Re-planning is bounded: at most REPLAN_MAX generations in a row, and past the limit the class is FAILED, saying why.
  expect(m.run).toBeLessThanOrEqual(REPLAN_MAX);
  if (!rec) return;
  expect(rec.replans ?? 0).toBeLessThanOrEqual(REPLAN_MAX + 1);
  // (A later crawl failure may replace the reason with its own, still a standing crawl error.)
  if ((rec.replans ?? 0) > REPLAN_MAX) expect([rec.status, typeof rec.crawlError]).toEqual(['FAILED', 'string']);
  if (rec.status === 'COMPLETE') expect(rec.replans ?? 0).toBe(0);
  const gen = rec.gen ?? 0;
  expect(gen).toBeGreaterThanOrEqual(m.lastGen);
  m.lastGen = gen;
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
  if (rec.status === 'COMPLETE') {
    expect(rec.completedGen).toBe(gen);
    expect([...keys].sort()).toEqual(plan.files.map((f) => f.key).sort());
    expect(rec.doneFiles).toBe(rec.totalFiles);
    expect(rec.failedFiles).toBe(0);
    expect(await r.ledger.listFailures(r.classId)).toEqual([]);
    expect(m.completions.get(gen)).toBe(1);
  } else {
    expect(m.completions.get(gen) ?? 0).toBe(0);
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
    if (res.outcome !== 'complete') {
      expect(m.plans.get(res.gen)?.planId).toBe(c.planId);
      // A crawl no transfer asked for ends a run of re-plans.
      m.run = 0;
      expect(res.replans ?? 0).toBe(0);
      chunks.forEach((files, chunk) => {
        if (!res.done.has(chunk)) m.jobs.push({ gen: res.gen, chunk, files, replans: 0 });
      });
    }
    if (res.completed) m.completions.set(res.gen, (m.completions.get(res.gen) ?? 0) + 1);
    await checkInvariants(m, r);
  }
  toString = () => `crawl(${CONTENTS[this.content]!.planId}${this.kind === 'plain' ? '' : `, ${this.kind}`})`;
}

/** A change check of whatever generation the class is in: bookkeeping on COMPLETE only, nothing else moves. */
class Check implements Cmd {
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const before = await r.ledger.getClass(r.classId);
    const noted = await r.ledger.markChecked(r.classId, before?.gen ?? 0, 'unchanged');
    expect(noted).toBe(before?.status === 'COMPLETE');
    const after = await r.ledger.getClass(r.classId);
    expect([after?.status, after?.gen, after?.doneChunks]).toEqual([before?.status, before?.gen, before?.doneChunks]);
    await checkInvariants(m, r);
  }
  toString = () => 'change check';
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
      chunksOf(c).forEach((files, chunk) => {
        if (!res.done.has(chunk)) m.jobs.push({ gen: res.gen, chunk, files, replans: res.replans ?? 0 });
      });
      if (res.completed) {
        m.completions.set(res.gen, (m.completions.get(res.gen) ?? 0) + 1);
        m.run = 0;
      }
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
  ) {
    super(pick);
  }
  override async run(m: Model, r: Real): Promise<void> {
    const job = this.job(m);
    const before = await r.ledger.getClass(r.classId);
    const results = await Promise.all(
      Array.from({ length: this.copies }, () => r.ledger.countChunk(r.classId, job.gen, job.chunk, job.files)),
    );
    for (const res of results)
      if (res.completed) {
        m.completions.set(job.gen, (m.completions.get(job.gen) ?? 0) + 1);
        m.run = 0;
      }
    if ((before?.gen ?? 0) !== job.gen) {
      // Nothing counts for a plan that is not current.
      expect(results.every((x) => x.outcome === 'stale')).toBe(true);
      const after = await r.ledger.getClass(r.classId);
      expect(after?.doneChunks).toBe(before?.doneChunks);
    } else {
      expect(results.filter((x) => x.outcome === 'counted').length).toBeLessThanOrEqual(1);
    }
    await checkInvariants(m, r);
  }
  override toString = () => `deliver(#${this.pick}${this.copies > 1 ? ` ×${this.copies} at once` : ''})`;
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
      { provisional: this.provisional },
    );
    await checkInvariants(m, r);
  }
  override toString = () => `${this.provisional ? 'crash on last delivery' : 'final failure'}(#${this.pick})`;
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
          return { ...(await r.ledger.countChunk(r.classId, jb.gen, jb.chunk, jb.files)), gen: jb.gen };
        case 'finalFailure':
          await r.ledger.recordChunkFailure(
            r.classId,
            jb.gen,
            jb.chunk,
            jb.files.map((f) => ({ key: f.key, src: f.key, reason: 'HTTP 404' })),
          );
          return undefined;
        case 'crawlFailure':
          await r.ledger.failCrawl(r.classId, 'crawl failed: HTTP 404');
          return undefined;
        case 'recrawl': {
          const plan = m.plans.get(jb.gen)!;
          const res = await r.ledger.recordPlan(r.classId, {
            planId: plan.planId,
            totalFiles: plan.files.length,
            totalChunks: chunksOf(plan).length,
          });
          if (res.outcome === 'new') m.plans.set(res.gen, plan);
          if (res.outcome !== 'complete') {
            m.run = 0;
            chunksOf(plan).forEach(
              (files, chunk) => !res.done.has(chunk) && m.jobs.push({ gen: res.gen, chunk, files, replans: 0 }),
            );
          }
          return { completed: res.completed, gen: res.gen };
        }
      }
    };
    const [ra, rb] = await Promise.all([r.ledger.countChunk(r.classId, ja.gen, ja.chunk, ja.files), rival()]);
    for (const res of [{ ...ra, gen: ja.gen }, rb])
      if (res?.completed) {
        m.completions.set(res.gen, (m.completions.get(res.gen) ?? 0) + 1);
        m.run = 0;
      }
    await checkInvariants(m, r);
  }
  toString = () => `race(#${this.a} counts, #${this.b} ${this.rival})`;
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
  fc.constant(new Check()),
  fc.tuple(fc.nat(), fc.constantFrom(1, 1, 1, 2, 3)).map(([p, n]) => new Deliver(p, n)),
  fc.tuple(fc.nat(), fc.boolean()).map(([p, prov]) => new FinalFailure(p, prov)),
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

let t: TestStack;
let ledger: Ledger;

beforeAll(async () => {
  t = await startTestStack({ services: ['sqs', 's3', 'dynamodb'] });
  ledger = createLedger(t.aws.ddb, t.cfg.tableName);
});
afterAll(async () => t?.stop());

describe('ledger model (fast-check commands against dynoxide)', () => {
  it(`keeps every invariant after every step of ${RUNS} random interleavings`, { timeout: 600_000 }, async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 14 }), async (cmds) => {
        const real: Real = { ledger, classId: `model-${n++}` };
        const model: Model = { jobs: [], plans: new Map(), completions: new Map(), lastGen: 0, clock: 0, run: 0 };
        await fc.asyncModelRun(() => ({ model, real }), cmds);
      }),
      { numRuns: RUNS },
    );
  });
});
