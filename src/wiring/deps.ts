import type { Config } from '../config.ts';
import { createLogger, type Logger } from '../log.ts';
import { createOrigin } from '../adapters/origin/client.ts';
import type { Origin } from '../domain/ports/origin.ts';
import { OriginGate } from '../domain/origin/gate.ts';
import { OriginHealthReporter } from '../adapters/dynamodb/origin-health.ts';
import { createAwsClients, type AwsClients } from './aws-clients.ts';
import { createLedger } from '../adapters/dynamodb/ledger.ts';
import type { Ledger } from '../domain/ports/ledger.ts';
import type { Catalog } from '../domain/ports/catalog.ts';
import { openConfiguredCatalog } from './catalog.ts';
import { createObjectStore } from '../adapters/s3/objects.ts';
import type { ObjectStore } from '../domain/ports/object-store.ts';
import { createJobQueue } from '../adapters/sqs/queue.ts';
import type { JobQueue } from '../domain/ports/job-queue.ts';
import { ByteBudget } from '../util/byte-budget.ts';
import { createPipelineEvents, type PipelineEvents } from '../pipeline/events.ts';

/** Everything a handler needs, built once by its owner (a Lambda handler module per container, the CLI, the lab) and closed by it. */
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
  /** The catalog, opened on first use and kept (a warm Lambda container reuses its connection). */
  catalog(): Promise<Catalog>;
  /** Retries and completions, announced for metrics and whoever else listens. */
  events: PipelineEvents;
  /** Paces this process's origin requests per host: its share of the fleet's limits, and back-pressure. */
  gate: OriginGate;
  /** Reports the origin's answers to the ledger and hears the fleet's throttles (called after each batch). */
  originHealth: OriginHealthReporter;
  /** Closes everything these dependencies opened: SDK clients, origin connections, the catalog. */
  close(): Promise<void>;
}

/** Builds the dependencies from a configuration. */
export function buildDeps(cfg: Config, log: Logger = createLogger({ stage: cfg.stage })): Deps {
  const aws = createAwsClients(cfg, { maxSockets: Math.max(64, cfg.transfer.concurrency * 4) });
  const gate = new OriginGate(cfg.originLimits);
  const events = createPipelineEvents();
  gate.onThrottle((e) =>
    events.emit('originThrottled', { host: e.host, what: e.what, throttled: e.kind === 'throttled' }),
  );
  const origin = createOrigin({
    gate,
    allowedHosts: cfg.originAllowedHosts,
    maxRedirects: cfg.origin.maxRedirects,
    connectTimeoutMs: cfg.origin.connectTimeoutMs,
    headersTimeoutMs: cfg.origin.headersTimeoutMs,
    bodyTimeoutMs: cfg.origin.bodyTimeoutMs,
    connections: Math.max(16, cfg.transfer.concurrency * 4),
  });
  let catalog: Promise<Catalog> | undefined;
  const store = createObjectStore(aws.s3, cfg.destBucket, { partSizeBytes: cfg.transfer.partSizeBytes });
  return {
    cfg,
    log,
    aws,
    queue: createJobQueue(aws.sqs, cfg),
    ledger: createLedger(aws.ddb, cfg.tableName),
    store,
    origin,
    budget: new ByteBudget(cfg.transfer.memoryBudgetBytes),
    events,
    gate,
    originHealth: new OriginHealthReporter(aws.ddb, cfg.tableName, gate, cfg.originLimits.reportSeconds),
    catalog() {
      // Opened when first asked for: only the scanner reads the catalog (see openConfiguredCatalog).
      catalog ??= openConfiguredCatalog(cfg).catch((err: unknown) => {
        catalog = undefined;
        throw err;
      });
      return catalog;
    },
    async close() {
      const opened = catalog;
      catalog = undefined;
      await (await opened?.catch(() => undefined))?.close();
      aws.destroy();
      await Promise.all([origin.close(), store.close()]);
    },
  };
}
