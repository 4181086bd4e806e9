import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateBucketCommand,
  HeadBucketCommand,
  PutBucketLifecycleConfigurationCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  type QueueAttributeName,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config.ts';
import { awsErrorName, awsStatus } from '../util/aws-errors.ts';
import type { AwsClients } from '../wiring/aws-clients.ts';
import type { QueueDefinition, ServiceDefinition } from './service-definition.ts';
import { describeDrift, queueDrift, type AttributeChange } from './queue-drift.ts';

export interface SetupOptions {
  /** Overrides every queue's VisibilityTimeout (seconds): local runs retry in seconds, not minutes. */
  visibilityTimeout?: number;
}

export interface SetupResult {
  queues: Array<{
    name: string;
    url: string;
    deadLetter?: string;
    maxReceiveCount?: number;
    /** Attributes of an existing queue that differed from the declared ones, and were set. */
    updated?: AttributeChange[];
  }>;
  table: string;
  bucket: string;
  /**
   * The rule that aborts incomplete multipart uploads (serverless.yml's): `set` on a bucket setup
   * created; `existing-bucket` when the bucket was already there (its lifecycle is its owner's: a
   * PutBucketLifecycleConfiguration would replace every rule it has; docs/deploy.md says how to add it);
   * `not-supported` when the endpoint answered NotImplemented (some S3-compatible servers), with
   * `note` saying so; `none` when serverless.yml declares no such rule.
   */
  lifecycle: 'set' | 'existing-bucket' | 'not-supported' | 'none';
  note?: string;
}

/**
 * Sets a bucket's lifecycle to one rule: abort multipart uploads still incomplete `days` after they
 * began (parts of an upload whose function was killed are otherwise stored and billed forever).
 * An endpoint without lifecycle support (501 NotImplemented) is tolerated and named.
 */
export async function setAbortIncompleteUploads(
  s3: S3Client,
  bucket: string,
  days: number,
): Promise<{ lifecycle: 'set' } | { lifecycle: 'not-supported'; note: string }> {
  try {
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket,
        LifecycleConfiguration: {
          Rules: [
            {
              ID: ABORT_INCOMPLETE_UPLOADS_RULE,
              Status: 'Enabled',
              Filter: { Prefix: '' },
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: days },
            },
          ],
        },
      }),
    );
    return { lifecycle: 'set' };
  } catch (err) {
    if (awsErrorName(err) !== 'NotImplemented' && awsStatus(err) !== 501) throw err;
    return {
      lifecycle: 'not-supported',
      note: `this S3 endpoint does not implement bucket lifecycle rules (PutBucketLifecycleConfiguration answered NotImplemented): incomplete multipart uploads in ${bucket} are not aborted automatically`,
    };
  }
}

/** The id of serverless.yml's (and setup's) rule that aborts incomplete multipart uploads. */
export const ABORT_INCOMPLETE_UPLOADS_RULE = 'flants-abort-incomplete-multipart-uploads';

/** CreateQueue's answer when a queue of that name exists with other attributes (names differ by protocol). */
function alreadyExists(err: unknown): boolean {
  return /(QueueNameExists|QueueAlreadyExists)$/.test((err as Error).name ?? '');
}

/**
 * Creates the queue, or finds it, and brings it to the declared attributes: an existing queue whose
 * attributes drifted from serverless.yml (or an earlier `--visibility-timeout`) gets SetQueueAttributes,
 * and the changes are returned so setup can say what it changed.
 */
