import { loadConfig, type Config } from '../config.ts';
import { createLogger, type Logger } from '../log.ts';
import { createOrigin, type Origin } from '../origin/client.ts';
import { createAwsClients, type AwsClients } from '../store/aws.ts';
import { openCatalog, type Catalog } from '../store/catalog.ts';
import { createLedger, type Ledger } from '../store/ledger.ts';
import { createObjectStore, type ObjectStore } from '../store/objects.ts';
import { createJobQueue, type JobQueue } from '../store/queue.ts';
import { ByteBudget } from '../util/byte-budget.ts';

/** Everything a handler needs, built once per process (a warm Lambda container reuses it). */
export interface Deps {
  cfg: Config;
  log: Logger;
  aws: AwsClients;
  queue: JobQueue;
  ledger: Ledger;
  store: ObjectStore;
  origin: Origin;
  /** Upload buffers the whole process may hold at once (TRANSFER_MEMORY_BUDGET_MB). */
  budget: ByteBudget;
  catalog(): Promise<Catalog>;
  /** Observes in-attempt retries (the demo and the fault suite count them). */
  onRetry?: (file: { key: string; src: string }, err: unknown) => void;
  /** Observes the one step that marks a class COMPLETE. */
  onClassComplete?: (classId: string) => void;
  close(): Promise<void>;
}

/** Builds the dependencies from a configuration. */
export function buildDeps(cfg: Config, log: Logger = createLogger({ stage: cfg.stage })): Deps {
  const aws = createAwsClients(cfg, { maxSockets: Math.max(64, cfg.transfer.concurrency * 4) });
  const origin = createOrigin({
    allowedHosts: cfg.originAllowedHosts,
    maxRedirects: cfg.origin.maxRedirects,
    connectTimeoutMs: cfg.origin.connectTimeoutMs,
    headersTimeoutMs: cfg.origin.headersTimeoutMs,
    bodyTimeoutMs: cfg.origin.bodyTimeoutMs,
    connections: Math.max(16, cfg.transfer.concurrency * 4),
  });
  let catalog: Promise<Catalog> | undefined;
  return {
    cfg,
    log,
    aws,
    queue: createJobQueue(aws.sqs, cfg),
    ledger: createLedger(aws.ddb, cfg.tableName),
    store: createObjectStore(aws.s3, cfg.destBucket, { partSizeBytes: cfg.transfer.partSizeBytes }),
    origin,
    budget: new ByteBudget(cfg.transfer.memoryBudgetBytes),
    catalog() {
      catalog ??= openCatalog(cfg).catch((err: unknown) => {
        catalog = undefined;
        throw err;
      });
      return catalog;
    },
    async close() {
      aws.destroy();
      await origin.close();
    },
  };
}

let shared: Deps | undefined;

/** The process-wide dependencies, from the environment; handlers call this on every invocation. */
export function sharedDeps(): Deps {
  shared ??= buildDeps(loadConfig());
  return shared;
}

/** Installs dependencies for this process's handlers (the local runner decorates them for fault runs). */
export function setSharedDeps(deps: Deps): void {
  shared = deps;
}

/** Forgets the process-wide dependencies (the local runner calls it after changing the environment). */
export async function resetSharedDeps(): Promise<void> {
  const old = shared;
  shared = undefined;
  await old?.close();
}
