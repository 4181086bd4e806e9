import { TransferJobSchema } from '../src/domain/jobs/schemas.ts';
import { processBatch } from '../src/pipeline/batch.ts';
import type { Deps } from '../src/wiring/deps.ts';
import { inLane } from '../src/domain/ports/job-queue.ts';
import {
  heartbeatFor,
  invocationDeadline,
  invocationLogger,
  lambdaEntry,
  type SqsHandler,
} from '../src/wiring/lambda.ts';
import { recordTransferFailure, runTransfer } from '../src/pipeline/transfer.ts';

/** Leave this much of the Lambda timeout to report failures instead of being killed mid-batch. */
const TIMEOUT_MARGIN_MS = 15_000;

/** Transfer queue → transfer: origin → S3, then the atomic chunk + counter step. */
export function createHandler(deps: Deps): SqsHandler {
  const base = deps.log.child({ fn: 'transfer' });
  const first = { cold: true };
  return async (event, context) => {
    const log = invocationLogger(base, context, first);
    const deadline = invocationDeadline(context, (remaining) => Math.max(1_000, remaining - TIMEOUT_MARGIN_MS));
    const visibility = await deps.queue.visibilityTimeout('transfer');
    try {
      return await processBatch(event, {
        role: 'transfer',
        schema: TransferJobSchema,
        concurrency: event.Records.length,
        queue: deps.queue,
        events: deps.events,
        log,
        maxReceiveCount: deps.cfg.maxReceiveCount,
        retryBackoffSeconds: deps.cfg.retryBackoffSeconds,
        signal: deadline.signal,
        // A large file may take longer than the visibility timeout locally; keep it ours while we copy.
        heartbeat: heartbeatFor(visibility),
        handle: async (job, ctx) => {
          await runTransfer(
            job,
            {
              receiveCount: ctx.receiveCount,
              final: ctx.receiveCount >= deps.cfg.maxReceiveCount,
              signal: deadline.signal,
            },
            // A class sent back to the crawler, or a deferred chunk, goes back in the lane its chunk came from.
            { ...deps, queue: inLane(deps.queue, ctx.lane), log: ctx.log },
          );
        },
        beforeFinalAttempt: (job) => recordTransferFailure(job, undefined, true, deps.ledger),
        recordFailure: (job, err, final) => recordTransferFailure(job, err, final, deps.ledger),
      });
    } finally {
      deadline.clear();
      await deps.originHealth.maybeReport(log);
    }
  };
}

/** The Lambda handler: dependencies from the environment, once per container. */
export const handler = lambdaEntry(createHandler);
