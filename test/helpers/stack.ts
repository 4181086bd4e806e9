import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { setupResources } from '../../src/ops/setup.ts';
import { loadServiceDefinition, type ServiceDefinition } from '../../src/ops/service-definition.ts';
import { startLocalStack, type LocalService, type LocalStack } from '../../lab/stack.ts';
import { createAwsClients, type AwsClients } from '../../src/store/aws.ts';

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
