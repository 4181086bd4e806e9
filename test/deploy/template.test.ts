// Packages the service once (offline, no credentials) and checks the CloudFormation template it
// produces: every promise serverless.yml makes, every reference, every resource property against
// the CloudFormation resource spec, and IAM least privilege. A template regression fails here.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { clientScript } from '../../src/dashboard/client.ts';
import { METRIC_NAMESPACE } from '../../src/pipeline/metrics.ts';
import { ScanRequestSchema } from '../../src/domain/jobs/schemas.ts';
import { loadServiceDefinition, type ServiceDefinition } from '../../src/ops/service-definition.ts';
import {
  allStrings,
  checkAgainstSpec,
  checkReferences,
  isObject,
  loadResourceSpec,
  resourcesOfType,
  targetOf,
  type CfnResource,
  type Json,
  type JsonObject,
  type Template,
} from './cfn.ts';
import {
  checkIamWildcards,
  checkTrustPolicies,
  collectStatements,
  permissionsOfRole,
  roleOfFunction,
  rolesWithManagedPolicies,
} from './iam.ts';
import { packageService, ROOT, type Packaged } from './package.ts';
import { readZip } from './zip.ts';

const STAGE = 'prod';
const FUNCTIONS = ['scanner', 'crawler', 'transfer', 'verify', 'dashboard'] as const;
const PIPELINE = { scanner: 'Scan', crawler: 'Crawl', transfer: 'Transfer' } as const;
type FunctionName = (typeof FUNCTIONS)[number];
const logicalId = (fn: FunctionName) => `${fn[0]!.toUpperCase()}${fn.slice(1)}LambdaFunction`;

let pkg: Packaged;
let t: Template;
let def: ServiceDefinition;
let yml: { params: Record<string, Record<string, Json>>; functions: Record<string, JsonObject> };
let params: Record<string, Json>;

beforeAll(() => {
  pkg = packageService(STAGE);
  t = pkg.template;
  def = loadServiceDefinition(STAGE);
  yml = parseYaml(readFileSync(join(ROOT, 'serverless.yml'), 'utf8')) as typeof yml;
  params = { ...yml.params.default, ...yml.params[STAGE] };
  loadResourceSpec();
}, 180_000);
afterAll(() => pkg?.cleanup());

const res = (id: string): CfnResource => {
  const r = t.Resources[id];
  if (!r) throw new Error(`no resource ${id} in the template`);
  return r;
};
const props = (id: string): JsonObject => res(id).Properties ?? {};
const getAtt = (id: string, attr: string) => ({ 'Fn::GetAtt': [id, attr] });
const fnProps = (fn: FunctionName) => props(logicalId(fn));
const envOf = (fn: FunctionName): JsonObject =>
  ((fnProps(fn).Environment as JsonObject | undefined)?.Variables as JsonObject | undefined) ?? {};
/** serverless.yml params are resolved with the stage (e.g. flants-${sls:stage}-media). */
const param = (name: string): Json => {
  const v = params[name];
  return typeof v === 'string' ? v.replaceAll('${sls:stage}', STAGE) : (v ?? null);
};
const mappingOf = (queueId: string): JsonObject => {
  const found = resourcesOfType(t, 'AWS::Lambda::EventSourceMapping').filter(
    ([, r]) => targetOf(r.Properties?.EventSourceArn) === queueId,
  );
  expect(found, `event source mappings on ${queueId}`).toHaveLength(1);
  return found[0]![1].Properties!;
};

