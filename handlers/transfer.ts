import { setMaxListeners } from 'node:events';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { TransferJobSchema } from '../src/jobs/schemas.ts';
import { processBatch } from '../src/pipeline/batch.ts';
import { sharedDeps } from '../src/pipeline/deps.ts';
import { recordTransferFailure, runTransfer } from '../src/pipeline/transfer.ts';

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
      retryBackoffSeconds: deps.cfg.retryBackoffSeconds,
      signal: abort.signal,
      // A large file may take longer than the visibility timeout locally; keep it ours while we copy.
      heartbeat: { everySeconds: Math.max(1, Math.floor(visibility / 3)), visibilitySeconds: visibility },
      handle: async (job, ctx) => {
        await runTransfer(job, { receiveCount: ctx.receiveCount, signal: abort.signal }, deps);
      },
      beforeFinalAttempt: (job) => recordTransferFailure(job, undefined, true, deps.ledger),
      recordFailure: (job, err, final) => recordTransferFailure(job, err, final, deps.ledger),
    });
  } finally {
    clearTimeout(timer);
  }
}
