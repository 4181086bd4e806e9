// Issue 18 case 10: a function killed mid-upload leaves its parts billed until the upload is aborted.
// A bucket `flants setup` creates gets the rule that aborts incomplete multipart uploads after a day
// (serverless.yml's bucket carries the same rule: test/deploy/template.test.ts).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetBucketLifecycleConfigurationCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ABORT_INCOMPLETE_UPLOADS_RULE, setAbortIncompleteUploads, setupResources } from '../../src/ops/setup.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack({ services: ['sqs', 's3', 'dynamodb'] });
}, 120_000);
afterAll(async () => t?.stop());

describe('setup and incomplete multipart uploads', () => {
  it('gives a bucket it creates the rule serverless.yml declares, and leaves an existing bucket alone', async () => {
    expect(t.def.buckets[0]).toMatchObject({ abortIncompleteUploadsAfterDays: 1 });
    // startTestStack ran setup on a fresh stack: the bucket was created with the rule.
    const res = await t.aws.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: t.cfg.destBucket }));
    expect(res.Rules).toEqual([
      expect.objectContaining({
        ID: ABORT_INCOMPLETE_UPLOADS_RULE,
        Status: 'Enabled',
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      }),
    ]);
    // Run again: the bucket exists now, and setup says so rather than replace its rules.
    const again = await setupResources(t.cfg, t.def, t.aws);
    expect(again.lifecycle).toBe('existing-bucket');
  }, 60_000);

  it('tolerates an S3 endpoint without lifecycle support, and says so', async () => {
    const requests: string[] = [];
    const server: Server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      req.resume();
      res
        .writeHead(501, { 'content-type': 'application/xml' })
        .end(
          '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NotImplemented</Code><Message>A header you provided implies functionality that is not implemented</Message></Error>',
        );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const s3 = new S3Client({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      const out = await setAbortIncompleteUploads(s3, 'media', 1);
      expect(out).toMatchObject({ lifecycle: 'not-supported' });
      expect('note' in out && out.note).toMatch(/does not implement bucket lifecycle rules.*not aborted automatically/);
      expect(requests).toHaveLength(1);
      expect(requests[0]).toMatch(/^PUT \/media\/?\?lifecycle/);
    } finally {
      s3.destroy();
      server.close();
    }
  }, 60_000);
});
