import './quiet-sdk.ts';
import { createHash } from 'node:crypto';
import { createWriteStream, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient } from 'mongodb';
import { loadConfig, type Config } from '../src/config.ts';
import { classRoot, keyForUrl } from '../src/hls/keys.ts';
import { scanRequest } from '../src/domain/jobs/envelopes.ts';
import { createLogger, setLogSink, type Logger } from '../src/log.ts';
import { buildDeps, type Deps } from '../src/wiring/deps.ts';
import { freshnessSummary, type FreshnessSummary } from '../src/views/freshness.ts';
import type { ClassRecord } from '../src/domain/ledger/records.ts';
import type { JobQueue } from '../src/domain/ports/job-queue.ts';
import { newPageToken } from '../src/domain/jobs/ids.ts';
import { mapLimit } from '../src/util/concurrency.ts';
import { copiedReferences } from './playlist-references.ts';
import { generateLibrary, type SampleDocument, type LibraryOptions, type SampleLibrary } from './library.ts';
import { hasFaults, originFaultsFor, s3FaultsFor, type FaultSpec } from './faults.ts';
import { startOriginServer, type OriginContent, type OriginServer } from './origin-server.ts';
import { originUrl } from './sample-catalog.ts';
import { startS3FaultProxy, type S3FaultProxy } from './s3-fault-proxy.ts';
import {
  startRunner,
  waitForIdleQueues,
  type Runner,
  type RunnerOptions,
  type RunnerStats,
} from '../src/ops/runner.ts';
import { loadServiceDefinition } from '../src/ops/service-definition.ts';
import { setupResources } from '../src/ops/setup.ts';
import { startLocalStack, type LocalStack } from './stack.ts';
import { describeWaiting } from './settle-wait.ts';

export interface DemoOptions {
  library?: LibraryOptions;
  /** Faults to inject at the origin and in front of S3 (`--faults SPEC`). */
  faults?: FaultSpec;
  /** Sends every transfer job this many times (SQS at-least-once, exaggerated). */
  transferCopies?: number;
  /** Extra environment (e.g. TRANSFER_CHUNK_FILES) for the pipeline. */
  env?: Record<string, string>;
  /** Pollers per function, as Lambda concurrency. */
  concurrency?: { scan?: number; crawl?: number; transfer?: number };
  timeoutMs?: number;
  /** Called about twice a second with the ledger's view, for progress display. */
  onProgress?: (p: DemoProgress) => void;
  log?: Logger;
}

export interface DemoProgress {
  classesTotal: number;
  classesComplete: number;
  classesFailed: number;
  filesTotal: number;
  filesDone: number;
  bytesDone: number;
  elapsedMs: number;
}

export interface DemoClassResult {
  classId: string;
  title: string;
  status: ClassRecord['status'] | 'MISSING';
  files: number;
  bytes: number;
  failedFiles: number;
}

export interface DemoReport {
  ok: boolean;
  classes: DemoClassResult[];
  skipped: Array<{ classId: string; reason: string; detail?: string }>;
  /**
   * `links`: URIs in the copied playlists, each resolved the way a player of the copy resolves it;
   * `dangling`: those that name no object in the bucket (must be 0).
   */
  verified: {
    objects: number;
    mismatches: number;
    missing: number;
    extra: number;
    links: number;
    dangling: number;
    problems: string[];
  };
  /**
   * `wallSeconds`: the whole run (servers, catalog, pipeline, verification). `pipelineSeconds`:
   * from the scan request to the last class settling; throughput is measured over it.
   */
  totals: {
    classes: number;
    files: number;
    bytes: number;
    wallSeconds: number;
    pipelineSeconds: number;
    mbPerSecond: number;
    filesPerSecond: number;
  };
  runner: RunnerStats;
  origin: ReturnType<OriginServer['stats']>;
  retries: number;
  /** What the fault spec injected, and what it cost. */
  faults: {
    spec: FaultSpec | undefined;
    origin: ReturnType<OriginServer['stats']>['faults'];
    s3: ReturnType<S3FaultProxy['stats']>['faults'] | undefined;
    /** Files the origin lost for good (`gone=N`): their classes must end FAILED listing exactly these. */
    gone: string[];
    /** Messages left in each DLQ at the end. */
    deadLettered: Record<'scan' | 'crawl' | 'transfer', number>;
    /** Files of classes that should be complete but are not in the bucket intact (must be 0). */
    lost: number;
    /** Files counted more than once, or classes completed more than once (must be 0). */
    doubleCounted: number;
  };
  /** How many times each class was marked COMPLETE (exactly once each, whatever SQS delivered). */
  completions: Record<string, number>;
  /**
   * How long classes took from their end to COMPLETE. The demo seeds every class as ended the
   * moment the catalog is seeded and scans at once, so this is the pipeline's own latency (a
   * deployment adds the wait for the next scheduled scan).
   */
  freshness: FreshnessSummary;
  /** Where the pipeline's JSON log lines went. */
  /** The run's log, kept only when the run failed (undefined otherwise, or when the caller logs). */
  logFile: string | undefined;
}

