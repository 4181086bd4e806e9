import { setMaxListeners } from 'node:events';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { TransferJobSchema } from '../src/jobs/schemas.ts';
import { processBatch } from '../src/pipeline/batch.ts';
import { sharedDeps } from '../src/pipeline/deps.ts';
import { runTransfer } from '../src/pipeline/transfer.ts';

/** Leave this much of the Lambda timeout to report failures instead of being killed mid-batch. */
const TIMEOUT_MARGIN_MS = 15_000;

/** Transfer queue → transfer: origin → S3, then the atomic chunk + counter step. */
export async function handler(event: SQSEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse> {
  const deps = sharedDeps();
  const log = deps.log.child({ fn: 'transfer' });
  const abort = new AbortController();
  // One signal is shared by every request of the batch (origin reads, S3 parts): many listeners, on purpose.
  setMaxListeners(0, abort.signal);
  const remaining = context?.getRemainingTimeInMillis();
  const timer = remaining ? setTimeout(() => abort.abort(new Error('Lambda timeout approaching')), Math.max(1_000, remaining - TIMEOUT_MARGIN_MS)) : undefined;
  const visibility = await deps.queue.visibilityTimeout('transfer');
  try {
    return await processBatch(event, {
      role: 'transfer',
      schema: TransferJobSchema,
      concurrency: event.Records.length,
      queue: deps.queue,
      log,
      maxReceiveCount: deps.cfg.maxReceiveCount,
      signal: abort.signal,
      // A large file may take longer than the visibility timeout locally; keep it ours while we copy.
      heartbeat: { everySeconds: Math.max(1, Math.floor(visibility / 3)), visibilitySeconds: visibility },
      handle: async (job, ctx) => {
        const result = await runTransfer(job, { receiveCount: ctx.receiveCount, signal: abort.signal }, deps);
        return result.outcome !== 'failed';
      },
      // The chunk could not even be attempted (e.g. the ledger was unreachable) on its last delivery.
      onFinalFailure: (job, reason) =>
        deps.ledger.recordFailure(job.classId, job.planId, job.chunk, job.files.map((f) => ({ key: f.key, src: f.src, reason }))),
    });
  } finally {
    clearTimeout(timer);
  }
}
