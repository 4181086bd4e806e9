import { setMaxListeners } from 'node:events';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Logger } from '../log.ts';
import { buildDeps, type Deps } from './deps.ts';
import { attachMetrics, METRIC_NAMESPACE } from '../pipeline/metrics.ts';
import { lambdaEntryOf, type InvocationContext, type LambdaHandler } from './lambda-entry.ts';

// The once-per-container entry every handler goes through, apart so that a handler that is not the
// pipeline's (the dashboard) does not bundle the pipeline's dependencies.
export { lambdaEntryOf, type InvocationContext, type LambdaHandler } from './lambda-entry.ts';

/** An SQS-triggered handler with partial batch responses. */
export type SqsHandler = (event: SQSEvent, context?: InvocationContext) => Promise<SQSBatchResponse>;

/**
 * The Lambda entry point for a pipeline handler factory (`lambdaEntryOf` with the pipeline's
 * dependencies, `buildDeps`): pipeline events become CloudWatch metrics (EMF), published at the end
 * of every invocation.
 */
export function lambdaEntry<E = SQSEvent, R = SQSBatchResponse>(
  factory: (deps: Deps) => LambdaHandler<E, R>,
): LambdaHandler<E, R> {
  return lambdaEntryOf({
    build: (cfg) => {
      const deps = buildDeps(cfg);
      // One service and a Stage dimension for every function: the alarms in serverless.yml watch exactly these.
      const metrics = new Metrics({
        namespace: METRIC_NAMESPACE,
        serviceName: 'flants',
        defaultDimensions: { Stage: deps.cfg.stage },
      });
      attachMetrics(deps.events, metrics);
      return { deps, metrics };
    },
    handler: ({ deps }) => factory(deps),
    after: ({ metrics }) => metrics.publishStoredMetrics(),
  });
}

/**
 * A logger for one invocation: its request id and whether it is the container's first on every
 * line, beside the message ids processBatch adds. `first` is the factory's own cold-start flag.
 */
export function invocationLogger(
  log: Logger,
  context: InvocationContext | undefined,
  first: { cold: boolean },
): Logger {
  const coldStart = first.cold;
  first.cold = false;
  return log.child({ ...(context?.awsRequestId ? { requestId: context.awsRequestId } : {}), coldStart });
}

/**
 * An abort signal for one invocation that fires `deadlineMs(remaining)` into it, so work stops (and
 * failures are reported) before Lambda kills the function; without a context it never fires.
 * Shared by every request of the batch: many listeners, on purpose. Call `clear` when done.
 */
export function invocationDeadline(
  context: InvocationContext | undefined,
  deadlineMs: (remainingMs: number) => number,
): { signal: AbortSignal; clear(): void } {
  const abort = new AbortController();
  setMaxListeners(0, abort.signal);
  const remaining = context?.getRemainingTimeInMillis();
  if (!remaining) return { signal: abort.signal, clear: () => undefined };
  const at = deadlineMs(remaining);
  const timer = setTimeout(
    () =>
      abort.abort(
        new Error(
          `deadline reached, ${Math.round(at / 1000)} s into an invocation with ${Math.round(remaining / 1000)} s to run`,
        ),
      ),
    at,
  );
  return { signal: abort.signal, clear: () => clearTimeout(timer) };
}

/** Keeps a message invisible while it is handled: extended every third of the queue's visibility timeout. */
export function heartbeatFor(visibilitySeconds: number): { everySeconds: number; visibilitySeconds: number } {
  return { everySeconds: Math.max(1, Math.floor(visibilitySeconds / 3)), visibilitySeconds };
}
