import { ScanRequestSchema } from '../src/jobs/schemas.ts';
import { processBatch } from '../src/pipeline/batch.ts';
import type { Deps } from '../src/pipeline/deps.ts';
import { lambdaEntry, type SqsHandler } from '../src/pipeline/lambda.ts';
import { runScan } from '../src/pipeline/scanner.ts';

/** Scan queue → scanner: catalog (or one class) → crawl jobs. */
export function createHandler(deps: Deps): SqsHandler {
  const log = deps.log.child({ fn: 'scanner' });
  return async (event) => {
    const catalog = await deps.catalog();
    return processBatch(event, {
      role: 'scan',
      schema: ScanRequestSchema,
      concurrency: 1,
      queue: deps.queue,
      log,
      maxReceiveCount: deps.cfg.maxReceiveCount,
      retryBackoffSeconds: deps.cfg.retryBackoffSeconds,
      handle: async (req, ctx) => {
        await runScan(req, { ...deps, catalog, log }, { messageId: ctx.messageId });
      },
    });
  };
}

/** The Lambda handler: dependencies from the environment, once per container. */
export const handler = lambdaEntry(createHandler);
