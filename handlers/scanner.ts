import { ScanRequestSchema } from '../src/domain/jobs/schemas.ts';
import { processBatch } from '../src/pipeline/batch.ts';
import type { Deps } from '../src/wiring/deps.ts';
import { invocationLogger, lambdaEntry, type SqsHandler } from '../src/wiring/lambda.ts';
import { runScan } from '../src/pipeline/scanner.ts';

/** Scan queue → scanner: catalog (or one class) → crawl jobs. */
export function createHandler(deps: Deps): SqsHandler {
  const base = deps.log.child({ fn: 'scanner' });
  const first = { cold: true };
  return async (event, context) => {
    const log = invocationLogger(base, context, first);
    const catalog = await deps.catalog();
    return processBatch(event, {
      role: 'scan',
      schema: ScanRequestSchema,
      concurrency: 1,
      queue: deps.queue,
      events: deps.events,
      log,
      maxReceiveCount: deps.cfg.maxReceiveCount,
      retryBackoffSeconds: deps.cfg.retryBackoffSeconds,
      handle: async (req, ctx) => {
        await runScan(req, { ...deps, catalog, log: ctx.log }, { messageId: ctx.messageId, lane: ctx.lane });
      },
    });
  };
}

/** The Lambda handler: dependencies from the environment, once per container. */
export const handler = lambdaEntry(createHandler);
