import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { loadConfig } from '../src/config.ts';
import { handleDashboardRequest, type DashboardDeps } from '../src/dashboard/http.ts';
import { createLogger } from '../src/log.ts';
import { createAwsClients } from '../src/store/aws.ts';
import { createLedger } from '../src/store/ledger.ts';
import { createJobQueue } from '../src/store/queue.ts';

let deps: DashboardDeps | undefined;

// Only the ledger and the queues: no origin client, no MongoDB driver, a small bundle and a fast cold start.
function dashboardDeps(): DashboardDeps {
  if (!deps) {
    const cfg = loadConfig();
    const aws = createAwsClients(cfg, { maxSockets: 16 });
    deps = { stage: cfg.stage, ledger: createLedger(aws.ddb, cfg.tableName), queue: createJobQueue(aws.sqs, cfg), log: createLogger({ stage: cfg.stage, fn: 'dashboard' }) };
  }
  return deps;
}

/** HTTP API (payload v2, IAM-authorised) → dashboard: ledger status and queue depths as HTML or JSON. */
export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const res = await handleDashboardRequest(
    {
      method: event.requestContext.http.method,
      path: event.rawPath,
      query: new URLSearchParams(event.rawQueryString ?? ''),
      accept: event.headers?.accept,
      ifNoneMatch: event.headers?.['if-none-match'],
    },
    dashboardDeps(),
  );
  return { statusCode: res.status, headers: res.headers, body: res.body };
}
