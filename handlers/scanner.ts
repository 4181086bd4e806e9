import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ScanRequestSchema } from '../src/jobs/schemas.ts';
import { processBatch } from '../src/pipeline/batch.ts';
import { sharedDeps } from '../src/pipeline/deps.ts';
import { runScan } from '../src/pipeline/scanner.ts';

/** Scan queue → scanner: catalog (or one class) → crawl jobs. */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const deps = sharedDeps();
  const catalog = await deps.catalog();
  return processBatch(event, {
    role: 'scan',
    schema: ScanRequestSchema,
    concurrency: 1,
    queue: deps.queue,
    log: deps.log.child({ fn: 'scanner' }),
    maxReceiveCount: deps.cfg.maxReceiveCount,
    handle: async (req, ctx) => {
      await runScan(req, { ...deps, catalog, log: deps.log.child({ fn: 'scanner' }) }, { messageId: ctx.messageId });
    },
  });
}
