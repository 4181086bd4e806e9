import type { Context } from 'aws-lambda';
import { loadConfig, type Config } from '../config.ts';

/** What Lambda passes a handler besides the event; the local runner passes the same. */
export type InvocationContext = Pick<Context, 'getRemainingTimeInMillis'> &
  Partial<Pick<Context, 'awsRequestId' | 'functionName'>>;

/** A handler as Lambda calls it: the event, and what Lambda passes besides. */
export type LambdaHandler<E, R> = (event: E, context?: InvocationContext) => Promise<R>;

/**
 * The Lambda entry point, for any handler: the one place that reads the environment. `build` makes
 * the dependencies on the container's first invocation, kept for the container's life (a warm
 * container reuses its clients and connections); `handler` makes the handler from them once; `after`
 * runs at the end of every invocation, whatever its outcome. Tests and the lab call the handlers'
 * factories with their own dependencies instead.
 */
export function lambdaEntryOf<B, E, R>(entry: {
  build: (cfg: Config) => B;
  handler: (built: B) => LambdaHandler<E, R>;
  after?: (built: B) => void;
}): LambdaHandler<E, R> {
  let built: { handler: LambdaHandler<E, R>; deps: B } | undefined;
  return async (event, context) => {
    if (!built) {
      const deps = entry.build(loadConfig(process.env));
      built = { handler: entry.handler(deps), deps };
    }
    try {
      return await built.handler(event, context);
    } finally {
      entry.after?.(built.deps);
    }
  };
}
