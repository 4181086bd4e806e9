import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createAwsClients, type AwsClients } from '../../src/wiring/aws-clients.ts';

// The S3 client's signing of bodies, seen from a server that records what arrives.
describe('createAwsClients: S3 bodies', () => {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { etag: '"e"' });
      res.end();
    });
  });
  let aws: AwsClients;
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    aws = createAwsClients(
      loadConfig({
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'a',
        AWS_SECRET_ACCESS_KEY: 'b',
        AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`,
      }),
    );
  });
  afterAll(() => {
    aws.destroy();
    server.close();
  });

  it('leaves a body with a CRC32 header unhashed by SigV4 (S3 checks the CRC32), and still signs one without', async () => {
    await aws.s3.send(
      new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: Buffer.from('hello'), ChecksumCRC32: 'NhCmhg==' }),
    );
    await aws.s3.send(new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: Buffer.from('hello') }));
    expect(seen[0]!['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
    expect(seen[0]!['x-amz-checksum-crc32']).toBe('NhCmhg==');
    expect(seen[0]!.authorization).toContain('x-amz-content-sha256');
    expect(seen[1]!['x-amz-content-sha256']).toMatch(/^[0-9a-f]{64}$/);
  });
});
