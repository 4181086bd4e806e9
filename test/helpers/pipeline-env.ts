import { startOriginServer, type OriginContent, type OriginServer } from '../../lab/origin-server.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLedger } from '../../src/adapters/dynamodb/ledger.ts';
import { createOrigin } from '../../src/adapters/origin/client.ts';
import type { Origin } from '../../src/domain/ports/origin.ts';
import { createObjectStore } from '../../src/adapters/s3/objects.ts';
import type { ObjectStore } from '../../src/domain/ports/object-store.ts';
import { createJobQueue } from '../../src/adapters/sqs/queue.ts';
import type { JobQueue } from '../../src/domain/ports/job-queue.ts';
import type { TransferJob } from '../../src/domain/jobs/schemas.ts';
import type { Ledger } from '../../src/domain/ports/ledger.ts';
import { createPipelineEvents } from '../../src/pipeline/events.ts';
import { PipelineDriver } from './driver.ts';
import { startTestStack, type TestStack } from './stack.ts';

/** The real parts a pipeline test runs the crawler and transfer on, built against one test stack and one lab origin. */
export interface PipelineEnv {
  t: TestStack;
  server: OriginServer;
  /** The stack's settings, the origin's host allowed, then the test's own settings. */
  cfg: Config;
  origin: Origin;
  store: ObjectStore;
  ledger: Ledger;
  /** The stage's real queues. */
  jobs: JobQueue;
  stop(): Promise<void>;
}

/**
 * Local SQS, S3 and DynamoDB with the stage's resources, the lab origin serving `content`, and the
 * clients the pipeline uses on them: the set-up every pipeline test would otherwise write out again.
 */
export async function startPipelineEnv(
  content: OriginContent,
  settings: Record<string, string>,
  stackEnv: Record<string, string> = {},
): Promise<PipelineEnv> {
  const t = await startTestStack({ services: ['sqs', 's3', 'dynamodb'], env: stackEnv });
  const server = await startOriginServer(content).catch(async (err: unknown) => {
    await t.stop();
    throw err;
  });
  const cfg = loadConfig({
    ...process.env,
    ...t.env,
    ORIGIN_ALLOWED_HOSTS: new URL(server.url).host,
    ...settings,
  });
  const origin = createOrigin({ allowedHosts: cfg.originAllowedHosts });
  return {
    t,
    server,
    cfg,
    origin,
    store: createObjectStore(t.aws.s3, cfg.destBucket, { partSizeBytes: cfg.transfer.partSizeBytes }),
    ledger: createLedger(t.aws.ddb, cfg.tableName),
    jobs: createJobQueue(t.aws.sqs, cfg),
    async stop() {
      await origin.close();
      await server.close();
      await t.stop();
    },
  };
}

/** The real crawler and transfer on `env` (writing to `store`), their sends delivered by the driver instead of SQS. */
export function pipelineDriver(env: PipelineEnv, store: ObjectStore = env.store): PipelineDriver {
  const queue = PipelineDriver.queue(env.jobs, () => driver);
  const common = { cfg: env.cfg, origin: env.origin, ledger: env.ledger, queue, log: env.t.log };
  const driver: PipelineDriver = new PipelineDriver(
    { ...common, events: createPipelineEvents() },
    { ...common, store, events: createPipelineEvents() },
  );
  return driver;
}

/** A queue whose transfer jobs land in `sent` (for the test to run one by one) and whose other sends are `real`'s. */
export function collectingTransfers(real: JobQueue, sent: TransferJob[]): JobQueue {
  return {
    ...real,
    sendAll: async (name, bodies) =>
      void (name === 'transfer' ? sent.push(...(bodies as TransferJob[])) : real.sendAll(name, bodies)),
  };
}
