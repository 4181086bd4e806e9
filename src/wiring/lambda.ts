import { setMaxListeners } from 'node:events';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { loadConfig } from '../config.ts';
import type { Logger } from '../log.ts';
import { buildDeps, type Deps } from './deps.ts';
import { attachMetrics, METRIC_NAMESPACE } from '../pipeline/metrics.ts';

/** What Lambda passes a handler besides the event; the local runner passes the same. */
export type InvocationContext = Pick<Context, 'getRemainingTimeInMillis'> &
  Partial<Pick<Context, 'awsRequestId' | 'functionName'>>;

/** An SQS-triggered handler with partial batch responses. */
export type SqsHandler = (event: SQSEvent, context?: InvocationContext) => Promise<SQSBatchResponse>;

/**
 * The Lambda entry point for a handler factory: the one place that reads the environment. The
 * dependencies are built on the first invocation and kept for the container's life (a warm
 * container reuses its clients and connections); tests and the lab call the factory with their own.
 * Pipeline events become CloudWatch metrics (EMF), published at the end of every invocation.
 */
export function lambdaEntry<E = SQSEvent, R = SQSBatchResponse>(
  factory: (deps: Deps) => (event: E, context?: InvocationContext) => Promise<R>,
): (event: E, context?: InvocationContext) => Promise<R> {
  let built: { handler: (event: E, context?: InvocationContext) => Promise<R>; metrics: Metrics } | undefined;
  return async (event, context) => {
    if (!built) {
      const deps = buildDeps(loadConfig(process.env));
      // One service and a Stage dimension for every function: the alarms in serverless.yml watch exactly these.
      const metrics = new Metrics({
        namespace: METRIC_NAMESPACE,
        serviceName: 'flants',
        defaultDimensions: { Stage: deps.cfg.stage },
      });
      attachMetrics(deps.events, metrics);
      built = { handler: factory(deps), metrics };
    }
    try {
      return await built.handler(event, context);
    } finally {
      built.metrics.publishStoredMetrics();
    }
  };
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
