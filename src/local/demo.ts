import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient } from 'mongodb';
import { loadConfig, type Config } from '../config.ts';
import { describeError } from '../errors.ts';
import { MESSAGE_VERSION, type ScanRequest } from '../jobs/schemas.ts';
import { createLogger, setLogSink, type Logger } from '../log.ts';
import { buildDeps, resetSharedDeps, setSharedDeps, type Deps } from '../pipeline/deps.ts';
import { closeCatalogs } from '../store/catalog.ts';
import type { ClassRecord } from '../store/ledger.ts';
import type { JobQueue } from '../store/queue.ts';
import { mapLimit } from '../util/concurrency.ts';
import { generateLibrary, type LibraryOptions, type SampleLibrary } from './library.ts';
import { startOriginServer, type OriginFaults, type OriginServer } from './origin-server.ts';
import { startRunner, type Runner, type RunnerStats } from './runner.ts';
import { loadServiceDefinition } from './service-definition.ts';
import { setupResources } from './setup.ts';
import { startLocalStack, type LocalStack } from './stack.ts';

export interface DemoOptions {
  library?: LibraryOptions;
  /** Faults for the local origin. */
  originFaults?: OriginFaults;
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
  verified: { objects: number; mismatches: number; missing: number; extra: number; problems: string[] };
  totals: { classes: number; files: number; bytes: number; wallSeconds: number; mbPerSecond: number; filesPerSecond: number };
  runner: RunnerStats;
  origin: ReturnType<OriginServer['stats']>;
  retries: number;
  /** How many times each class was marked COMPLETE (exactly once each, whatever SQS delivered). */
  completions: Record<string, number>;
  /** Where the pipeline's JSON log lines went. */
  logFile: string;
}

/** Sends each transfer job `copies` times: real duplicate SQS messages, not a simulation. */
function duplicating(queue: JobQueue, copies: number): JobQueue {
  return {
    ...queue,
    sendAll: (name, bodies) => queue.sendAll(name, name === 'transfer' ? bodies.flatMap((b) => Array.from({ length: copies }, () => b)) : bodies),
  };
}

async function sha256(stream: Readable): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of stream) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Checks every object the library should have produced against the origin's bytes, and finds strays. */
export async function verifyBucket(deps: Pick<Deps, 'store'>, library: SampleLibrary, prefix: string): Promise<DemoReport['verified']> {
  const expected = new Map<string, string>();
  for (const cls of library.classes) for (const path of cls.paths) expected.set(`${prefix}${path.replace(/^\/+/, '')}`, path);
  const listed = new Map<string, number>();
  for await (const o of deps.store.list(prefix)) listed.set(o.key, o.size);
  const problems: string[] = [];
  let mismatches = 0;
  let missing = 0;
  await mapLimit([...expected], 16, async ([key, path]) => {
    if (!listed.has(key)) {
      missing++;
      problems.push(`missing: ${key}`);
      return;
    }
    const [stored, original] = await Promise.all([deps.store.get(key).then(sha256), sha256(library.read(path))]);
    if (stored !== original) {
      mismatches++;
      problems.push(`mismatch: ${key}`);
    }
  });
  const extra = [...listed.keys()].filter((k) => !expected.has(k));
  for (const k of extra) problems.push(`unexpected object: ${k}`);
  return { objects: listed.size, mismatches, missing, extra: extra.length, problems: problems.slice(0, 50) };
}

/**
 * Runs the whole pipeline on the embedded local stack: servers, sample library and origin,
 * catalog, scan → crawl → transfer until every valid class is COMPLETE, then verification.
 */
