// The lab's engine: the embedded stack with a sample library loaded, the pipeline's dependencies wired
// to it, the catalog seeded and the workers polling; then settling and judging a run (the demo, the
// e2e and fault suites). Each step of starting it is a function of its own below startLocalPipeline.
import { createWriteStream, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { loadConfig, type Config } from '../src/config.ts';
import { scanRequest } from '../src/domain/jobs/envelopes.ts';
import { createLogger, setLogSink, type Logger } from '../src/log.ts';
import { buildDeps, type Deps } from '../src/wiring/deps.ts';
import type { ClassRecord } from '../src/domain/ledger/records.ts';
import { newPageToken } from '../src/domain/jobs/ids.ts';
import type { JobQueue } from '../src/domain/ports/job-queue.ts';
import { startRunner, type Runner, type RunnerOptions } from '../src/ops/runner.ts';
import { loadServiceDefinition } from '../src/ops/service-definition.ts';
import { setupResources } from '../src/ops/setup.ts';
import { generateLibrary, type SampleDocument, type SampleLibrary } from './library.ts';
import { originFaultsFor, s3FaultsFor } from './faults.ts';
import { startOriginServer, type OriginContent, type OriginServer } from './origin-server.ts';
import { startS3FaultProxy, type S3FaultProxy } from './s3-fault-proxy.ts';
import { startLocalStack, type LocalStack } from './stack.ts';
import { evaluateRun, settleClasses, type Run } from './run-checks.ts';
import type { DemoOptions, DemoProgress, DemoReport } from './demo.ts';

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
  const { logFile, logStream, previousSink, log } = openLog(opts.log);
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
    const env = labEnv(stack.env, origin.url, opts.env);
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
    const catalog = await seedCatalog(mongo, cfg, library, origin.url, opts);
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
    const run: Run = {
      library,
      cfg,
      deps: d,
      verifyDeps,
      origin: o,
      proxy,
      runner,
      counters,
      timing,
      started,
      log,
      logFile,
      faults: opts.faults,
      wanted,
      listWanted: async () => (await d.ledger.listClasses()).filter((r) => wanted.has(r.classId)),
    };

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
      addToCatalog: (classIds, at) => catalog.add(classIds, at),
      settle: (o) => settleClasses(run, o),
      evaluate: (scanId, goneNow = gone) => evaluateRun(run, scanId, goneNow),
      stop,
    };
  } catch (err) {
    await stop({ keepLog: true });
    throw err;
  }
}

/** The run's log: a file of its own unless the caller passed a logger (the tests); the previous sink to restore. */
function openLog(given: Logger | undefined): {
  logFile: string | undefined;
  logStream: WriteStream | undefined;
  previousSink: ReturnType<typeof setLogSink> | undefined;
  log: Logger;
} {
  // A caller with its own logger (the tests) gets no log file; the demo's is removed unless kept (a failed run).
  const logFile = given
    ? undefined
    : join(tmpdir(), `flants-demo-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.log`);
  const logStream: WriteStream | undefined = logFile ? createWriteStream(logFile) : undefined;
  const previousSink = logStream ? setLogSink((line) => logStream.write(`${line}\n`)) : undefined;
  return { logFile, logStream, previousSink, log: given ?? createLogger({ demo: true }) };
}

/** The pipeline's environment on the lab: the stack's endpoints, the origin allowed, the lab's defaults, then the caller's. */
function labEnv(
  stackEnv: Record<string, string>,
  originUrl: string,
  extra: Record<string, string> | undefined,
): Record<string, string> {
  return {
    ...stackEnv,
    FLANTS_STAGE: 'demo',
    DEST_PREFIX: 'library/',
    ORIGIN_ALLOWED_HOSTS: new URL(originUrl).host,
    // The library's fMP4 classes publish a DASH manifest beside the master playlist: copied too.
    ALSO_COPY_MANIFESTS: 'manifest.mpd',
    // Faults are the point of a fault run: retry quickly so the demo stays short.
    TRANSFER_RETRY_BASE_MS: '50',
    // The lab's classes all end the moment the catalog is seeded: by age every one would be fresh, and
    // the bulk lane (what a backfill uses) never exercised. Fresh-lane runs set FRESH_WITHIN_HOURS.
    FRESH_WITHIN_HOURS: '0',
    ...extra,
  };
}

/**
 * Seeds the catalog with the library's documents, ended and changed at `catalogTime` (default now), all
 * but the `holdBack` last classes; `add` adds those later. Creates the indexes the incremental scan reads by.
 */
async function seedCatalog(
  mongo: MongoClient,
  cfg: Config,
  library: SampleLibrary,
  originUrl: string,
  opts: Pick<LocalPipelineOptions, 'catalogTime' | 'holdBack'>,
): Promise<{ add(classIds: readonly string[], at?: Date): Promise<void> }> {
  const seededAt = opts.catalogTime ?? new Date();
  const stamped = (at: Date) => (doc: SampleDocument) => ({
    ...doc,
    updatedAt: at,
    ...(doc.status === 'broadcast' && doc.endedAt ? { endedAt: at } : {}),
  });
  const held = new Set(library.classes.slice(library.classes.length - (opts.holdBack ?? 0)).map((c) => c.id));
  const documents = library.catalogDocuments(originUrl);
  const classesCollection = mongo.db().collection(cfg.mongo.collection);
  await classesCollection.insertMany(documents.filter((d) => !held.has(d._id.toHexString())).map(stamped(seededAt)));
  // The indexes the incremental scan reads by (docs/continuous.md, "Incremental scans").
  for (const field of cfg.scan.changeFields)
    await classesCollection.createIndex({ [cfg.mongo.fields[field]]: 1, _id: 1 });
  return {
    async add(classIds, at = new Date()) {
      const wantedDocs = documents.filter((d) => classIds.includes(d._id.toHexString()));
      await classesCollection.insertMany(wantedDocs.map(stamped(at)));
    },
  };
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
