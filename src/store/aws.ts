import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { required, type Config } from '../config.ts';

export interface AwsClients {
  sqs: SQSClient;
  s3: S3Client;
  ddb: DynamoDBDocumentClient;
  destroy(): void;
}

/** Builds the SDK clients for the config's region, endpoints and credentials; the caller owns them (`destroy`). */
export function createAwsClients(cfg: Config, opts: { maxSockets?: number } = {}): AwsClients {
  const region = required(cfg.region, 'AWS_REGION', 'to reach SQS, S3 and DynamoDB');
  const maxSockets = opts.maxSockets ?? 64;
  const handler = () =>
    new NodeHttpHandler({
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
      connectionTimeout: 5_000,
      requestTimeout: 120_000,
    });
  // Send to the configured (or regional) endpoint, not to the queue URL's host: local servers'
  // queue URLs name hosts like sqs.us-east-1.localhost that do not resolve.
  const { endpoints, credentials } = cfg.aws;
  const common = { region, ...(credentials ? { credentials } : {}) };
  const sqs = new SQSClient({ ...common, requestHandler: handler(), useQueueUrlAsEndpoint: false, ...(endpoints.sqs ? { endpoint: endpoints.sqs } : {}) });
  const s3 = new S3Client({ ...common, forcePathStyle: cfg.forcePathStyle, requestHandler: handler(), ...(endpoints.s3 ? { endpoint: endpoints.s3 } : {}) });
  const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ ...common, requestHandler: handler(), ...(endpoints.dynamodb ? { endpoint: endpoints.dynamodb } : {}) }), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return {
    sqs,
    s3,
    ddb,
    destroy() {
      sqs.destroy();
      s3.destroy();
      ddb.destroy();
    },
  };
}
