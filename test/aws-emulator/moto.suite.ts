// A second opinion (issue 19): the pipeline end to end against moto (Python), an emulator written
// against AWS's documented behaviour, with its IAM and SigV4 checks on: SQS, S3 and DynamoDB from
// moto, each function signing as its own IAM user holding exactly its role's statements from
// serverless.yml; the origin and MongoDB are the lab's. Run with `npm run test:aws-emulator`; never part
// of `npm test`. Skips with one line where moto_server is not installed (`pip install "moto[server]"`).
//
// Keys stay within [A-Za-z0-9._/-]: moto's own SigV4 check refuses object keys with non-ASCII
// characters, ':', '+' or '=' even when the SDK signed them (its canonical request encodes them
// otherwise than AWS does), so the lab library used here has none, and the suite checks that.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalPipeline, type LocalPipeline } from '../../lab/local-pipeline.ts';
import { loadConfig } from '../../src/config.ts';
import { QUEUE_ROLES } from '../../src/domain/vocabulary.ts';
import { startRunner, type Runner } from '../../src/ops/runner.ts';
import { loadServiceDefinition } from '../../src/ops/service-definition.ts';
import { buildDeps, type Deps } from '../../src/wiring/deps.ts';
import { deployedStatements, type ResolvedStatement } from '../deploy/iam.ts';
import { testLogger } from '../helpers/stack.ts';
import { motoInstalled, startMotoServer } from '../helpers/moto-server.ts';

const ROOT = join(import.meta.dirname, '../..');
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const STAGE = 'demo';

const motoPresent = motoInstalled('the AWS emulator suite');

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** One IAM Query API call to moto, signed (with nothing real during moto's first unauthenticated calls). */
async function iam(endpoint: string, params: Record<string, string>, creds: Credentials): Promise<string> {
  const url = new URL(endpoint);
  const body = new URLSearchParams({ Version: '2010-05-08', ...params }).toString();
  const signer = new SignatureV4({
    credentials: creds,
    region: REGION,
    service: 'iam',
    sha256: new SQSClient({ region: REGION }).config.sha256,
  });
  const req = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: '/',
    query: {},
    headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  const res = await fetch(`${endpoint}/`, { method: 'POST', headers: req.headers, body });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`IAM ${params.Action} answered ${res.status}: ${text}`);
  return text;
}

async function userWithPolicy(endpoint: string, name: string, policy: unknown, as: Credentials): Promise<Credentials> {
  await iam(endpoint, { Action: 'CreateUser', UserName: name }, as);
  await iam(
    endpoint,
    { Action: 'PutUserPolicy', UserName: name, PolicyName: name, PolicyDocument: JSON.stringify(policy) },
    as,
  );
  const key = await iam(endpoint, { Action: 'CreateAccessKey', UserName: name }, as);
  return {
    accessKeyId: /<AccessKeyId>(.*?)<\/AccessKeyId>/.exec(key)![1]!,
    secretAccessKey: /<SecretAccessKey>(.*?)<\/SecretAccessKey>/.exec(key)![1]!,
  };
}

/**
 * What moto's IAM check needs beyond AWS's, for the same grant (docs/aws-behaviour.md, "moto"):
 * - it authorises DynamoDB actions against resource "*" (it names no table to IAM), so a statement
 *   scoped to the table's ARN never matches: such statements keep their exact actions on "*";
 * - it checks the API's own name, where AWS authorises a batch by its single action and a
 *   transaction by each item's action: SendMessageBatch needs sqs:SendMessage on AWS and
 *   sqs:SendMessageBatch on moto, TransactWriteItems dynamodb:TransactWriteItems.
 */
const MOTO_ALIASES: Record<string, string> = {
  'sqs:SendMessage': 'sqs:SendMessageBatch',
  'sqs:DeleteMessage': 'sqs:DeleteMessageBatch',
  'sqs:ChangeMessageVisibility': 'sqs:ChangeMessageVisibilityBatch',
  'dynamodb:PutItem': 'dynamodb:TransactWriteItems',
  'dynamodb:UpdateItem': 'dynamodb:TransactWriteItems',
};
function forMoto(s: ResolvedStatement): ResolvedStatement {
  const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
  const all = [...new Set([...actions, ...actions.flatMap((a) => MOTO_ALIASES[a] ?? [])])];
  return {
    ...s,
    Action: all,
    ...(actions.every((a) => a.startsWith('dynamodb:')) ? { Resource: '*' } : {}),
  };
}

