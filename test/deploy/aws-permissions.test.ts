// Issue 19: on AWS a HEAD of a key not yet in the bucket answers 403, not 404, to a caller without
// s3:ListBucket, and every re-copy HEADs its keys first. The lab's S3 here runs in its "AWS
// permissions" mode, holding the transfer to the S3 statements of serverless.yml's TransferRole:
// removing the ListDestination grant from serverless.yml fails the first test of this file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { CreateBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOriginServer, type OriginServer } from '../../lab/origin-server.ts';
import type { AwsPermissions } from '../../lab/s3-permissions.ts';
import { startLocalFauxqs, type LocalFauxqs } from '../../lab/servers/fauxqs.ts';
import { loadConfig } from '../../src/config.ts';
import { MESSAGE_VERSION } from '../../src/domain/jobs/schemas.ts';
import { startRunner } from '../../src/ops/runner.ts';
import { buildDeps } from '../../src/wiring/deps.ts';
import { createLedger } from '../../src/adapters/dynamodb/ledger.ts';
import { createObjectStore } from '../../src/adapters/s3/objects.ts';
import { deployedStatements, type ResolvedStatement } from './iam.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

const ROOT = join(import.meta.dirname, '../..');
const TRANSFER_KEY = 'AKIDTRANSFERROLE';
const PREFIX = 'media/hls/';

let t: TestStack;
let origin: OriginServer;
const files = new Map<string, Buffer>();
const playlist = (segments: number) =>
  Buffer.from(
    `#EXTM3U\n#EXT-X-TARGETDURATION:4\n${Array.from({ length: segments }, (_, i) => `#EXTINF:4,\nseg-${i + 1}.ts\n`).join('')}#EXT-X-ENDLIST\n`,
  );

/** The transfer role's statements as deployed with this test's bucket and prefix (no KMS key). */
function transferPolicy(without?: string): ResolvedStatement[] {
  const yml = readFileSync(join(ROOT, 'serverless.yml'), 'utf8');
  const all = deployedStatements(yml, 'TransferRole', {
    stage: t.cfg.stage,
    params: { bucketName: t.cfg.destBucket, destPrefix: PREFIX },
  });
  return all.filter((s) => s.Sid !== without);
}

beforeAll(async () => {
  t = await startTestStack({ services: ['sqs', 's3', 'dynamodb'], visibilityTimeout: 1 });
  files.set('/c/master.m3u8', Buffer.from('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n'));
  files.set('/c/v.m3u8', playlist(2));
  files.set('/c/seg-1.ts', Buffer.from('segment one'));
  files.set('/c/seg-2.ts', Buffer.from('segment two'));
  origin = await startOriginServer({
    stat: (path) => {
      const b = files.get(path);
      return (
        b && { size: b.length, contentType: path.endsWith('.m3u8') ? 'application/vnd.apple.mpegurl' : 'video/mp2t' }
      );
    },
    read: (path) => Readable.from([files.get(path)!]),
  });
}, 120_000);
afterAll(async () => {
  await origin?.close();
  await t?.stop();
});

/**
 * Copies class `classId` once (two segments), adds a third segment at the origin and copies it
 * again with `force` (a new generation that HEADs every key first), all through the local runner
 * and the handlers Lambda runs, against a lab S3 holding the transfer to `policy`.
 */
async function copyThenRecopy(
  classId: string,
  permissions: Omit<AwsPermissions, 'principals'>,
  policy: ResolvedStatement[],
) {
  const s3server: LocalFauxqs = await startLocalFauxqs({
    permissions: { ...permissions, principals: { [TRANSFER_KEY]: policy } },
  });
  const admin = new S3Client({
    region: 'us-east-1',
    endpoint: s3server.url,
    forcePathStyle: true,
    credentials: { accessKeyId: 'owner', secretAccessKey: 'owner' },
  });
  await admin.send(new CreateBucketCommand({ Bucket: t.cfg.destBucket }));
  const cfg = loadConfig({
    ...process.env,
    ...t.env,
    AWS_ENDPOINT_URL_S3: s3server.url,
    AWS_ACCESS_KEY_ID: TRANSFER_KEY,
    AWS_SECRET_ACCESS_KEY: 'transfer-secret',
    DEST_PREFIX: PREFIX,
    ORIGIN_ALLOWED_HOSTS: new URL(origin.url).host,
  });
  const deps = buildDeps(cfg, t.log);
  const runner = await startRunner({ def: t.def, deps, region: 'us-east-1', retryDelaySeconds: 0 });
  const ledger = createLedger(t.aws.ddb, cfg.tableName);
  const crawl = (force: boolean) =>
    deps.queue.sendAll('crawl', [
      {
        v: MESSAGE_VERSION,
        type: 'crawl',
        classId,
        manifestUrl: `${origin.url}/c/master.m3u8`,
        ...(force ? { force, requestedAt: new Date().toISOString() } : {}),
      },
    ]);
  try {
    files.set('/c/v.m3u8', playlist(2));
    files.delete('/c/seg-3.ts');
    await crawl(false);
    await runner.untilIdle({ timeoutMs: 60_000 });
    const first = await ledger.getClass(classId);
    files.set('/c/seg-3.ts', Buffer.from('segment three, new at the origin'));
    files.set('/c/v.m3u8', playlist(3));
    await crawl(true);
    await runner.untilIdle({ timeoutMs: 90_000 });
    const second = await ledger.getClass(classId);
    const failures = await ledger.listFailures(classId);
    const store = createObjectStore(admin, cfg.destBucket, { partSizeBytes: 8 << 20 });
    const keys: string[] = [];
    for await (const o of store.list(PREFIX)) keys.push(o.key);
    await store.close();
    return { first, second, failures, keys };
  } finally {
    await runner.stop();
    await deps.close();
    admin.destroy();
    await s3server.stop();
  }
}