/** Sends each transfer job `copies` times: real duplicate SQS messages, not a simulation. */
function duplicating(queue: JobQueue, copies: number): JobQueue {
  return {
    ...queue,
    sendAll: (name, bodies) =>
      queue.sendAll(
        name,
        name === 'transfer' ? bodies.flatMap((b) => Array.from({ length: copies }, () => b)) : bodies,
      ),
  };
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Where the copy of the library file at `path` (served from `originBase`) sits: DEST_PREFIX/<class>/<host>/<path>. */
export function copyKeyOf(prefix: string, classId: string, originBase: string, path: string): string {
  const url = new URL(originUrl(originBase, path));
  return keyForUrl(url, url, classRoot(prefix, classId));
}

/**
 * Checks every object the library should have produced against the origin's bytes, finds strays,
 * and resolves every URI of every copied playlist against where that playlist's copy sits (its
 * class/host root standing for the origin's root, as a player of the copy sees it): each must name
 * an object in the bucket.
 */
export async function verifyBucket(
  deps: Pick<Deps, 'store'>,
  library: SampleLibrary,
  prefix: string,
  originBase: string,
  gone: ReadonlySet<string> = new Set(),
): Promise<DemoReport['verified']> {
  const expected = new Map<string, { path: string; classId: string }>();
  // Files the origin lost: their classes are FAILED listing them, so references to them are not dangling.
  const lost = new Set<string>();
  for (const cls of library.classes) {
    for (const path of cls.paths) {
      const key = copyKeyOf(prefix, cls.id, originBase, path);
      if (gone.has(path)) lost.add(key);
      else expected.set(key, { path, classId: cls.id });
    }
  }
  const listed = new Map<string, number>();
  for await (const o of deps.store.list(prefix)) listed.set(o.key, o.size);
  const problems: string[] = [];
  let mismatches = 0;
  let missing = 0;
  let links = 0;
  let dangling = 0;
  await mapLimit([...expected], 16, async ([key, { path }]) => {
    if (!listed.has(key)) {
      missing++;
      problems.push(`missing: ${key}`);
      return;
    }
    const [stored, original] = await Promise.all([readAll(await deps.store.get(key)), readAll(library.read(path))]);
    if (sha256(stored) !== sha256(original)) {
      mismatches++;
      problems.push(`mismatch: ${key}`);
      return;
    }
    if (library.file(path)?.kind !== 'playlist') return;
    // Resolved as a player of the copy resolves them (lab/playlist-references.ts, also the e2e tests' bucket check).
    for (const ref of copiedReferences(key, stored.toString('utf8'), prefix)) {
      links++;
      const target = 'key' in ref ? ref.key : undefined;
      if (target === undefined || (!listed.has(target) && !lost.has(target))) {
        dangling++;
        problems.push(
          `dangling: ${key} references ${ref.uri}, which resolves to ${target ?? ('error' in ref ? ref.error : '?')}`,
        );
      }
    }
  });
  const extra = [...listed.keys()].filter((k) => !expected.has(k));
  for (const k of extra) problems.push(`unexpected object: ${k}`);
  return {
    objects: listed.size,
    mismatches,
    missing,
    extra: extra.length,
    links,
    dangling,
    problems: problems.slice(0, 50),
  };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Options of the local pipeline: the demo's, and the fault suite's. */
export interface LocalPipelineOptions extends Omit<DemoOptions, 'onProgress' | 'timeoutMs'> {
  /** Decorates the handlers' dependencies (crash tests wrap the ledger or the store). */
  decorate?: (deps: Deps) => Deps;
  /** Does not start the in-process workers (a test runs them in another process). */
  noRunner?: boolean;
  /** Source queues' visibility timeout in seconds (default 30). */
  visibilityTimeout?: number;
  /** What the origin serves instead of the library as generated (tests: playlists that change or grow). */
  content?: (library: SampleLibrary) => OriginContent;
  /** Wraps a worker's handler (crash tests: fail after the real handler ran). */
  wrap?: RunnerOptions['wrap'];
  /**
   * When the valid classes ended (and their documents last changed), as seeded in the catalog.
   * Default: the moment the catalog is seeded, so freshness measures the pipeline, as for a class that just ended.
   */
  catalogTime?: Date;
  /** Where the origin listens (default 127.0.0.1, any free port); a default port keeps the port out of every key. */
  originListen?: { host?: string; port?: number };
  /** Puts the S3 proxy in front of the local S3 even without faults, to count object writes (`s3Writes`). */
  countS3?: boolean;
  /**
   * Leaves the last `holdBack` valid classes out of the catalog when it is seeded (the origin serves
   * them): `addToCatalog` adds them later, as classes that end while the pipeline runs.
   */
  holdBack?: number;
}

/** The embedded stack with a sample library loaded and the workers polling: the demo's engine. */
export interface LocalPipeline {
  readonly library: SampleLibrary;
  readonly cfg: Config;
  readonly deps: Deps;
  readonly origin: OriginServer;
  readonly stack: LocalStack;
  readonly runner: Runner | undefined;
  /** Origin paths the fault spec removed for good. */
  readonly gone: Set<string>;
  readonly env: Record<string, string>;
  readonly counters: { retries: number; completions: Record<string, number> };
  /** The pipeline's log (undefined when the caller passed `log`); stop() removes it unless told to keep it. */
  readonly logFile: string | undefined;
  readonly started: number;
  s3Faults(): ReturnType<S3FaultProxy['stats']>['faults'] | undefined;
  /** Object writes (PutObject, UploadPart) that reached S3 through the proxy, by key; undefined without one. */
  s3Writes(): { total: number; byKey: Record<string, number> } | undefined;
  /** Sends a catalog scan, as the schedule would; returns its scan id. */
  scan(): Promise<string>;
  /** Adds held-back classes to the catalog, ended and changed at `at` (default now). */
  addToCatalog(classIds: readonly string[], at?: Date): Promise<void>;
  /**
   * Waits until every valid class is COMPLETE, or COMPLETE/FAILED with nothing left in flight. At the
   * deadline it throws, naming what it still waited for; `orReturn` returns the records instead (the
   * demo reports an unfinished run rather than failing).
   */
  settle(opts?: {
    timeoutMs?: number;
    onProgress?: (p: DemoProgress) => void;
    orReturn?: boolean;
  }): Promise<ClassRecord[]>;
  /** Verifies the bucket and the ledger against the library; `gone` files are expected FAILED. */
  evaluate(scanId: string | undefined, gone?: ReadonlySet<string>): Promise<DemoReport>;
  stop(opts?: { keepLog?: boolean }): Promise<void>;
}

/** Starts servers, origin, catalog, resources and (unless told not to) the workers. */
export async function startLocalPipeline(opts: LocalPipelineOptions = {}): Promise<LocalPipeline> {
  const started = Date.now();
  // A caller with its own logger (the tests) gets no log file; the demo's is removed unless kept (a failed run).
  const logFile = opts.log
    ? undefined
    : join(tmpdir(), `flants-demo-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.log`);
  const logStream: WriteStream | undefined = logFile ? createWriteStream(logFile) : undefined;
  const previousSink = logStream ? setLogSink((line) => logStream.write(`${line}\n`)) : undefined;
  const log = opts.log ?? createLogger({ demo: true });
  const library = generateLibrary(opts.library);
  const counters = { retries: 0, completions: {} as Record<string, number> };
  const timing = { scanAt: 0, settledAt: 0 };
  let stack: LocalStack | undefined;
  let origin: OriginServer | undefined;
  let s3Proxy: S3FaultProxy | undefined;
  let runner: Runner | undefined;
  let deps: Deps | undefined;
  let verifyDeps: Deps | undefined;
  let mongo: MongoClient | undefined;
  const stop = async ({ keepLog = false }: { keepLog?: boolean } = {}) => {
    await runner?.stop().catch(() => undefined);
    await mongo?.close().catch(() => undefined);
    await verifyDeps?.close().catch(() => undefined);
    await deps?.close().catch(() => undefined);
    await origin?.close().catch(() => undefined);
    await s3Proxy?.close().catch(() => undefined);
    await stack?.stop().catch(() => undefined);
    // Later log lines (another run in this process) must not go to a closed file.
    if (previousSink) setLogSink(previousSink);
    if (logStream) await new Promise<void>((r) => logStream.end(r));
    if (logFile && !keepLog) rmSync(logFile, { force: true });
  };
  try {
    [stack, origin] = await Promise.all([
      startLocalStack(),
      startOriginServer(opts.content ? opts.content(library) : library, opts.originListen ?? {}),
    ]);
    const originFaults = opts.faults ? originFaultsFor(opts.faults, library) : undefined;
    if (originFaults) origin.setFaults(originFaults);
    const gone = new Set(originFaults?.gone ?? []);
    if (opts.countS3 || (opts.faults && (opts.faults.s3.slowDown > 0 || opts.faults.s3.reset > 0))) {
      s3Proxy = await startS3FaultProxy(stack.endpoints.s3!, opts.faults ? s3FaultsFor(opts.faults) : {});
    }
    const env: Record<string, string> = {
      ...stack.env,
      FLANTS_STAGE: 'demo',
      DEST_PREFIX: 'library/',
      ORIGIN_ALLOWED_HOSTS: new URL(origin.url).host,
      // The library's fMP4 classes publish a DASH manifest beside the master playlist: copied too.
      ALSO_COPY_MANIFESTS: 'manifest.mpd',
      // Faults are the point of a fault run: retry quickly so the demo stays short.
      TRANSFER_RETRY_BASE_MS: '50',
      // The lab's classes all end the moment the catalog is seeded: by age every one would be fresh, and
      // the bulk lane (what a backfill uses) never exercised. Fresh-lane runs set FRESH_WITHIN_HOURS.
      FRESH_WITHIN_HOURS: '0',
      ...opts.env,
    };
    // The pipeline's configuration is built from this environment; nothing here changes process.env.
    // Verification reads the bucket directly, never through the fault proxy.
    verifyDeps = buildDeps(loadConfig({ ...process.env, ...env }), log);
    if (s3Proxy) env.AWS_ENDPOINT_URL_S3 = s3Proxy.url;
    const cfg: Config = loadConfig({ ...process.env, ...env });
    const base = buildDeps(cfg, log);
    // The lab's figures: retries and completions, heard as any metrics publisher hears them.
    base.events.on('retry', () => void counters.retries++);
    base.events.on(
      'classComplete',
      ({ classId }) => void (counters.completions[classId] = (counters.completions[classId] ?? 0) + 1),
    );
    const decorated: Deps = {
      ...base,
      queue: opts.transferCopies && opts.transferCopies > 1 ? duplicating(base.queue, opts.transferCopies) : base.queue,
    };
    deps = opts.decorate ? opts.decorate(decorated) : decorated;

    const def = loadServiceDefinition(cfg.stage);
    // Short visibility: a failed local attempt is retried in seconds (Lambda waits the full timeout).
    await setupResources(cfg, def, deps.aws, { visibilityTimeout: opts.visibilityTimeout ?? 30 });
    mongo = await new MongoClient(stack.env.MONGODB_URI!).connect();
    const seededAt = opts.catalogTime ?? new Date();
    const stamped = (at: Date) => (doc: SampleDocument) => ({
      ...doc,
      updatedAt: at,
      ...(doc.status === 'broadcast' && doc.endedAt ? { endedAt: at } : {}),
    });
    const held = new Set(library.classes.slice(library.classes.length - (opts.holdBack ?? 0)).map((c) => c.id));
    const documents = library.catalogDocuments(origin.url);
    const classesCollection = mongo.db().collection(cfg.mongo.collection);
    await classesCollection.insertMany(documents.filter((d) => !held.has(d._id.toHexString())).map(stamped(seededAt)));
    // The indexes the incremental scan reads by (docs/continuous.md, "Incremental scans").
    for (const field of cfg.scan.changeFields)
      await classesCollection.createIndex({ [cfg.mongo.fields[field]]: 1, _id: 1 });
    if (!opts.noRunner) {
      runner = await startRunner({
        def,
        deps,
        region: cfg.region!,
        retryDelaySeconds: 1,
        concurrency: { scan: 1, crawl: 2, transfer: 4, ...opts.concurrency },
        ...(opts.wrap ? { wrap: opts.wrap } : {}),
      });
    }
    const d = deps;
    const o = origin;
    const proxy = s3Proxy;
    const wanted = new Set(library.classes.map((c) => c.id));
    const listWanted = async () => (await d.ledger.listClasses()).filter((r) => wanted.has(r.classId));

    return {
      library,
      cfg,
      deps: d,
      origin: o,
      stack,
      runner,
      gone,
      env,
      counters,
      logFile,
      started,
      s3Faults: () => proxy?.stats().faults,
      s3Writes: () => {
        if (!proxy) return undefined;
        const st = proxy.stats();
        return { total: st.objectWrites, byKey: st.writtenKeys };
      },
      async scan() {
        const scanId = `demo-${Date.now().toString(36)}`;
        timing.scanAt ||= Date.now();
        // As `flants scan` sends it: the token claims the first page also for its redrive.
        const scan = scanRequest({ mode: 'catalog', scanId, token: newPageToken() });
        await d.queue.sendAll('scan', [scan]);
        return scanId;
      },
      async addToCatalog(classIds, at = new Date()) {
        const wantedDocs = documents.filter((d) => classIds.includes(d._id.toHexString()));
        await classesCollection.insertMany(wantedDocs.map(stamped(at)));
      },
      async settle({ timeoutMs = 10 * 60_000, onProgress, orReturn = false } = {}) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const records = await listWanted();
          const progress: DemoProgress = {
            classesTotal: wanted.size,
            classesComplete: records.filter((r) => r.status === 'COMPLETE').length,
            classesFailed: records.filter((r) => r.status === 'FAILED').length,
            filesTotal: Math.max(
              library.totalFiles,
              records.reduce((n, r) => n + (r.totalFiles ?? 0), 0),
            ),
            filesDone: records.reduce((n, r) => n + (r.doneFiles ?? 0), 0),
            bytesDone: records.reduce((n, r) => n + (r.doneBytes ?? 0), 0),
            elapsedMs: Date.now() - started,
          };
          onProgress?.(progress);
          // FAILED classes are final once nothing is left in flight (their jobs are in the DLQs).
          if (progress.classesComplete + progress.classesFailed === wanted.size) {
            // Let duplicate deliveries still in the queues land too: the counters must not move.
            await waitForIdleQueues(d.queue, { timeoutMs: Math.max(1_000, deadline - Date.now()) });
            const after = await listWanted();
            if (after.every((r) => r.status === 'COMPLETE' || r.status === 'FAILED') && after.length === wanted.size) {
              timing.settledAt = Date.now();
              return after;
            }
          }
          if (Date.now() > deadline) {
            const depths: Record<string, number> = {};
            for (const role of ['scan', 'crawl', 'transfer'] as const) {
              const q = await d.queue.depth(role).catch(() => undefined);
              if (q) depths[role] = q.visible + q.inFlight + q.delayed;
            }
            const message = describeWaiting(timeoutMs / 1000, [...wanted], records, depths);
            log.error(message);
            if (orReturn) return records;
            throw new Error(message);
          }
          await sleep(500);
        }
      },
      async evaluate(scanId, goneNow = gone) {
        const records = await listWanted();
        const pipelineSeconds = ((timing.settledAt || Date.now()) - (timing.scanAt || started)) / 1000;
        const verified = await verifyBucket(verifyDeps!, library, cfg.destPrefix, o.url, goneNow);
        const deadLettered = { scan: 0, crawl: 0, transfer: 0 };
        for (const role of ['scan', 'crawl', 'transfer'] as const) {
          const q = await d.queue.depth(`${role}-dlq`);
          deadLettered[role] = q.visible + q.inFlight + q.delayed;
        }
        const scanPages = scanId ? await d.ledger.getScan(scanId) : [];
        const byId = new Map(records.map((r) => [r.classId, r]));
        const classes: DemoClassResult[] = library.classes.map((c) => {
          const r = byId.get(c.id);
          return {
            classId: c.id,
            title: c.title,
            status: r?.status ?? 'MISSING',
            files: r?.doneFiles ?? 0,
            bytes: r?.doneBytes ?? 0,
            failedFiles: r?.failedFiles ?? 0,
          };
        });
        const files = classes.reduce((n, c) => n + c.files, 0);
        const bytes = classes.reduce((n, c) => n + c.bytes, 0);
        // A class that lost files at the origin must be FAILED listing exactly those; every other one COMPLETE, exact.
        const failures = new Map<string, string[]>();
        for (const c of library.classes) {
          if (c.paths.some((p) => goneNow.has(p)))
            failures.set(c.id, (await d.ledger.listFailures(c.id)).flatMap((f) => f.files.map((x) => x.key)).sort());
        }
        const doubleCounted =
          Object.values(counters.completions).filter((n) => n > 1).length +
          library.classes.filter((c) => (byId.get(c.id)?.doneFiles ?? 0) > c.files).length;
        const classOk = library.classes.every((c) => {
          const r = byId.get(c.id);
          const lostHere = c.paths.filter((p) => goneNow.has(p));
          if (lostHere.length > 0) {
            const expectedKeys = lostHere.map((p) => copyKeyOf(cfg.destPrefix, c.id, o.url, p)).sort();
            return r?.status === 'FAILED' && JSON.stringify(failures.get(c.id)) === JSON.stringify(expectedKeys);
          }
          return (
            r?.status === 'COMPLETE' &&
            r.doneFiles === c.files &&
            r.totalFiles === c.files &&
            r.doneBytes === c.bytes &&
            r.doneChunks === r.totalChunks
          );
        });
        const lost = verified.missing + verified.mismatches + verified.dangling;
        const zero = { scan: 0, crawl: 0, transfer: 0 };
        return {
          ok: classOk && doubleCounted === 0 && lost === 0 && verified.extra === 0,
          classes,
          skipped: scanPages.flatMap((p) => p.skipped),
          verified,
          totals: {
            classes: classes.length,
            files,
            bytes,
            wallSeconds: Number(((Date.now() - started) / 1000).toFixed(2)),
            pipelineSeconds: Number(pipelineSeconds.toFixed(2)),
            mbPerSecond: Number((bytes / 1e6 / pipelineSeconds).toFixed(2)),
            filesPerSecond: Number((files / pipelineSeconds).toFixed(1)),
          },
          runner: runner?.stats ?? { batches: zero, messages: { ...zero }, failures: { ...zero }, errors: 0 },
          origin: o.stats(),
          retries: counters.retries,
          faults: {
            spec: opts.faults && hasFaults(opts.faults) ? opts.faults : undefined,
            origin: o.stats().faults,
            s3: proxy?.stats().faults,
            gone: [...goneNow],
            deadLettered,
            lost,
            doubleCounted,
          },
          completions: counters.completions,
          freshness: freshnessSummary(records),
          logFile,
        };
      },
      stop,
    };
  } catch (err) {
    await stop({ keepLog: true });
    throw err;
  }
}

/**
 * Runs the whole pipeline on the embedded local stack: servers, sample library and origin,
 * catalog, scan → crawl → transfer until every valid class is COMPLETE, then verification.
 */
export async function runDemo(opts: DemoOptions = {}): Promise<DemoReport> {
  const p = await startLocalPipeline(opts);
  let report: DemoReport | undefined;
  try {
    const scanId = await p.scan();
    await p.settle({
      timeoutMs: opts.timeoutMs ?? 10 * 60_000,
      orReturn: true,
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
    await p.runner?.stop();
    report = await p.evaluate(scanId);
    // A run that passed has nothing to look up: its log goes with it.
    if (report.ok) report.logFile = undefined;
    return report;
  } finally {
    await p.stop({ keepLog: report?.ok !== true });
  }
}
