import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { BuildMiddleware, HttpRequest, MetadataBearer } from '@smithy/types';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { required, type Config } from '../config.ts';

export interface AwsClients {
  sqs: SQSClient;
  s3: S3Client;
  ddb: DynamoDBDocumentClient;
  destroy(): void;
}

const CHECKSUM_HEADER = /^x-amz-checksum-(crc32|crc32c|crc64nvme|sha1|sha256)$/i;

/**
 * Marks an S3 body write that carries a flexible checksum as UNSIGNED-PAYLOAD. SigV4 otherwise
 * SHA-256-hashes every buffered body once more (the SDK does so over http and https alike), though
 * S3 already checks the body against the CRC32 header (and the transfer compares what S3 reports);
 * a body without a checksum header stays signed.
 */
const unsignedChecksummedPayloads: BuildMiddleware<object, MetadataBearer> = (next) => async (args) => {
  const req = args.request as Partial<HttpRequest> | undefined;
  if (
    req?.headers &&
    (req.method === 'PUT' || req.method === 'POST') &&
    req.body !== undefined &&
    Object.keys(req.headers).some((h) => CHECKSUM_HEADER.test(h))
  ) {
    req.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
  }
  return next(args);
};

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
  const sqs = new SQSClient({
    ...common,
    requestHandler: handler(),
    useQueueUrlAsEndpoint: false,
    ...(endpoints.sqs ? { endpoint: endpoints.sqs } : {}),
  });
  const s3 = new S3Client({
    ...common,
    forcePathStyle: cfg.forcePathStyle,
    requestHandler: handler(),
    ...(endpoints.s3 ? { endpoint: endpoints.s3 } : {}),
  });
  s3.middlewareStack.add(unsignedChecksummedPayloads, { step: 'build', name: 'flantsUnsignedChecksummedPayload' });
  const ddb = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      ...common,
      requestHandler: handler(),
      ...(endpoints.dynamodb ? { endpoint: endpoints.dynamodb } : {}),
    }),
    {
      marshallOptions: { removeUndefinedValues: true },
    },
  );
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