describe('the transfer role on S3 that answers as AWS does (HEAD of a missing key: 403 without s3:ListBucket)', () => {
  it('re-copies a class with a new file under the role serverless.yml deploys (ListBucket conditioned on s3:prefix)', async () => {
    const r = await copyThenRecopy('perm-strict', { implicitListPrefix: 'unset' }, transferPolicy());
    expect(r.first).toMatchObject({ status: 'COMPLETE', gen: 1, totalFiles: 4 });
    expect(r.failures).toEqual([]);
    expect(r.second).toMatchObject({ status: 'COMPLETE', gen: 2, totalFiles: 5, failedFiles: 0 });
    expect(
      r.keys
        .filter((k) => k.includes('perm-strict'))
        .map((k) => k.split('/').pop())
        .sort(),
    ).toEqual(['master.m3u8', 'seg-1.ts', 'seg-2.ts', 'seg-3.ts', 'v.m3u8']);
  }, 240_000);

  it('re-copies it too where S3 applies the s3:prefix condition to the HEAD itself (its 404 then comes first)', async () => {
    const r = await copyThenRecopy('perm-keyed', { implicitListPrefix: 'key' }, transferPolicy());
    expect(r.second).toMatchObject({ status: 'COMPLETE', gen: 2, totalFiles: 5, failedFiles: 0 });
  }, 240_000);

  it('fails the new file with a named error saying which permission is missing, without the ListBucket grant', async () => {
    const policy = transferPolicy('ListDestination');
    expect(policy.some((s) => JSON.stringify(s.Action).includes('s3:ListBucket'))).toBe(false);
    const r = await copyThenRecopy('perm-nogrant', {}, policy);
    expect(r.second).toMatchObject({ status: 'FAILED', gen: 2, failedFiles: 1 });
    const failed = r.failures.flatMap((f) => f.files);
    expect(failed.map((f) => f.key.split('/').pop())).toEqual(['seg-3.ts']);
    expect(failed[0]!.reason).toContain('S3_ACCESS_DENIED');
    expect(failed[0]!.reason).toContain('s3:ListBucket');
  }, 240_000);
});

describe("the lab S3's AWS-permissions mode itself", () => {
  it('answers a HEAD of a missing key 403 without s3:ListBucket, 404 with it, and refuses what the policy does not grant', async () => {
    const bucketArn = 'arn:aws:s3:::b';
    const read: ResolvedStatement = { Effect: 'Allow', Action: 's3:GetObject', Resource: `${bucketArn}/*` };
    const list: ResolvedStatement = { Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn };
    const server = await startLocalFauxqs({ permissions: { principals: { reader: [read], lister: [read, list] } } });
    const client = (id: string) =>
      new S3Client({
        region: 'us-east-1',
        endpoint: server.url,
        forcePathStyle: true,
        credentials: { accessKeyId: id, secretAccessKey: 'x' },
      });
    const [owner, reader, lister] = [client('owner'), client('reader'), client('lister')];
    try {
      await owner.send(new CreateBucketCommand({ Bucket: 'b' }));
      const status = async (c: S3Client) =>
        c.send(new HeadObjectCommand({ Bucket: 'b', Key: 'missing.ts' })).then(
          () => 200,
          (err: { $metadata?: { httpStatusCode?: number } }) => err.$metadata?.httpStatusCode,
        );
      expect(await status(owner)).toBe(404);
      expect(await status(reader)).toBe(403);
      expect(await status(lister)).toBe(404);
      await expect(reader.send(new CreateBucketCommand({ Bucket: 'c' }))).rejects.toMatchObject({
        name: 'AccessDenied',
      });
    } finally {
      for (const c of [owner, reader, lister]) c.destroy();
      await server.stop();
    }
  }, 60_000);
});
