import { randomBytes } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { startS3FaultProxy } from '../../lab/s3-fault-proxy.ts';
import type { S3Operation } from '../../lab/s3-operations.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { setupResources } from '../../src/ops/setup.ts';
import { loadServiceDefinition, type ServiceDefinition } from '../../src/ops/service-definition.ts';
import { startLocalStack, type LocalService, type LocalStack } from '../../lab/stack.ts';
import { createAwsClients, type AwsClients } from '../../src/wiring/aws-clients.ts';
import { createPipelineEvents } from '../../src/pipeline/events.ts';
import type { TransferDeps } from '../../src/pipeline/copy-file.ts';
import { createLedger } from '../../src/adapters/dynamodb/ledger.ts';
import type { ObjectStore } from '../../src/domain/ports/object-store.ts';
import { createJobQueue } from '../../src/adapters/sqs/queue.ts';

export interface TestStack {
  stack: LocalStack;
  env: Record<string, string>;
  cfg: Config;
  def: ServiceDefinition;
  aws: AwsClients;
  log: Logger;
  stop(): Promise<void>;
}

/** A quiet logger for tests; set FLANTS_TEST_LOG=1 to see the pipeline's lines. */
export function testLogger(): Logger {
  return createLogger({}, process.env.FLANTS_TEST_LOG ? 'debug' : 'silent');
}

/**
 * Starts real local servers for one test file and creates the stage's resources from serverless.yml.
 * Each file gets its own stage name. `env` (and `cfg`, built from it) point at the servers; nothing
 * here changes process.env: code under test gets its configuration passed in.
 */
export async function startTestStack(
  opts: { services?: LocalService[]; env?: Record<string, string>; visibilityTimeout?: number } = {},
): Promise<TestStack> {
  const stack = await startLocalStack(opts.services);
  const stage = `t${randomBytes(3).toString('hex')}`;
  const env: Record<string, string> = {
    ...stack.env,
    FLANTS_STAGE: stage,
    FLANTS_LOG_LEVEL: process.env.FLANTS_TEST_LOG ? 'debug' : 'silent',
    ...opts.env,
  };
  const cfg = loadConfig({ ...process.env, ...env });
  const def = loadServiceDefinition(stage);
  const aws = createAwsClients(cfg);
  if (stack.endpoints.sqs && stack.endpoints.s3 && stack.endpoints.dynamodb) {
    await setupResources(
      cfg,
      def,
      aws,
      opts.visibilityTimeout === undefined ? {} : { visibilityTimeout: opts.visibilityTimeout },
    );
  }
  return {
    stack,
    env,
    cfg,
    def,
    aws,
    log: testLogger(),
    async stop() {
      aws.destroy();
      await stack.stop();
    },
  };
}

/** What the transfer needs, on this test stack: the given config, origin and store; the stack's ledger and queues. */
export function transferDepsOn(
  t: TestStack,
  cfg: Config,
  origin: TransferDeps['origin'],
  store: ObjectStore,
): TransferDeps {
  return {
    cfg,
    origin,
    store,
    ledger: createLedger(t.aws.ddb, cfg.tableName),
    queue: createJobQueue(t.aws.sqs, cfg),
    events: createPipelineEvents(),
    log: t.log,
  };
}

/** An object's bytes, read back from the store. */
export async function objectBytes(store: Pick<ObjectStore, 'get'>, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await store.get(key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * An S3 client for the stack whose requests pass a proxy that tells `onRequest` what reached S3:
 * the SDK's calls and the transfer's own PutObjects alike, as the wire shows them.
 */
export async function recordingS3(
  t: TestStack,
  onRequest: (op: S3Operation) => void,
): Promise<{ s3: S3Client; close(): Promise<void> }> {
  const proxy = await startS3FaultProxy(t.stack.endpoints.s3!, {}, { onRequest });
  const s3 = new S3Client({
    region: t.cfg.region ?? 'us-east-1',
    endpoint: proxy.url,
    forcePathStyle: true,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return {
    s3,
    async close() {
      s3.destroy();
      await proxy.close();
    },
  };
}