async function ensureQueue(
  sqs: SQSClient,
  q: QueueDefinition,
  attributes: Record<string, string>,
): Promise<{ url: string; arn: string; updated: AttributeChange[] }> {
  let url: string;
  try {
    url = (await sqs.send(new CreateQueueCommand({ QueueName: q.name, Attributes: attributes }))).QueueUrl!;
  } catch (err) {
    if (!alreadyExists(err)) throw err;
    url = (await sqs.send(new GetQueueUrlCommand({ QueueName: q.name }))).QueueUrl!;
  }
  const before = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: [...Object.keys(attributes), 'QueueArn'] as QueueAttributeName[],
    }),
  );
  const updated = queueDrift(attributes, before.Attributes ?? {});
  if (updated.length > 0) {
    try {
      await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: attributes }));
    } catch (err) {
      throw new Error(
        `queue ${q.name} has ${describeDrift(updated)} declared by serverless.yml, and setting them failed: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
  return { url, arn: before.Attributes!.QueueArn!, updated };
}

async function ensureTable(ddb: DynamoDBClient, def: ServiceDefinition['tables'][number], name: string): Promise<void> {
  try {
    await ddb.send(new DescribeTableCommand({ TableName: name }));
    return;
  } catch (err) {
    if ((err as Error).name !== 'ResourceNotFoundException') throw err;
  }
  try {
    await ddb.send(
      new CreateTableCommand({
        TableName: name,
        KeySchema: def.keySchema,
        AttributeDefinitions: def.attributeDefinitions,
        BillingMode: 'PAY_PER_REQUEST',
        ...(def.globalSecondaryIndexes.length ? { GlobalSecondaryIndexes: def.globalSecondaryIndexes } : {}),
      }),
    );
  } catch (err) {
    if ((err as Error).name !== 'ResourceInUseException') throw err;
  }
  for (let i = 0; i < 100; i++) {
    const d = await ddb.send(new DescribeTableCommand({ TableName: name }));
    if (d.Table?.TableStatus === 'ACTIVE') return;
    await sleep(100);
  }
  throw new Error(`table ${name} did not become ACTIVE`);
}

/** Creates the bucket unless it exists; true when this call created it. */
async function ensureBucket(s3: S3Client, bucket: string): Promise<boolean> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return false;
  } catch {
    // Not there (or not ours): try to create it and let that error speak.
  }
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    return true;
  } catch (err) {
    if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes((err as Error).name)) throw err;
    return false;
  }
}

/** Creates the queues, DLQs, table and bucket that serverless.yml declares; safe to run again. */
export async function setupResources(
  cfg: Config,
  def: ServiceDefinition,
  aws: Pick<AwsClients, 'sqs' | 's3' | 'ddb'>,
  opts: SetupOptions = {},
): Promise<SetupResult> {
  const created = new Map<string, { url: string; arn: string }>();
  const result: SetupResult = { queues: [], table: cfg.tableName, bucket: cfg.destBucket, lifecycle: 'none' };
  // Dead-letter queues first: their ARNs go into the source queues' redrive policies.
  const ordered = [...def.queues].sort((a, b) => Number(Boolean(a.deadLetter)) - Number(Boolean(b.deadLetter)));
  for (const q of ordered) {
    const attributes = { ...q.attributes };
    if (opts.visibilityTimeout !== undefined && q.deadLetter)
      attributes.VisibilityTimeout = String(opts.visibilityTimeout);
    if (q.deadLetter) {
      const dlq = created.get(q.deadLetter.logicalId);
      if (!dlq)
        throw new Error(`serverless.yml: ${q.logicalId}'s dead-letter queue ${q.deadLetter.logicalId} is not declared`);
      attributes.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: dlq.arn,
        maxReceiveCount: q.deadLetter.maxReceiveCount,
      });
    }
    const made = await ensureQueue(aws.sqs, q, attributes);
    created.set(q.logicalId, made);
    result.queues.push({
      name: q.name,
      url: made.url,
      ...(made.updated.length > 0 ? { updated: made.updated } : {}),
      ...(q.deadLetter
        ? {
            deadLetter: def.queues.find((d) => d.logicalId === q.deadLetter!.logicalId)!.name,
            maxReceiveCount: q.deadLetter.maxReceiveCount,
          }
        : {}),
    });
  }
  const table = def.tables[0];
  if (!table) throw new Error('serverless.yml declares no DynamoDB table');
  await ensureTable(aws.ddb, table, cfg.tableName);
  const bucketCreated = await ensureBucket(aws.s3, cfg.destBucket);
  const days = def.buckets.find(
    (b) => b.abortIncompleteUploadsAfterDays !== undefined,
  )?.abortIncompleteUploadsAfterDays;
  if (days !== undefined) {
    if (!bucketCreated) result.lifecycle = 'existing-bucket';
    else Object.assign(result, await setAbortIncompleteUploads(aws.s3, cfg.destBucket, days));
  }
  return result;
}
