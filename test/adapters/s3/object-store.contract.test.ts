// The S3 adapter against the ObjectStore contract, on the local S3 server.
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll } from 'vitest';
import { createObjectStore } from '../../../src/adapters/s3/objects.ts';
import { startTestStack, type TestStack } from '../../helpers/stack.ts';
import { describeObjectStoreContract } from '../../contracts/object-store.contract.ts';

/** S3's smallest part: the contract's multipart bodies are cut as S3 itself would require. */
const PART = 5 * 1024 * 1024;
let t: TestStack;

beforeAll(async () => {
  t = await startTestStack({ services: ['s3'] });
  await t.aws.s3.send(new CreateBucketCommand({ Bucket: t.cfg.destBucket }));
}, 120_000);
afterAll(async () => t?.stop());

describeObjectStoreContract('S3 adapter (local S3 server)', () => {
  const store = createObjectStore(t.aws.s3, t.cfg.destBucket, { partSizeBytes: PART });
  return Promise.resolve({ store, partSizeBytes: PART, close: () => store.close() });
});
