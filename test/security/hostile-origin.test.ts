// Gap 1 (issue 10), end to end through the real origin client, the crawl's enumeration and the
// transfer's copy: an allowed name that resolves to a non-public address is never fetched (on any
// hop), and a portless entry allows 80/443 only. Names are resolved by an injected stub (the
// production default is dns.lookup); every address it hands out for a refused name is one that,
// should the guard ever regress, reaches only this test's own loopback server.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { planClass } from '../../src/hls/enumerate.ts';
import { createOrigin } from '../../src/adapters/origin/client.ts';
import { BlockedAddressError } from '../../src/adapters/origin/http-errors.ts';
import { guardedLookup, type ResolvedAddress } from '../../src/adapters/origin/lookup.ts';
import type { Origin } from '../../src/domain/ports/origin.ts';
import { copyFile, type TransferDeps } from '../../src/pipeline/copy-file.ts';
import { createObjectStore } from '../../src/adapters/s3/objects.ts';
import type { ObjectStore } from '../../src/domain/ports/object-store.ts';
import { startTestStack, transferDepsOn, type TestStack } from '../helpers/stack.ts';

let t: TestStack;
let server: Server;
let port: number;
const seen: string[] = [];
const asked: string[] = [];
let origin: Origin;
let store: ObjectStore;
let deps: TransferDeps;

const DNS: Record<string, ResolvedAddress[]> = {
  'cdn.example.com': [{ address: '127.0.0.1', family: 4 }],
  'internal.example.com': [{ address: '127.0.0.1', family: 4 }],
  'meta.example.com': [{ address: '169.254.169.254', family: 4 }],
  'mapped.example.com': [{ address: '::ffff:127.0.0.1', family: 6 }],
};
const resolve = async (host: string): Promise<ResolvedAddress[]> => {
  asked.push(host);
  return DNS[host] ?? [];
};