describe.skipIf(!motoPresent)('the pipeline against moto with IAM and SigV4 checks on', () => {
  let moto: ChildProcess;
  let endpoint: string;
  let pipeline: LocalPipeline;
  const runners: Runner[] = [];
  const built: Deps[] = [];

  beforeAll(async () => {
    ({ child: moto, endpoint } = await startMotoServer({
      // Moto authenticates every request after the first three: the IAM calls that make the administrator.
      env: { ...process.env, INITIAL_NO_AUTH_ACTION_COUNT: '3' },
      // Its request log (one line per request, with the status) helps when a call is refused.
      logFile: (port) => `flants-moto-${port}.log`,
    }));
    const nobody = { accessKeyId: 'AKIDBOOTSTRAP', secretAccessKey: 'bootstrap' };
    const admin = await userWithPolicy(
      endpoint,
      'admin',
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
      nobody,
    );
    // An unknown key is refused from now on: the checks are on.
    await expect(iam(endpoint, { Action: 'ListUsers' }, nobody)).rejects.toThrow(/InvalidClientTokenId|403/);

    pipeline = await startLocalPipeline({
      library: { classes: 3, segmentsPerRendition: 3, segmentBytes: 16 * 1024, variants: 1, seed: 'moto' },
      log: testLogger(),
      noRunner: true,
      // Port 80 on a loopback address of its own: keys carry the origin's host, and a non-default port
      // would put a ':' in every key (which moto's SigV4 check refuses).
      originListen: { host: `127.0.${1 + (process.pid % 250)}.${2 + Math.floor(Math.random() * 250)}`, port: 80 },
      visibilityTimeout: 5,
      env: {
        AWS_ENDPOINT_URL_SQS: endpoint,
        AWS_ENDPOINT_URL_S3: endpoint,
        AWS_ENDPOINT_URL_DYNAMODB: endpoint,
        AWS_ACCESS_KEY_ID: admin.accessKeyId,
        AWS_SECRET_ACCESS_KEY: admin.secretAccessKey,
        FLANTS_STAGE: STAGE,
        // No key prefix: moto's SigV4 check also refuses a ListObjectsV2 whose prefix holds a '/'.
        DEST_PREFIX: '',
      },
    });
    const cfg = pipeline.cfg;
    const yml = readFileSync(join(ROOT, 'serverless.yml'), 'utf8');
    const arns: Record<string, string> = {
      LedgerTable: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${cfg.tableName}`,
    };
    for (const [logical, role] of [
      ['Scan', 'scan'],
      ['Crawl', 'crawl'],
      ['Transfer', 'transfer'],
    ] as const) {
      arns[`${logical}Queue`] = `arn:aws:sqs:${REGION}:${ACCOUNT}:${cfg.queueNames[role].queue}`;
      arns[`${logical}DeadLetterQueue`] = `arn:aws:sqs:${REGION}:${ACCOUNT}:${cfg.queueNames[role].dlq}`;
      // The fresh lane's queues (docs/architecture.md, "Fresh first"): the roles may use them too.
      arns[`${logical}FreshQueue`] = `arn:aws:sqs:${REGION}:${ACCOUNT}:${cfg.freshQueueNames[role].queue}`;
      arns[`${logical}FreshDeadLetterQueue`] = `arn:aws:sqs:${REGION}:${ACCOUNT}:${cfg.freshQueueNames[role].dlq}`;
    }
    for (const fn of ['Scanner', 'Crawler', 'Transfer'])
      arns[`${fn}LogGroup`] =
        `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/flants-${STAGE}-${fn.toLowerCase()}:*`;
    const def = loadServiceDefinition(STAGE);
    // Lambda gets every queue URL from serverless.yml's environment: no function may look one up.
    const urls: Record<string, string> = {};
    for (const r of QUEUE_ROLES) {
      urls[`FLANTS_${r.toUpperCase()}_QUEUE_URL`] = await pipeline.deps.queue.url(r);
      urls[`FLANTS_${r.toUpperCase()}_DLQ_URL`] = await pipeline.deps.queue.url(`${r}-dlq`);
      urls[`FLANTS_${r.toUpperCase()}_FRESH_QUEUE_URL`] = await pipeline.deps.queue.url(`${r}-fresh`);
      urls[`FLANTS_${r.toUpperCase()}_FRESH_DLQ_URL`] = await pipeline.deps.queue.url(`${r}-fresh-dlq`);
    }
    // One IAM user per function: a function consumes both lanes' queues (two mappings) under one role.
    const users = new Map<string, Credentials>();
    for (const c of def.consumers) {
      const role = `${c.function[0]!.toUpperCase()}${c.function.slice(1)}Role`;
      const statements = deployedStatements(yml, role, {
        stage: STAGE,
        params: { bucketName: cfg.destBucket, destPrefix: cfg.destPrefix },
        arns,
        account: ACCOUNT,
        region: REGION,
      });
      const creds =
        users.get(c.function) ??
        (await userWithPolicy(
          endpoint,
          `flants-${c.function}`,
          { Version: '2012-10-17', Statement: statements.map(forMoto) },
          admin,
        ));
      users.set(c.function, creds);
      const deps = buildDeps(
        loadConfig({
          ...process.env,
          ...pipeline.env,
          ...urls,
          AWS_ACCESS_KEY_ID: creds.accessKeyId,
          AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
        }),
        testLogger(),
      );
      built.push(deps);
      runners.push(
        await startRunner({
          def: { ...def, consumers: [c] },
          deps,
          region: REGION,
          retryDelaySeconds: 1,
          concurrency: { [c.role]: 2 },
        }),
      );
    }
  }, 240_000);

  afterAll(async () => {
    for (const r of runners) await r.stop().catch(() => undefined);
    for (const d of built) await d.close().catch(() => undefined);
    await pipeline?.stop();
    moto?.kill('SIGTERM');
  });

  it('copies every class COMPLETE and every object byte for byte, each function as its own IAM user', async () => {
    for (const path of pipeline.library.paths())
      expect(path, 'a key moto would refuse to sign').toMatch(/^[A-Za-z0-9._/-]+$/);
    const scanId = await pipeline.scan();
    await pipeline.settle({ timeoutMs: 60_000 });
    const report = await pipeline.evaluate(scanId);
    expect(report.verified).toMatchObject({ mismatches: 0, missing: 0, extra: 0, dangling: 0 });
    for (const cls of pipeline.library.classes)
      expect(report.classes.find((c) => c.classId === cls.id)).toMatchObject({ status: 'COMPLETE', failedFiles: 0 });
    expect(report.ok).toBe(true);
  }, 360_000);
});