describe('npm run package (offline, no AWS credentials)', () => {
  // How long packaging takes is printed by the package helper, not asserted: a loaded machine is slow, not wrong.
  it('produces both templates and one artifact per function', () => {
    for (const fn of FUNCTIONS) expect(existsSync(join(pkg.dir, `${fn}.zip`)), `${fn}.zip`).toBe(true);
    expect(Object.keys(pkg.createTemplate.Resources)).toEqual([
      'ServerlessDeploymentBucket',
      'ServerlessDeploymentBucketPolicy',
    ]);
  });

  it('leaves no Serverless variable unresolved and performs no AWS lookups', () => {
    const raw = readFileSync(join(ROOT, 'serverless.yml'), 'utf8');
    // Sources that call AWS (or another stack) while packaging.
    expect(raw).not.toMatch(/\$\{(ssm|cf|s3|aws|sls:instanceId)[:(]/);
    for (const { path, value } of allStrings(t as unknown as Json)) {
      expect(value, path).not.toMatch(/\$\{(ssm|cf|s3|aws|param|sls|opt|self|env|file)[:(]/);
    }
  });

  it('runs osls for the serverless and sls commands, not Serverless Framework v4', () => {
    for (const bin of ['serverless', 'sls', 'osls']) {
      const link = join(ROOT, 'node_modules', '.bin', bin);
      expect(existsSync(link), bin).toBe(true);
      const target = lstatSync(link).isSymbolicLink() ? readlinkSync(link) : realpathSync(link);
      expect(target, bin).toContain(join('osls', 'bin'));
    }
    const v4 = join(ROOT, 'node_modules', 'serverless', 'package.json');
    if (existsSync(v4))
      expect((JSON.parse(readFileSync(v4, 'utf8')) as { version: string }).version).not.toMatch(/^4\./);
  });
});

describe('CloudFormation validity (resource spec from @aws-cdk/aws-service-spec)', () => {
  it('every resource type and property name exists, with the right shape, and required properties are set', () => {
    expect(checkAgainstSpec(t)).toEqual([]);
    expect(checkAgainstSpec(pkg.createTemplate)).toEqual([]);
  });

  it('every Ref, Fn::GetAtt, Fn::Sub and DependsOn target exists, and conditional resources are referenced only under their condition', () => {
    expect(checkReferences(t)).toEqual([]);
    expect(checkReferences(pkg.createTemplate)).toEqual([]);
  });
});

describe('functions', () => {
  it('run nodejs22.x on arm64 from handlers/<name>.handler, each with its own role', () => {
    const roles = new Set<string>();
    for (const fn of FUNCTIONS) {
      const p = fnProps(fn);
      expect(p.Runtime, fn).toBe('nodejs22.x');
      expect(p.Architectures, fn).toEqual(['arm64']);
      expect(p.Handler, fn).toBe(`handlers/${fn}.handler`);
      const role = roleOfFunction(t, logicalId(fn));
      expect(role, `${fn} role`).toBeDefined();
      roles.add(role!);
    }
    expect(roles.size).toBe(FUNCTIONS.length);
    expect(t.Resources.IamRoleLambdaExecution).toBeUndefined();
    expect(resourcesOfType(t, 'AWS::Lambda::Function')).toHaveLength(FUNCTIONS.length);
  });

  it('are bundled individually: one ESM file (and its source map), the AWS SDK inside, no node_modules', () => {
    for (const fn of FUNCTIONS) {
      const code = fnProps(fn).Code as JsonObject;
      expect(String(code.S3Key), fn).toMatch(new RegExp(`/${fn}\\.zip$`));
      const files = [...readZip(join(pkg.dir, `${fn}.zip`)).keys()].sort();
      expect(files, fn).toEqual([`handlers/${fn}.mjs`, `handlers/${fn}.mjs.map`]);
    }
  });

  it('load from a directory with no node_modules and export handler', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flants-bundle-'));
    try {
      for (const fn of FUNCTIONS) {
        const file = join(dir, `${fn}.mjs`);
        writeFileSync(file, readZip(join(pkg.dir, `${fn}.zip`)).get(`handlers/${fn}.mjs`)!);
        const r = spawnSync(
          process.execPath,
          [
            '--input-type=module',
            '-e',
            `const m = await import(${JSON.stringify(pathToFileURL(file).href)}); console.log(typeof m.handler);`,
          ],
          {
            encoding: 'utf8',
            cwd: dir,
            env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
          },
        );
        // Node may print its own notices on stderr; a missing module or a bundling mistake is an Error.
        expect(r.stderr, fn).not.toMatch(/Error|Cannot find|Dynamic require/);
        expect(r.stdout.trim(), fn).toBe('function');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('get the environment src/config.ts reads, and never the MongoDB URI itself', () => {
    for (const fn of FUNCTIONS) {
      const env = envOf(fn);
      expect(env.FLANTS_STAGE, fn).toBe(STAGE);
      expect(env.FLANTS_TABLE, fn).toEqual({ Ref: 'LedgerTable' });
      for (const role of ['SCAN', 'CRAWL', 'TRANSFER'] as const) {
        const q = `${role[0]}${role.slice(1).toLowerCase()}`;
        expect(env[`FLANTS_${role}_QUEUE_URL`], fn).toEqual({ Ref: `${q}Queue` });
        expect(env[`FLANTS_${role}_DLQ_URL`], fn).toEqual({ Ref: `${q}DeadLetterQueue` });
      }
      expect(env.DEST_BUCKET, fn).toBe(param('bucketName'));
      expect(env.DEST_PREFIX, fn).toBe(param('destPrefix'));
      expect(env.ORIGIN_ALLOWED_HOSTS, fn).toBe(param('originAllowedHosts'));
      // The fleet-wide origin limits, and the concurrency they are shared over (src/domain/origin/politeness.ts).
      expect(env.ORIGIN_MAX_REQUESTS_PER_SECOND, fn).toBe(param('originMaxRequestsPerSecond'));
      expect(env.ORIGIN_MAX_MBPS, fn).toBe(param('originMaxMBps'));
      expect(env.FLANTS_CRAWLER_MAX_CONCURRENCY, fn).toBe(String(param('crawlerMaxConcurrency')));
      expect(env.FLANTS_TRANSFER_MAX_CONCURRENCY, fn).toBe(String(param('transferMaxConcurrency')));
      expect(env.MONGODB_URI, fn).toBeUndefined();
    }
    for (const { path, value } of allStrings(t as unknown as Json))
      expect(value, path).not.toMatch(/mongodb(\+srv)?:\/\//);
    // Only the scanner reads the catalog; it gets the parameter's name, and may read exactly that parameter.
    const name = param('mongoUriParameter');
    expect(name).toMatch(/^\/[A-Za-z0-9_.\-/]+$/);
    expect(envOf('scanner').MONGODB_URI_SSM_PARAM).toBe(name);
    for (const fn of ['crawler', 'transfer', 'verify', 'dashboard'] as const)
      expect(envOf(fn).MONGODB_URI_SSM_PARAM, fn).toBeUndefined();
    expect(
      permissionsOfRole(t, 'ScannerRole')[
        `sub:arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${String(name)}`
      ],
    ).toBe('ssm:GetParameter');
  });
});

describe('queues', () => {
  it('scan, crawl and transfer each have a DLQ after 3 receives, in both lanes (bulk and fresh); DLQs keep messages 14 days', () => {
    for (const [fn, q] of Object.entries(PIPELINE)) {
      for (const lane of ['', 'Fresh']) {
        const main = props(`${q}${lane}Queue`);
        const dlq = props(`${q}${lane}DeadLetterQueue`);
        const role = `${q.toLowerCase()}${lane ? '-fresh' : ''}`;
        expect(main.QueueName, fn).toBe(`flants-${STAGE}-${role}`);
        expect(dlq.QueueName, fn).toBe(`flants-${STAGE}-${role}-dlq`);
        expect(main.RedrivePolicy, fn).toEqual({
          deadLetterTargetArn: getAtt(`${q}${lane}DeadLetterQueue`, 'Arn'),
          maxReceiveCount: 3,
        });
        expect(dlq.MessageRetentionPeriod, fn).toBe(14 * 24 * 3600);
        expect(dlq.RedrivePolicy, fn).toBeUndefined();
        expect(main.SqsManagedSseEnabled, fn).toBe(true);
        expect(dlq.SqsManagedSseEnabled, fn).toBe(true);
        // The fresh lane is the same stage: the same timeouts.
        expect(main.VisibilityTimeout, fn).toBe(props(`${q}Queue`).VisibilityTimeout);
      }
    }
    expect(resourcesOfType(t, 'AWS::SQS::Queue')).toHaveLength(12);
  });

  it('tell every pipeline function the same receive count the queues use: one parameter is the source', () => {
    for (const [fn, q] of Object.entries(PIPELINE)) {
      const count = (props(`${q}Queue`).RedrivePolicy as { maxReceiveCount: unknown }).maxReceiveCount;
      expect(String(envOf(fn as keyof typeof PIPELINE).FLANTS_MAX_RECEIVE_COUNT), fn).toBe(String(count));
    }
  });

  it('visibility timeout is at least six times the consumer timeout plus its batching window', () => {
    for (const [fn, q] of Object.entries(PIPELINE)) {
      const timeout = Number(fnProps(fn as FunctionName).Timeout);
      const window = Number(mappingOf(`${q}Queue`).MaximumBatchingWindowInSeconds ?? 0);
      expect(Number(props(`${q}Queue`).VisibilityTimeout), fn).toBeGreaterThanOrEqual(6 * timeout + window);
    }
  });

  it('are what the local stack creates (src/ops/service-definition.ts reads the same serverless.yml)', () => {
    for (const q of def.queues) {
      const p = props(q.logicalId);
      expect(p.QueueName).toBe(q.name);
      for (const [k, v] of Object.entries(q.attributes)) expect(String(p[k]), `${q.logicalId}.${k}`).toBe(v);
    }
    expect(def.tables.map((x) => [x.logicalId, x.name])).toEqual([['LedgerTable', props('LedgerTable').TableName]]);
    expect(def.buckets.map((x) => x.name)).toEqual([param('bucketName')]);
  });
});

describe('event source mappings', () => {
  it('report batch item failures, with batch size, batching window and maximum concurrency from params, one mapping per lane', () => {
    for (const [fn, q] of Object.entries(PIPELINE)) {
      for (const [i, lane] of ['', 'Fresh'].entries()) {
        const m = mappingOf(`${q}${lane}Queue`);
        expect(targetOf(m.FunctionName), fn).toBe(logicalId(fn as FunctionName));
        expect(m.FunctionResponseTypes, fn).toEqual(['ReportBatchItemFailures']);
        expect(m.BatchSize, fn).toBe(param(`${fn}BatchSize`));
        expect(m.MaximumBatchingWindowInSeconds, fn).toBe(param(`${fn}BatchWindow`));
        // Each lane's share of the function: its own maximum concurrency.
        const max = (m.ScalingConfig as JsonObject | undefined)?.MaximumConcurrency;
        expect(max, fn).toBe(param(`${fn}${lane}MaxConcurrency`));
        expect(Number(max)).toBeGreaterThanOrEqual(2);
        expect(Number(max)).toBeLessThanOrEqual(1000);
        // Tuned per stage through params, not hard-coded in the function.
        const sqs = (yml.functions[fn]!.events as JsonObject[])[i]!.sqs as JsonObject;
        expect([sqs.batchSize, sqs.maximumBatchingWindow, sqs.maximumConcurrency], fn).toEqual([
          `\${param:${fn}BatchSize}`,
          `\${param:${fn}BatchWindow}`,
          `\${param:${fn}${lane}MaxConcurrency}`,
        ]);
        // The local runner polls with the same settings, in the same lane.
        const local = def.consumers.find((c) => c.function === fn && c.lane === (lane ? 'fresh' : 'bulk'))!;
        expect(
          [local.batchSize, local.maximumBatchingWindow, local.maximumConcurrency, local.reportBatchItemFailures],
          fn,
        ).toEqual([m.BatchSize, m.MaximumBatchingWindowInSeconds, max, true]);
      }
    }
    expect(resourcesOfType(t, 'AWS::Lambda::EventSourceMapping')).toHaveLength(6);
  });
});

describe('schedules', () => {
  it('two EventBridge rules on the configured schedules send valid requests to the scan queue: the (incremental) catalog scan and the change check', () => {
    const rules = new Map(resourcesOfType(t, 'AWS::Events::Rule'));
    expect([...rules.keys()].sort()).toEqual(['RecheckSchedule', 'ScanSchedule', 'VerifySchedule']);
    for (const [id, name, mode] of [
      ['ScanSchedule', 'scanSchedule', 'catalog'],
      ['RecheckSchedule', 'recheckSchedule', 'recheck'],
    ] as const) {
      const p = rules.get(id)!.Properties!;
      expect(p.ScheduleExpression).toBe(param(name));
      expect(String(p.ScheduleExpression)).toMatch(/^(rate|cron)\(.+\)$/);
      expect(p.State).toBe(param(`${name}State`));
      const targets = p.Targets as JsonObject[];
      expect(targets).toHaveLength(1);
      expect(targets[0]!.Arn).toEqual(getAtt('ScanQueue', 'Arn'));
      // A fixed body: the catalog scan decides full or incremental from the watermark, the check covers every COMPLETE class.
      expect(ScanRequestSchema.parse(JSON.parse(String(targets[0]!.Input)))).toEqual({ v: 2, type: 'scan', mode });
    }
    expect(param('recheckSchedule')).toBe('rate(1 day)');

    const [[, policy]] = resourcesOfType(t, 'AWS::SQS::QueuePolicy') as [[string, CfnResource]];
    expect(policy.Properties!.Queues).toEqual([{ Ref: 'ScanQueue' }]);
    const statements = (policy.Properties!.PolicyDocument as JsonObject).Statement as JsonObject[];
    const allow = (sid: string, rule: string) => ({
      Sid: sid,
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'sqs:SendMessage',
      Resource: getAtt('ScanQueue', 'Arn'),
      Condition: { ArnEquals: { 'aws:SourceArn': getAtt(rule, 'Arn') } },
    });
    expect(statements).toEqual([
      allow('AllowScanSchedule', 'ScanSchedule'),
      allow('AllowRecheckSchedule', 'RecheckSchedule'),
    ]);
  });

  it('the verify schedule (issue 22) invokes the verify function, is off by default, and only it may invoke that function', () => {
    const p = props('VerifySchedule');
    expect(p.ScheduleExpression).toBe(param('verifySchedule'));
    expect(String(p.ScheduleExpression)).toMatch(/^(rate|cron)\(.+\)$/);
    expect(param('verifyScheduleState')).toBe('DISABLED');
    expect(p.State).toBe(param('verifyScheduleState'));
    expect(p.Targets).toEqual([{ Id: 'verify', Arn: getAtt(logicalId('verify'), 'Arn') }]);
    expect(props('VerifySchedulePermission')).toEqual({
      Action: 'lambda:InvokeFunction',
      FunctionName: { Ref: logicalId('verify') },
      Principal: 'events.amazonaws.com',
      SourceArn: getAtt('VerifySchedule', 'Arn'),
    });
    // A scheduled run, not a queue consumer: no event source mapping reaches it.
    expect(
      resourcesOfType(t, 'AWS::Lambda::EventSourceMapping').filter(
        ([, r]) => targetOf(r.Properties?.FunctionName) === logicalId('verify'),
      ),
    ).toEqual([]);
    expect(fnProps('verify').Timeout).toBe(param('verifyTimeout'));
  });
});

describe('ledger table', () => {
  it('is on demand, with point-in-time recovery, encryption, TTL, and kept when the stack goes', () => {
    const r = res('LedgerTable');
    const p = r.Properties!;
    expect(p.TableName).toBe(`flants-${STAGE}-ledger`);
    expect(p.BillingMode).toBe('PAY_PER_REQUEST');
    expect(p.ProvisionedThroughput).toBeUndefined();
    expect(p.PointInTimeRecoverySpecification).toMatchObject({ PointInTimeRecoveryEnabled: true });
    expect(p.SSESpecification).toMatchObject({ SSEEnabled: true });
    expect(p.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(p.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect([r.DeletionPolicy, r.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
    expect(resourcesOfType(t, 'AWS::DynamoDB::Table')).toHaveLength(1);
  });
});

describe('media bucket', () => {
  it('is created unless an existing bucket is named, fully private, encrypted and kept', () => {
    const r = res('MediaBucket');
    expect(r.Condition).toBe('CreateMediaBucket');
    expect(t.Conditions?.CreateMediaBucket).toEqual({ 'Fn::Equals': [{ Ref: 'CreateBucket' }, 'true'] });
    expect(t.Parameters?.CreateBucket).toMatchObject({
      Default: param('createBucket'),
      AllowedValues: ['true', 'false'],
    });
    const p = r.Properties!;
    expect(p.BucketName).toBe(param('bucketName'));
    expect(p.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    // SSE-KMS with bucketKmsKeyArn (and a Bucket Key), SSE-S3 otherwise.
    const rule = ((p.BucketEncryption as JsonObject).ServerSideEncryptionConfiguration as JsonObject[])[0]!;
    const [cond, kms, s3] = rule['Fn::If'] as [string, JsonObject, JsonObject];
    expect(cond).toBe('HasBucketKmsKey');
    expect(kms).toEqual({
      ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { Ref: 'BucketKmsKeyArn' } },
      BucketKeyEnabled: true,
    });
    expect(s3).toEqual({ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } });
    expect(p.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    // Parts of an upload whose function was killed are aborted a day later, not billed forever (issue 18 case 10).
    expect(p.LifecycleConfiguration).toEqual({
      Rules: [
        {
          Id: 'flants-abort-incomplete-multipart-uploads',
          Status: 'Enabled',
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        },
      ],
    });
    expect([r.DeletionPolicy, r.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
  });

  it('refuses every request that is not over TLS', () => {
    const policies = resourcesOfType(t, 'AWS::S3::BucketPolicy').filter(
      ([, r]) => targetOf(r.Properties?.Bucket) === 'MediaBucket',
    );
    expect(policies).toHaveLength(1);
    const [, policy] = policies[0]!;
    expect(policy.Condition).toBe('CreateMediaBucket');
    const deny = ((policy.Properties!.PolicyDocument as JsonObject).Statement as JsonObject[]).find(
      (s) => s.Effect === 'Deny',
    );
    expect(deny).toMatchObject({
      Principal: '*',
      Action: 's3:*',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    expect(deny!.Resource).toEqual([getAtt('MediaBucket', 'Arn'), { 'Fn::Sub': '${MediaBucket.Arn}/*' }]);
  });
});

describe('alarms', () => {
  const alarms = () => resourcesOfType(t, 'AWS::CloudWatch::Alarm').map(([, r]) => r.Properties!);
  const notifiesOptionalTopic = (a: JsonObject) => {
    const action = { 'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }] };
    expect(a.AlarmActions).toEqual(action);
    expect(a.OKActions).toEqual(action);
  };
  /**
   * The checks three alarms share, written once: an alarm on a metric FLAnts publishes, in the namespace and
   * under the name the publishing function's EMF lines use, on the dimensions Powertools Metrics writes from
   * every function (src/wiring/lambda.ts), with `settings`, notifying the optional topic.
   */
  const expectFlantsMetricAlarm = (metricName: string, settings: JsonObject) => {
    const a = alarms().find((x) => x.Namespace === METRIC_NAMESPACE && x.MetricName === metricName);
    expect(a).toBeDefined();
    expect(a!.Dimensions).toEqual([
      { Name: 'service', Value: 'flants' },
      { Name: 'Stage', Value: STAGE },
    ]);
    expect(a).toMatchObject(settings);
    notifiesOptionalTopic(a!);
  };

  it('fire when any DLQ holds a message (both lanes)', () => {
    for (const dlq of Object.values(PIPELINE).flatMap((q) => [`${q}DeadLetterQueue`, `${q}FreshDeadLetterQueue`])) {
      const a = alarms().find(
        (x) =>
          JSON.stringify(x.Dimensions) === JSON.stringify([{ Name: 'QueueName', Value: getAtt(dlq, 'QueueName') }]),
      );
      expect(a, `alarm on ${dlq}`).toBeDefined();
      expect(a).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
      notifiesOptionalTopic(a!);
    }
  });

  it("fire when the fresh transfer lane's oldest job has waited too long (SQS's own metric)", () => {
    const a = alarms().find(
      (x) =>
        x.MetricName === 'ApproximateAgeOfOldestMessage' &&
        JSON.stringify(x.Dimensions) ===
          JSON.stringify([{ Name: 'QueueName', Value: getAtt('TransferFreshQueue', 'QueueName') }]),
    );
    expect(a).toMatchObject({
      Namespace: 'AWS/SQS',
      Statistic: 'Maximum',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: param('freshLaneAgeAlarmSeconds'),
    });
    notifiesOptionalTopic(a!);
  });

  it('fire on transfer function errors', () => {
    const a = alarms().find((x) => x.Namespace === 'AWS/Lambda' && x.MetricName === 'Errors');
    expect(a).toBeDefined();
    expect(a!.Dimensions).toEqual([{ Name: 'FunctionName', Value: { Ref: logicalId('transfer') } }]);
    expect(a).toMatchObject({
      Statistic: 'Sum',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: param('transferErrorsThreshold'),
    });
    notifiesOptionalTopic(a!);
  });

  it('fire when a class took longer than the configured freshness to complete (the metric the transfer publishes)', () => {
    expectFlantsMetricAlarm('FreshnessSeconds', {
      Statistic: 'Maximum',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: param('freshnessAlarmSeconds'),
      TreatMissingData: 'notBreaching',
    });
  });

  it('fire on any finding of a scheduled verification (the metric the verify function publishes)', () => {
    expectFlantsMetricAlarm('VerifyFindings', {
      Statistic: 'Sum',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      TreatMissingData: 'notBreaching',
    });
  });

  it('fire when the origin throttles the fleet (the OriginThrottled metric the crawler and transfer publish)', () => {
    expectFlantsMetricAlarm('OriginThrottled', {
      Statistic: 'Sum',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: param('originThrottledAlarmThreshold'),
      TreatMissingData: 'notBreaching',
    });
  });

  it('notify the SNS topic only when one is configured', () => {
    expect(t.Conditions?.HasAlarmTopic).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AlarmTopicArn' }, ''] }] });
    expect(t.Parameters?.AlarmTopicArn).toMatchObject({ Type: 'String', Default: param('alarmTopicArn') });
  });
});

describe('dashboard', () => {
  it('is an HTTP API whose every route requires IAM (SigV4) authorisation', () => {
    const routes = resourcesOfType(t, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties!);
    expect(routes.map((r) => r.RouteKey).sort()).toEqual(['GET /', 'GET /status.json']);
    for (const r of routes) expect(r.AuthorizationType, String(r.RouteKey)).toBe('AWS_IAM');
    const integrations = resourcesOfType(t, 'AWS::ApiGatewayV2::Integration');
    expect(integrations).toHaveLength(1);
    expect(targetOf(integrations[0]![1].Properties!.IntegrationUri)).toBe(logicalId('dashboard'));
    expect(integrations[0]![1].Properties!.PayloadFormatVersion).toBe('2.0');
    // No other way in: no REST API, no function URL, no unauthenticated route.
    expect(resourcesOfType(t, 'AWS::ApiGateway::RestApi')).toEqual([]);
    expect(resourcesOfType(t, 'AWS::Lambda::Url')).toEqual([]);
  });

  it('can be invoked only by that API', () => {
    for (const [id, p] of resourcesOfType(t, 'AWS::Lambda::Permission')) {
      if (id === 'VerifySchedulePermission') continue; // the verify function's schedule (see schedules)
      expect(p.Properties!.Principal).toBe('apigateway.amazonaws.com');
      expect(JSON.stringify(p.Properties!.SourceArn)).toContain('HttpApi');
    }
  });
});

describe('IAM least privilege', () => {
  it('has no wildcard actions, no wildcard resources beyond logs and metrics, no public Allow', () => {
    expect(checkIamWildcards(t)).toEqual([]);
    expect(checkIamWildcards(pkg.createTemplate)).toEqual([]);
  });

  it('roles trust only Lambda and carry no managed policies', () => {
    expect(checkTrustPolicies(t)).toEqual([]);
    expect(rolesWithManagedPolicies(t)).toEqual([]);
    expect(resourcesOfType(t, 'AWS::IAM::Policy')).toEqual([]);
    expect(resourcesOfType(t, 'AWS::IAM::ManagedPolicy')).toEqual([]);
  });

  it('gives each function exactly what it needs', () => {
    const ledger = 'LedgerTable.Arn';
    const logs = 'logs:CreateLogStream,logs:PutLogEvents';
    const bucketObjects = `sub:arn:\${AWS::Partition}:s3:::${String(param('bucketName'))}/${String(param('destPrefix'))}*`;
    const expected: Record<FunctionName, Record<string, string>> = {
      scanner: {
        'ScannerLogGroup.Arn': logs,
        'ScanQueue.Arn':
          'sqs:ChangeMessageVisibility,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:ReceiveMessage,sqs:SendMessage',
        'ScanFreshQueue.Arn':
          'sqs:ChangeMessageVisibility,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:ReceiveMessage,sqs:SendMessage',
        'CrawlQueue.Arn': 'sqs:SendMessage',
        'CrawlFreshQueue.Arn': 'sqs:SendMessage',
        'ScanDeadLetterQueue.Arn': 'sqs:SendMessage',
        'ScanFreshDeadLetterQueue.Arn': 'sqs:SendMessage',
        [ledger]: 'dynamodb:BatchGetItem,dynamodb:GetItem,dynamodb:PutItem,dynamodb:UpdateItem',
        // A change check walks the COMPLETE classes through the class index.
        'sub:${LedgerTable.Arn}/index/classes': 'dynamodb:Query',
        [`sub:arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${String(param('mongoUriParameter'))}`]:
          'ssm:GetParameter',
        'if HasMongoUriKmsKey: Ref:MongoUriKmsKeyArn': 'kms:Decrypt',
      },
      crawler: {
        'CrawlerLogGroup.Arn': logs,
        'CrawlQueue.Arn':
          'sqs:ChangeMessageVisibility,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:ReceiveMessage,sqs:SendMessage',
        'CrawlFreshQueue.Arn':
          'sqs:ChangeMessageVisibility,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:ReceiveMessage,sqs:SendMessage',
        'TransferQueue.Arn': 'sqs:SendMessage',
        'TransferFreshQueue.Arn': 'sqs:SendMessage',
        'CrawlDeadLetterQueue.Arn': 'sqs:SendMessage',
        'CrawlFreshDeadLetterQueue.Arn': 'sqs:SendMessage',
        [ledger]: 'dynamodb:GetItem,dynamodb:Query,dynamodb:UpdateItem',
      },
      transfer: {
        'TransferLogGroup.Arn': logs,
        'TransferQueue.Arn': 'sqs:ChangeMessageVisibility,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:ReceiveMessage',
        'TransferFreshQueue.Arn':
          'sqs:ChangeMessageVisibility,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:ReceiveMessage',
        'TransferDeadLetterQueue.Arn': 'sqs:SendMessage',
        'TransferFreshDeadLetterQueue.Arn': 'sqs:SendMessage',
        'CrawlQueue.Arn': 'sqs:SendMessage',
        'CrawlFreshQueue.Arn': 'sqs:SendMessage',
        [ledger]:
          'dynamodb:BatchGetItem,dynamodb:ConditionCheckItem,dynamodb:GetItem,dynamodb:PutItem,dynamodb:UpdateItem',
        [bucketObjects]: 's3:AbortMultipartUpload,s3:GetObject,s3:PutObject',
        // A HEAD of a key not yet copied answers 404 only to a caller that may list (issue 19).
        [`sub:arn:\${AWS::Partition}:s3:::${String(param('bucketName'))}`]: 's3:ListBucket',
        'if HasBucketKmsKey: Ref:BucketKmsKeyArn': 'kms:Decrypt,kms:GenerateDataKey',
      },
      // Read-only on the bucket; the ledger's class records and chunk records, its own results and watermark.
      verify: {
        'VerifyLogGroup.Arn': logs,
        'sub:${LedgerTable.Arn}/index/classes': 'dynamodb:Query',
        [ledger]: 'dynamodb:GetItem,dynamodb:Query,dynamodb:UpdateItem',
        [bucketObjects]: 's3:GetObject',
        [`sub:arn:\${AWS::Partition}:s3:::${String(param('bucketName'))}`]: 's3:ListBucket',
        'if HasBucketKmsKey: Ref:BucketKmsKeyArn': 'kms:Decrypt',
      },
      dashboard: {
        // The queues' ages: GetMetricData authorises only on "*".
        '*': 'cloudwatch:GetMetricData',
        'DashboardLogGroup.Arn': logs,
        'sub:${LedgerTable.Arn}/index/classes': 'dynamodb:Query',
        [ledger]: 'dynamodb:GetItem,dynamodb:Query',
        'ScanQueue.Arn': 'sqs:GetQueueAttributes',
        'CrawlQueue.Arn': 'sqs:GetQueueAttributes',
        'TransferQueue.Arn': 'sqs:GetQueueAttributes',
        'ScanDeadLetterQueue.Arn': 'sqs:GetQueueAttributes',
        'CrawlDeadLetterQueue.Arn': 'sqs:GetQueueAttributes',
        'TransferDeadLetterQueue.Arn': 'sqs:GetQueueAttributes',
        'ScanFreshQueue.Arn': 'sqs:GetQueueAttributes',
        'CrawlFreshQueue.Arn': 'sqs:GetQueueAttributes',
        'TransferFreshQueue.Arn': 'sqs:GetQueueAttributes',
        'ScanFreshDeadLetterQueue.Arn': 'sqs:GetQueueAttributes',
        'CrawlFreshDeadLetterQueue.Arn': 'sqs:GetQueueAttributes',
        'TransferFreshDeadLetterQueue.Arn': 'sqs:GetQueueAttributes',
      },
    };
    for (const fn of FUNCTIONS) {
      const sorted = Object.fromEntries(Object.entries(expected[fn]).sort(([a], [b]) => a.localeCompare(b)));
      expect(permissionsOfRole(t, roleOfFunction(t, logicalId(fn))!), fn).toEqual(sorted);
    }
  });

  it('lets the transfer and verify list the bucket only under the destination prefix (HeadObject answers 404 only with s3:ListBucket)', () => {
    const list = collectStatements(t).filter((s) => JSON.stringify(s.doc.Action).includes('s3:ListBucket'));
    expect(list.map((s) => s.where.split('.')[0])).toEqual(['TransferRole', 'VerifyRole']);
    for (const l of list)
      expect(l.doc).toMatchObject({
        Sid: 'ListDestination',
        Action: 's3:ListBucket',
        Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${String(param('bucketName'))}` },
        Condition: { StringLike: { 's3:prefix': `${String(param('destPrefix'))}*` } },
      });
  });

  it('scopes the KMS permission for the catalog URI to SSM', () => {
    const kms = collectStatements(t).filter(
      (s) => JSON.stringify(s.doc.Action).includes('kms:') && s.where.startsWith('ScannerRole'),
    );
    expect(kms).toHaveLength(1);
    expect(kms[0]!.when).toEqual(['HasMongoUriKmsKey']);
    expect(kms[0]!.doc.Condition).toEqual({
      StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'ssm.${AWS::Region}.amazonaws.com' } },
    });
  });

  it("gives the transfer the bucket's KMS key only when bucketKmsKeyArn is set, only through S3, only for this bucket", () => {
    const kms = collectStatements(t).filter(
      (s) =>
        JSON.stringify(s.doc.Action).includes('kms:') &&
        !s.where.startsWith('ScannerRole') &&
        !s.where.startsWith('VerifyRole'),
    );
    expect(kms).toHaveLength(1);
    expect(kms[0]!.where).toMatch(/^TransferRole\./);
    expect(kms[0]!.when).toEqual(['HasBucketKmsKey']);
    expect(kms[0]!.doc.Action).toEqual(['kms:GenerateDataKey', 'kms:Decrypt']);
    expect(kms[0]!.doc.Condition).toEqual({
      StringEquals: { 'kms:ViaService': { 'Fn::Sub': 's3.${AWS::Region}.amazonaws.com' } },
      StringLike: {
        'kms:EncryptionContext:aws:s3:arn': [
          { 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${String(param('bucketName'))}` },
          { 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${String(param('bucketName'))}/${String(param('destPrefix'))}*` },
        ],
      },
    });
    // Verify reads playlists of an SSE-KMS bucket: Decrypt alone, under the same conditions.
    const verify = collectStatements(t).filter(
      (s) => JSON.stringify(s.doc.Action).includes('kms:') && s.where.startsWith('VerifyRole'),
    );
    expect(verify).toHaveLength(1);
    expect(verify[0]!.when).toEqual(['HasBucketKmsKey']);
    expect(verify[0]!.doc.Action).toBe('kms:Decrypt');
    expect(verify[0]!.doc.Condition).toEqual(kms[0]!.doc.Condition);
  });
});

describe('bundled handlers, run from the artifacts', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'flants-run-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Invokes a function's bundle in a fresh Node process with its template environment; AWS endpoints refuse connections. */
  function invoke(fn: FunctionName, event: Json): { result?: Json; error?: string } {
    const file = join(dir, `${fn}.mjs`);
    writeFileSync(file, readZip(join(pkg.dir, `${fn}.zip`)).get(`handlers/${fn}.mjs`)!);
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'not-a-secret',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_MAX_ATTEMPTS: '1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      FLANTS_LOG_LEVEL: 'error',
    };
    for (const [k, v] of Object.entries(envOf(fn))) {
      const target = targetOf(v);
      env[k] = target
        ? String(props(target).TableName ?? `http://127.0.0.1:9/000000000000/${String(props(target).QueueName)}`)
        : String(v);
    }
    const script = `const { handler } = await import(${JSON.stringify(pathToFileURL(file).href)});
      try { console.log(JSON.stringify({ result: await handler(${JSON.stringify(event)}, { getRemainingTimeInMillis: () => 60000 }) })); }
      catch (e) { console.log(JSON.stringify({ error: String(e && e.message) })); }`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      cwd: dir,
      env,
      timeout: 60_000,
    });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (!line.startsWith('{')) throw new Error(`${fn} bundle printed no result: ${r.stdout}\n${r.stderr}`);
    return JSON.parse(line) as { result?: Json; error?: string };
  }

  const httpEvent = (path: string) => ({
    version: '2.0',
    routeKey: `GET ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: { accept: 'text/html' },
    requestContext: { http: { method: 'GET', path } },
    isBase64Encoded: false,
  });

  it('the scanner reads the MongoDB URI from the SSM parameter it is given', () => {
    const out = invoke('scanner', {
      Records: [
        {
          messageId: 'm1',
          body: '{"v":2,"type":"scan","mode":"catalog"}',
          attributes: { ApproximateReceiveCount: '1' },
        },
      ],
    });
    expect(out.error).toContain(`SSM parameter ${String(param('mongoUriParameter'))}`);
  });

  it('the dashboard answers over payload v2, and says so when the ledger is unreachable', () => {
    const missing = invoke('dashboard', httpEvent('/nope')).result as JsonObject;
    expect(missing.statusCode).toBe(404);
    const page = invoke('dashboard', httpEvent('/')).result as JsonObject;
    expect(page.statusCode).toBe(503);
    expect(isObject(page.headers) && page.headers['content-type']).toMatch(/^text\/plain/);
  });

  it("the dashboard carries its page's script inlined, the sources' bundle byte for byte, and no bundler", () => {
    // Every answer's CSP names the script by its hash: the bundle's script is the one the sources build.
    const missing = invoke('dashboard', httpEvent('/nope')).result as JsonObject;
    expect(isObject(missing.headers) && missing.headers['content-security-policy']).toContain(
      `script-src '${clientScript().hash}'`,
    );
    const bundle = readZip(join(pkg.dir, 'dashboard.zip')).get('handlers/dashboard.mjs')!.toString('utf8');
    expect(bundle).not.toMatch(/dashboard-script\.cjs|bundleDashboardScriptSync/);
  });
});
