import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { QUEUE_ROLES, type Lane, type QueueRole } from '../domain/vocabulary.ts';
import { laneOfQueue } from '../domain/lifecycle/lanes.ts';
import { ConfigError } from '../errors.ts';

/** A queue declared in serverless.yml, with the attributes `CreateQueue` takes. */
export interface QueueDefinition {
  logicalId: string;
  name: string;
  attributes: Record<string, string>;
  /** Logical id of this queue's DLQ, and the receives before SQS moves a message there. */
  deadLetter?: { logicalId: string; maxReceiveCount: number };
}

export interface TableDefinition {
  logicalId: string;
  name: string;
  keySchema: Array<{ AttributeName: string; KeyType: 'HASH' | 'RANGE' }>;
  attributeDefinitions: Array<{ AttributeName: string; AttributeType: 'S' | 'N' | 'B' }>;
  globalSecondaryIndexes: Array<{
    IndexName: string;
    KeySchema: Array<{ AttributeName: string; KeyType: 'HASH' | 'RANGE' }>;
    Projection: { ProjectionType: 'ALL' | 'KEYS_ONLY' | 'INCLUDE'; NonKeyAttributes?: string[] };
  }>;
}

/** A function's SQS event source mapping, as Lambda would run it. */
export interface ConsumerDefinition {
  function: string;
  role: QueueRole;
  /** The lane of the queue this mapping consumes (a `-fresh` queue is the fresh lane). */
  lane: Lane;
  /** `handlers/transfer.handler` → module `handlers/transfer`, export `handler`. */
  handlerModule: string;
  handlerExport: string;
  queueLogicalId: string;
  batchSize: number;
  maximumBatchingWindow: number;
  maximumConcurrency: number;
  timeoutSeconds: number;
  reportBatchItemFailures: boolean;
}

export interface ServiceDefinition {
  service: string;
  stage: string;
  queues: QueueDefinition[];
  tables: TableDefinition[];
  buckets: Array<{
    logicalId: string;
    name: string;
    /** The bucket's lifecycle rule aborting incomplete multipart uploads: days after they began. */
    abortIncompleteUploadsAfterDays?: number;
  }>;
  consumers: ConsumerDefinition[];
}

export const SERVERLESS_YML = fileURLToPath(new URL('../../serverless.yml', import.meta.url));

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

