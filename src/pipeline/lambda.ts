import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { loadConfig } from '../config.ts';
import { buildDeps, type Deps } from './deps.ts';

/** What Lambda passes a handler besides the event; the local runner passes the same. */
export type InvocationContext = Pick<Context, 'getRemainingTimeInMillis'> & Partial<Pick<Context, 'awsRequestId' | 'functionName'>>;

/** An SQS-triggered handler with partial batch responses. */
export type SqsHandler = (event: SQSEvent, context?: InvocationContext) => Promise<SQSBatchResponse>;

/**
 * The Lambda entry point for a handler factory: the one place that reads the environment. The
 * dependencies are built on the first invocation and kept for the container's life (a warm
 * container reuses its clients and connections); tests and the lab call the factory with their own.
 */
export function lambdaEntry(factory: (deps: Deps) => SqsHandler): SqsHandler {
  let handler: SqsHandler | undefined;
  return (event, context) => {
    handler ??= factory(buildDeps(loadConfig(process.env)));
    return handler(event, context);
  };
}
