import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { handleDashboardRequest, type DashboardDeps } from '../src/dashboard/http.ts';
import { createLogger } from '../src/log.ts';
import { createAwsClients } from '../src/wiring/aws-clients.ts';
// From lambda-entry.ts, not lambda.ts: the pipeline's entry there would bundle its clients here too.
import { lambdaEntryOf } from '../src/wiring/lambda-entry.ts';
import { createLedger } from '../src/adapters/dynamodb/ledger.ts';
import { recentOriginHealth } from '../src/adapters/dynamodb/origin-health.ts';
import { createJobQueue } from '../src/adapters/sqs/queue.ts';
import { cloudWatchQueueAges } from '../src/adapters/cloudwatch/queue-age-cloudwatch.ts';

type HttpHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** HTTP API (payload v2, IAM-authorised) → dashboard: ledger status and queue depths as HTML or JSON. */
export function createHandler(deps: DashboardDeps): HttpHandler {
  return async (event) => {
    const res = await handleDashboardRequest(
      {
        method: event.requestContext.http.method,
        path: event.rawPath,
        query: new URLSearchParams(event.rawQueryString ?? ''),
        accept: event.headers?.accept,
        ifNoneMatch: event.headers?.['if-none-match'],
      },
      deps,
    );
    return { statusCode: res.status, headers: res.headers, body: res.body };
  };
}

/**
 * The Lambda handler: dependencies from the environment, once per container. Only the ledger and
 * the queues: no origin client, no MongoDB driver, a small bundle and a fast cold start.
 */
export const handler: HttpHandler = lambdaEntryOf({
  build: (cfg): DashboardDeps => {
    const aws = createAwsClients(cfg, { maxSockets: 16 });
    // The queues' ages: SQS publishes them only as CloudWatch metrics (cloudwatch:GetMetricData).
    const cw = cloudWatchQueueAges(cfg);
    return {
      stage: cfg.stage,
      ledger: createLedger(aws.ddb, cfg.tableName),
      queue: createJobQueue(aws.sqs, cfg),
      freshWithinHours: cfg.fresh.withinHours,
      ...(cw ? { ages: cw.ages } : {}),
      origins: () => recentOriginHealth(aws.ddb, cfg.tableName, 5),
      log: createLogger({ stage: cfg.stage, fn: 'dashboard' }),
    };
  },
  handler: createHandler,
});