function isObject(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A `${...}` that belongs to CloudFormation's Fn::Sub, not to Serverless: `${AWS::Region}`,
 * `${LogicalId}`, `${LogicalId.Attr}`, `${!Literal}`. Serverless leaves these alone; so do we.
 */
function isCloudFormationSub(expr: string): boolean {
  return (
    /^[A-Za-z0-9]+::[A-Za-z0-9]+$/.test(expr) || /^[A-Za-z0-9]+(\.[A-Za-z0-9.]+)?$/.test(expr) || expr.startsWith('!')
  );
}

/** Resolves the Serverless variables this project uses: ${param:}, ${sls:stage}, ${opt:...}, ${self:service}, ${env:NAME, 'default'}. */
function resolver(doc: Record<string, Json>, stage: string, region: string): (value: Json) => Json {
  const params = isObject(doc.params) ? doc.params : {};
  const stageParams = isObject(params[stage]) ? params[stage] : {};
  const defaults = isObject(params.default) ? params.default : {};
  const lookup = (expr: string): Json => {
    const [source, ...rest] = expr.split(':');
    const [argPart, ...fallbackParts] = rest.join(':').split(',');
    const arg = argPart!.trim();
    // `${env:NAME, 'default'}`: a quoted or bare literal after the comma.
    const fallback = fallbackParts.length
      ? fallbackParts
          .join(',')
          .trim()
          .replace(/^(['"])(.*)\1$/, '$2')
      : undefined;
    switch (source) {
      case 'env': {
        const v = process.env[arg];
        if (v !== undefined && v !== '') return v;
        if (fallback !== undefined) return fallback;
        throw new ConfigError(`serverless.yml: environment variable ${arg} is not set and has no default`);
      }
      case 'param': {
        const v = stageParams[arg] ?? defaults[arg];
        if (v === undefined) throw new ConfigError(`serverless.yml: no param "${arg}" for stage ${stage}`);
        return v;
      }
      case 'sls':
        if (arg === 'stage') return stage;
        break;
      case 'opt':
        if (arg === 'stage') return stage;
        if (arg === 'region') return region;
        break;
      case 'self':
        if (arg === 'service') return text(doc.service, 'service');
        break;
    }
    throw new ConfigError(`serverless.yml: cannot resolve \${${expr}} locally`);
  };
  const resolve = (value: Json): Json => {
    if (typeof value === 'string') {
      const whole = /^\$\{([^}]+)\}$/.exec(value);
      if (whole && !isCloudFormationSub(whole[1]!)) return resolve(lookup(whole[1]!));
      return value.replace(/\$\{([^}]+)\}/g, (sub, e: string) =>
        isCloudFormationSub(e) ? sub : text(resolve(lookup(e)), `\${${e}}`),
      );
    }
    if (Array.isArray(value)) return value.map(resolve);
    if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
    return value;
  };
  return resolve;
}

/** A scalar of serverless.yml as text; anything else is a mistake in the file, named. */
function text(v: Json | undefined, what: string): string {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new ConfigError(`serverless.yml: ${what} must be a string or number, got ${JSON.stringify(v ?? null)}`);
}

function getAttTarget(v: Json | undefined): string | undefined {
  if (isObject(v) && Array.isArray(v['Fn::GetAtt'])) return text(v['Fn::GetAtt'][0], 'Fn::GetAtt');
  return undefined;
}

function num(v: Json | undefined, what: string): number {
  const n = Number(v);
  if (v === undefined || v === null || !Number.isFinite(n))
    throw new ConfigError(`serverless.yml: ${what} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

/** Reads serverless.yml for a stage: the resources to create locally and the event source mappings to run. */
export function loadServiceDefinition(stage: string, opts: { path?: string; region?: string } = {}): ServiceDefinition {
  const raw = parse(readFileSync(opts.path ?? SERVERLESS_YML, 'utf8')) as unknown;
  if (!isObject(raw)) throw new ConfigError('serverless.yml is not a mapping');
  const doc = resolver(raw, stage, opts.region ?? 'us-east-1')(raw) as Record<string, Json>;
  const resources = isObject(doc.resources) && isObject(doc.resources.Resources) ? doc.resources.Resources : {};

  const queues: QueueDefinition[] = [];
  const tables: TableDefinition[] = [];
  const buckets: ServiceDefinition['buckets'] = [];
  for (const [logicalId, res] of Object.entries(resources)) {
    if (!isObject(res) || !isObject(res.Properties)) continue;
    const p = res.Properties;
    if (res.Type === 'AWS::SQS::Queue') {
      const attributes: Record<string, string> = {};
      for (const k of [
        'VisibilityTimeout',
        'MessageRetentionPeriod',
        'DelaySeconds',
        'ReceiveMessageWaitTimeSeconds',
        'MaximumMessageSize',
      ]) {
        if (p[k] !== undefined) attributes[k] = text(p[k], `${logicalId}.${k}`);
      }
      const q: QueueDefinition = { logicalId, name: text(p.QueueName, `${logicalId}.QueueName`), attributes };
      if (isObject(p.RedrivePolicy)) {
        const target = getAttTarget(p.RedrivePolicy.deadLetterTargetArn);
        if (!target)
          throw new ConfigError(`serverless.yml: ${logicalId} RedrivePolicy needs Fn::GetAtt [<queue>, Arn]`);
        q.deadLetter = {
          logicalId: target,
          maxReceiveCount: num(p.RedrivePolicy.maxReceiveCount, `${logicalId} maxReceiveCount`),
        };
      }
      queues.push(q);
    } else if (res.Type === 'AWS::DynamoDB::Table') {
      tables.push({
        logicalId,
        name: text(p.TableName, `${logicalId}.TableName`),
        keySchema: p.KeySchema as unknown as TableDefinition['keySchema'],
        attributeDefinitions: p.AttributeDefinitions as unknown as TableDefinition['attributeDefinitions'],
        globalSecondaryIndexes: (p.GlobalSecondaryIndexes ??
          []) as unknown as TableDefinition['globalSecondaryIndexes'],
      });
    } else if (res.Type === 'AWS::S3::Bucket') {
      const rules = isObject(p.LifecycleConfiguration) ? p.LifecycleConfiguration.Rules : undefined;
      const abort = (Array.isArray(rules) ? rules : [])
        .map((r) =>
          isObject(r) && isObject(r.AbortIncompleteMultipartUpload) ? r.AbortIncompleteMultipartUpload : undefined,
        )
        .find((a) => a !== undefined);
      buckets.push({
        logicalId,
        name: text(p.BucketName, `${logicalId}.BucketName`),
        ...(abort
          ? {
              abortIncompleteUploadsAfterDays: num(
                abort.DaysAfterInitiation,
                `${logicalId} AbortIncompleteMultipartUpload.DaysAfterInitiation`,
              ),
            }
          : {}),
      });
    }
  }

  const consumers: ConsumerDefinition[] = [];
  const functions = isObject(doc.functions) ? doc.functions : {};
  for (const [name, fn] of Object.entries(functions)) {
    if (!isObject(fn) || !Array.isArray(fn.events)) continue;
    for (const ev of fn.events) {
      if (!isObject(ev) || !isObject(ev.sqs)) continue;
      const queueLogicalId = getAttTarget(ev.sqs.arn);
      const queue = queues.find((q) => q.logicalId === queueLogicalId);
      if (!queue) throw new ConfigError(`serverless.yml: function ${name} consumes an unknown queue`);
      const lane = laneOfQueue(queue.name);
      const stem = lane === 'fresh' ? queue.name.slice(0, -'-fresh'.length) : queue.name;
      const role = QUEUE_ROLES.find((r) => stem.endsWith(`-${r}`));
      if (!role)
        throw new ConfigError(
          `serverless.yml: queue ${queue.name} is not a scan, crawl or transfer queue (or its -fresh lane)`,
        );
      const [handlerModule, handlerExport] = text(fn.handler, `${name}.handler`).split(/\.(?=[^.]+$)/) as [
        string,
        string,
      ];
      consumers.push({
        function: name,
        role,
        lane,
        handlerModule,
        handlerExport,
        queueLogicalId: queue.logicalId,
        batchSize: num(ev.sqs.batchSize ?? 10, `${name} batchSize`),
        maximumBatchingWindow: num(ev.sqs.maximumBatchingWindow ?? 0, `${name} maximumBatchingWindow`),
        maximumConcurrency: num(ev.sqs.maximumConcurrency ?? 2, `${name} maximumConcurrency`),
        timeoutSeconds: num(fn.timeout ?? 6, `${name} timeout`),
        reportBatchItemFailures: ev.sqs.functionResponseType === 'ReportBatchItemFailures',
      });
    }
  }
  return { service: text(doc.service, 'service'), stage, queues, tables, buckets, consumers };
}