export async function runDemo(opts: DemoOptions = {}): Promise<DemoReport> {
  const started = Date.now();
  const logFile = join(tmpdir(), `flants-demo-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
  const logStream = createWriteStream(logFile);
  if (!opts.log) setLogSink((line) => logStream.write(`${line}\n`));
  const log = opts.log ?? createLogger({ demo: true });
  const library = generateLibrary(opts.library);
  let stack: LocalStack | undefined;
  let origin: OriginServer | undefined;
  let runner: Runner | undefined;
  let deps: Deps | undefined;
  let mongo: MongoClient | undefined;
  let retries = 0;
  const completions: Record<string, number> = {};
  try {
    [stack, origin] = await Promise.all([startLocalStack(), startOriginServer(library)]);
    if (opts.originFaults) origin.setFaults(opts.originFaults);
    const env: Record<string, string> = {
      ...stack.env,
      FLANTS_STAGE: 'demo',
      DEST_PREFIX: 'library/',
      ORIGIN_ALLOWED_HOSTS: new URL(origin.url).host,
      // Faults are the point of a fault run: retry quickly so the demo stays short.
      TRANSFER_RETRY_BASE_MS: '50',
      ...opts.env,
    };
    Object.assign(process.env, env);
    const cfg: Config = loadConfig(process.env);
    await resetSharedDeps();
    const base = buildDeps(cfg, log);
    deps = { ...base, queue: opts.transferCopies && opts.transferCopies > 1 ? duplicating(base.queue, opts.transferCopies) : base.queue, onRetry: () => void retries++, onClassComplete: (id) => void (completions[id] = (completions[id] ?? 0) + 1) };
    setSharedDeps(deps);

    const def = loadServiceDefinition(cfg.stage);
    // Short visibility: a failed local attempt is retried in seconds (Lambda waits the full timeout).
    await setupResources(cfg, def, deps.aws, { visibilityTimeout: 30 });
    mongo = await new MongoClient(stack.env.MONGODB_URI!).connect();
    await mongo.db().collection(cfg.mongo.collection).insertMany(library.catalogDocuments(origin.url));

    const scanId = `demo-${started.toString(36)}`;
    const scan: ScanRequest = { v: MESSAGE_VERSION, type: 'scan', mode: 'catalog', scanId };
    await deps.queue.sendAll('scan', [scan]);
    runner = await startRunner({
      def,
      sqs: deps.aws.sqs,
      queue: deps.queue,
      log,
      region: cfg.region!,
      retryDelaySeconds: 1,
      concurrency: { scan: 1, crawl: 2, transfer: 4, ...opts.concurrency },
    });

    const wanted = new Set(library.classes.map((c) => c.id));
    const deadline = started + (opts.timeoutMs ?? 10 * 60_000);
    let records: ClassRecord[] = [];
    for (;;) {
      records = (await deps.ledger.listClasses()).filter((r) => wanted.has(r.classId));
      const progress: DemoProgress = {
        classesTotal: wanted.size,
        classesComplete: records.filter((r) => r.status === 'COMPLETE').length,
        classesFailed: records.filter((r) => r.status === 'FAILED').length,
        filesTotal: Math.max(library.totalFiles, records.reduce((n, r) => n + (r.totalFiles ?? 0), 0)),
        filesDone: records.reduce((n, r) => n + (r.doneFiles ?? 0), 0),
        bytesDone: records.reduce((n, r) => n + (r.doneBytes ?? 0), 0),
        elapsedMs: Date.now() - started,
      };
      opts.onProgress?.(progress);
      if (progress.classesComplete === wanted.size) break;
      // FAILED classes are final once nothing is left in flight (their jobs are in the DLQs).
      if (progress.classesComplete + progress.classesFailed === wanted.size) {
        await runner.untilIdle({ timeoutMs: Math.max(1_000, deadline - Date.now()) });
        records = (await deps.ledger.listClasses()).filter((r) => wanted.has(r.classId));
        if (records.every((r) => r.status === 'COMPLETE' || r.status === 'FAILED')) break;
      }
      if (Date.now() > deadline) {
        log.error('demo timed out', { complete: progress.classesComplete, total: wanted.size });
        break;
      }
      await sleep(500);
    }
    // Let duplicate deliveries still in the queues land too: the counters must not move.
    await runner.untilIdle({ timeoutMs: Math.max(5_000, deadline - Date.now()) }).catch((err: unknown) => log.warn('not idle at the end', { error: describeError(err) }));
    await runner.stop();
    records = (await deps.ledger.listClasses()).filter((r) => wanted.has(r.classId));
    const wallSeconds = (Date.now() - started) / 1000;

    const verified = await verifyBucket(deps, library, cfg.destPrefix);
    const scanPages = await deps.ledger.getScan(scanId);
    const byId = new Map(records.map((r) => [r.classId, r]));
    const classes: DemoClassResult[] = library.classes.map((c) => {
      const r = byId.get(c.id);
      return { classId: c.id, title: c.title, status: r?.status ?? 'MISSING', files: r?.doneFiles ?? 0, bytes: r?.doneBytes ?? 0, failedFiles: r?.failedFiles ?? 0 };
    });
    const files = classes.reduce((n, c) => n + c.files, 0);
    const bytes = classes.reduce((n, c) => n + c.bytes, 0);
    const countsExact = library.classes.every((c) => {
      const r = byId.get(c.id);
      return r?.status === 'COMPLETE' && r.doneFiles === c.files && r.totalFiles === c.files && r.doneBytes === c.bytes && r.doneChunks === r.totalChunks;
    });
    return {
      ok: countsExact && verified.mismatches === 0 && verified.missing === 0 && verified.extra === 0,
      classes,
      skipped: scanPages.flatMap((p) => p.skipped),
      verified,
      totals: {
        classes: classes.length,
        files,
        bytes,
        wallSeconds: Number(wallSeconds.toFixed(2)),
        mbPerSecond: Number((bytes / 1e6 / wallSeconds).toFixed(2)),
        filesPerSecond: Number((files / wallSeconds).toFixed(1)),
      },
      runner: runner.stats,
      origin: origin.stats(),
      retries,
      completions,
      logFile,
    };
  } finally {
    await runner?.stop().catch(() => undefined);
    await mongo?.close().catch(() => undefined);
    await closeCatalogs().catch(() => undefined);
    await resetSharedDeps().catch(() => undefined);
    await origin?.close().catch(() => undefined);
    await stack?.stop().catch(() => undefined);
    await new Promise<void>((r) => logStream.end(r));
  }
}