beforeAll(async () => {
  t = await startTestStack({ services: ['sqs', 's3', 'dynamodb'] });
  server = createServer((req: IncomingMessage, res) => {
    seen.push(req.url ?? '');
    if (req.url === '/to-internal')
      return void res.writeHead(302, { location: `http://internal.example.com:${port}/secret.m3u8` }).end();
    if (req.url === '/to-metadata')
      return void res.writeHead(302, { location: `http://meta.example.com:${port}/latest/meta-data/iam/` }).end();
    if (req.url === '/master.m3u8') {
      return void res
        .writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' })
        .end(`#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nhttp://cdn.example.com:${port}/v/index.m3u8\n`);
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('runtime API secrets');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  const cfg = loadConfig({
    ...process.env,
    ...t.env,
    ORIGIN_ALLOWED_HOSTS: `127.0.0.1:${port},cdn.example.com:${port},*.example.com:${port},cdn.example.com`,
  });
  origin = createOrigin({ allowedHosts: cfg.originAllowedHosts, resolve, connectTimeoutMs: 1_000 });
  store = createObjectStore(t.aws.s3, cfg.destBucket, { partSizeBytes: cfg.transfer.partSizeBytes });
  deps = transferDepsOn(t, cfg, origin, store);
});
afterAll(async () => {
  await origin?.close();
  server?.close();
  await t?.stop();
});

/** The guard itself refuses the metadata address before any client test may hand it to a socket. */
async function guardRefusesMetadata(): Promise<boolean> {
  const err = await new Promise<unknown>((r) => guardedLookup(resolve)('meta.example.com', { all: true }, (e) => r(e)));
  return err instanceof BlockedAddressError;
}

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string; retryable: boolean }> {
  const err = await p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e,
  );
  return err as { code: string; message: string; retryable: boolean };
}

describe('an allowed name that resolves to a private address', () => {
  it('is refused for 127.0.0.1 (the Lambda Runtime API), with a reason, and no request reaches it', async () => {
    const before = seen.length;
    const err = await refusal(origin.fetchText(`http://cdn.example.com:${port}/master.m3u8`, { maxBytes: 1 << 20 }));
    expect(err).toMatchObject({ code: 'ORIGIN_ADDRESS_BLOCKED', retryable: false });
    expect(err.message).toContain(
      `refusing http://cdn.example.com:${port}/master.m3u8: cdn.example.com resolves to 127.0.0.1, a loopback address`,
    );
    expect(seen.length).toBe(before);
    expect(asked).toContain('cdn.example.com');
  });

  it('is refused for an IPv4-mapped IPv6 loopback too', async () => {
    const before = seen.length;
    const err = await refusal(origin.openStream(`http://mapped.example.com:${port}/a.ts`));
    expect(err.code).toBe('ORIGIN_ADDRESS_BLOCKED');
    expect(err.message).toMatch(/::ffff:127\.0\.0\.1, a loopback, embedded in IPv6 address/);
    expect(seen.length).toBe(before);
  });

  it('is refused for 169.254.169.254 (the metadata service)', async () => {
    expect(await guardRefusesMetadata()).toBe(true);
    const err = await refusal(origin.openStream(`http://meta.example.com:${port}/latest/meta-data/`));
    expect(err).toMatchObject({ code: 'ORIGIN_ADDRESS_BLOCKED', retryable: false });
    expect(err.message).toMatch(/meta\.example\.com resolves to 169\.254\.169\.254, a link-local/);
  });
});

describe('a redirect', () => {
  it('to an allowed name resolving to 127.0.0.1 is refused on that hop; the target is never requested', async () => {
    seen.length = 0;
    const err = await refusal(origin.fetchText(`http://127.0.0.1:${port}/to-internal`, { maxBytes: 1 << 20 }));
    expect(err.code).toBe('ORIGIN_ADDRESS_BLOCKED');
    expect(err.message).toContain(
      `refusing http://internal.example.com:${port}/secret.m3u8: internal.example.com resolves to 127.0.0.1`,
    );
    expect(seen).toEqual(['/to-internal']);
  });

  it('to an allowed name resolving to 169.254.169.254 is refused on that hop', async () => {
    expect(await guardRefusesMetadata()).toBe(true);
    seen.length = 0;
    const err = await refusal(origin.openStream(`http://127.0.0.1:${port}/to-metadata`));
    expect(err.code).toBe('ORIGIN_ADDRESS_BLOCKED');
    expect(err.message).toContain('169.254.169.254');
    expect(seen).toEqual(['/to-metadata']);
  });
});

describe('ports', () => {
  it('a portless entry allows 80 and 443 only: :22 is refused before any name is resolved', async () => {
    asked.length = 0;
    const err = await refusal(origin.openStream('http://cdn.example.com:22/x.ts'));
    expect(err.code).toBe('ORIGIN_HOST_NOT_ALLOWED');
    expect(err.message).toContain('host "cdn.example.com:22" is not in ORIGIN_ALLOWED_HOSTS');
    expect(asked).toEqual([]);
  });
});

describe('through the pipeline', () => {
  it('a crawl whose variant sits on such a name fails with the reason, not retryable', async () => {
    const err = await refusal(
      planClass(`http://127.0.0.1:${port}/master.m3u8`, origin, {
        limits: deps.cfg.hls,
        destPrefix: 'media/',
        allowedHosts: deps.cfg.originAllowedHosts,
      }),
    );
    expect(err).toMatchObject({ code: 'ORIGIN_ADDRESS_BLOCKED', retryable: false });
    expect(err.message).toContain(`cdn.example.com:${port}/v/index.m3u8`);
  });

  it('a transfer of such a file is refused and writes nothing', async () => {
    const err = await refusal(
      copyFile({ src: `http://cdn.example.com:${port}/v/seg-1.ts`, key: 'media/v/seg-1.ts', kind: 'segment' }, deps),
    );
    expect(err.code).toBe('ORIGIN_ADDRESS_BLOCKED');
    expect(await store.head('media/v/seg-1.ts')).toBeUndefined();
    const keys: string[] = [];
    for await (const o of store.list('')) keys.push(o.key);
    expect(keys).toEqual([]);
  });
});
