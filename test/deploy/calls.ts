// Maps the AWS SDK calls a function's code really makes to the IAM permissions they need, in the
// `{resource: "action,action"}` form of `permissionsOfRole`, so a test can hold a role to exactly
// what its code calls.
import type { AwsClients } from '../../src/wiring/aws-clients.ts';

/** One SDK call as the client's middleware saw it. */
export interface RecordedCall {
  service: 'sqs' | 's3' | 'dynamodb' | 'ssm' | 'cloudwatch';
  command: string;
  input: Record<string, unknown>;
}

/**
 * Records every call made through these clients (the document client shares its client's stack).
 * `s3: false` leaves S3 to a wire-level recorder: the transfer sends its PutObjects without the SDK.
 */
export function recordCalls(
  aws: Pick<AwsClients, 'sqs' | 's3' | 'ddb'>,
  into: RecordedCall[],
  opts: { s3?: boolean } = {},
): void {
  const add = (service: RecordedCall['service'], stack: AwsClients['sqs']['middlewareStack']) =>
    stack.add(
      (next, context) => async (args) => {
        into.push({
          service,
          command: String(context.commandName).replace(/Command$/, ''),
          input: args.input as Record<string, unknown>,
        });
        return next(args);
      },
      { step: 'initialize', name: 'flantsRecordCalls', override: true },
    );
  add('sqs', aws.sqs.middlewareStack);
  if (opts.s3 ?? true) add('s3', aws.s3.middlewareStack as unknown as AwsClients['sqs']['middlewareStack']);
  add('dynamodb', aws.ddb.middlewareStack as unknown as AwsClients['sqs']['middlewareStack']);
}

/** How template resources are named in `permissionsOfRole` keys. */
export interface ResourceNames {
  /** Queue name → logical id, e.g. flants-dev-scan → ScanQueue. */
  queues: Record<string, string>;
  table: string;
  bucket: string;
}

const SQS_ACTIONS: Record<string, string> = {
  ReceiveMessage: 'sqs:ReceiveMessage',
  DeleteMessage: 'sqs:DeleteMessage',
  DeleteMessageBatch: 'sqs:DeleteMessage',
  SendMessage: 'sqs:SendMessage',
  SendMessageBatch: 'sqs:SendMessage',
  GetQueueAttributes: 'sqs:GetQueueAttributes',
  ChangeMessageVisibility: 'sqs:ChangeMessageVisibility',
  ChangeMessageVisibilityBatch: 'sqs:ChangeMessageVisibility',
  GetQueueUrl: 'sqs:GetQueueUrl',
};
const DDB_ACTIONS: Record<string, string> = {
  GetItem: 'dynamodb:GetItem',
  PutItem: 'dynamodb:PutItem',
  UpdateItem: 'dynamodb:UpdateItem',
  DeleteItem: 'dynamodb:DeleteItem',
  Query: 'dynamodb:Query',
  Scan: 'dynamodb:Scan',
  BatchGetItem: 'dynamodb:BatchGetItem',
  BatchWriteItem: 'dynamodb:BatchWriteItem',
};
/** TransactWriteItems is authorised per item, by the item's own action. */
const TRANSACT_ITEM_ACTIONS: Record<string, string> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
};
const S3_ACTIONS: Record<string, string> = {
  PutObject: 's3:PutObject',
  CreateMultipartUpload: 's3:PutObject',
  UploadPart: 's3:PutObject',
  CompleteMultipartUpload: 's3:PutObject',
  AbortMultipartUpload: 's3:AbortMultipartUpload',
  HeadObject: 's3:GetObject',
  GetObject: 's3:GetObject',
  ListObjectsV2: 's3:ListBucket',
};

/** The permissions a list of calls needs, keyed like `permissionsOfRole` (unknown calls are keyed `unmapped`). */
export function permissionsOfCalls(calls: readonly RecordedCall[], names: ResourceNames): Record<string, string> {
  const acc = new Map<string, Set<string>>();
  const grant = (resource: string, action: string) => acc.set(resource, (acc.get(resource) ?? new Set()).add(action));
  const objects = `sub:arn:\${AWS::Partition}:s3:::${names.bucket}*`;
  const bucketArn = `sub:arn:\${AWS::Partition}:s3:::${names.bucket.split('/')[0]}`;
  for (const c of calls) {
    if (c.service === 'sqs') {
      const url = String(c.input.QueueUrl ?? '');
      const queue = names.queues[url.split('/').at(-1) ?? ''] ?? `unknown queue ${url}`;
      grant(`${queue}.Arn`, SQS_ACTIONS[c.command] ?? `unmapped sqs ${c.command}`);
    } else if (c.service === 'dynamodb') {
      const table = `${names.table}.Arn`;
      if (c.command === 'TransactWriteItems') {
        for (const item of (c.input.TransactItems as Array<Record<string, unknown>>) ?? [])
          for (const k of Object.keys(item)) grant(table, TRANSACT_ITEM_ACTIONS[k] ?? `unmapped transact ${k}`);
      } else if (c.command === 'Query' && c.input.IndexName) {
        grant(`sub:\${${names.table}.Arn}/index/${String(c.input.IndexName)}`, 'dynamodb:Query');
      } else grant(table, DDB_ACTIONS[c.command] ?? `unmapped dynamodb ${c.command}`);
    } else if (c.service === 's3') {
      if (c.command === 'ListObjectsV2') grant(bucketArn, 's3:ListBucket');
      else grant(objects, S3_ACTIONS[c.command] ?? `unmapped s3 ${c.command}`);
      // AWS answers a HEAD of a missing key 404 only to a caller that may list the bucket, 403 to
      // others; the store reads 404 as "not there yet", so every HEAD relies on the grant.
      if (c.command === 'HeadObject') grant(bucketArn, 's3:ListBucket');
    } else if (c.service === 'cloudwatch') grant('*', `cloudwatch:${c.command}`);
    else grant(`ssm ${String(c.input.Name)}`, `ssm:${c.command}`);
  }
  return Object.fromEntries(
    [...acc.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, [...v].sort().join(',')]),
  );
}

/** `{resource: "a,b"}` as a set of "resource action" pairs, for set comparisons with readable diffs. */
export function pairs(perms: Record<string, string>): string[] {
  return Object.entries(perms)
    .flatMap(([r, actions]) => actions.split(',').map((a) => `${r} ${a}`))
    .sort();
}
