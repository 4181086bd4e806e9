// Issue 18, cases 2 and 3: what an origin's bytes are when they come encoded although identity was
// asked for (gzip, br, deflate, or an encoding FLAnts cannot decode), and when nothing frames them
// (no Content-Length, no chunks: the body ends when the connection closes). Real crawls, transfers
// and copies against the lab origin server and the local S3, DynamoDB and SQS.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBucket } from '../../../lab/bucket-check.ts';
import { LIBRARY_ENV, generateLibrary } from '../../../lab/library.ts';
import type { OriginContent, OriginServer } from '../../../lab/origin-server.ts';
import { ChunkFailedError } from '../../../src/errors.ts';
import { MESSAGE_VERSION, type TransferJob } from '../../../src/domain/jobs/schemas.ts';
import { createOrigin } from '../../../src/adapters/origin/client.ts';
import type { Origin } from '../../../src/domain/ports/origin.ts';
import { createPipelineEvents } from '../../../src/pipeline/events.ts';
import { runCrawl } from '../../../src/pipeline/crawler.ts';
import { recordTransferFailure, runTransfer } from '../../../src/pipeline/transfer.ts';
import { copyFile, type TransferDeps } from '../../../src/pipeline/copy-file.ts';
import { planClass } from '../../../src/hls/enumerate.ts';
import type { Config } from '../../../src/config.ts';
import type { Ledger } from '../../../src/domain/ports/ledger.ts';
import type { ObjectStore } from '../../../src/domain/ports/object-store.ts';
import type { JobQueue } from '../../../src/domain/ports/job-queue.ts';
import { crc32Base64 } from '../../../src/util/crc.ts';
import { objectBytes, type TestStack } from '../../helpers/stack.ts';
import { collectingTransfers, startPipelineEnv, type PipelineEnv } from '../../helpers/pipeline-env.ts';

const MiB = 1024 * 1024;
const library = generateLibrary({ classes: 2, segmentsPerRendition: 2, segmentBytes: 4096, variants: 1, seed: 'i18' });
const segment = randomBytes(4000);
const ZEROS = Buffer.alloc(MiB);
/** 64 MiB of zeros: about 64 KiB gzipped, far over the 1 MiB file cap once decoded. */
const BOMB_BYTES = 64 * MiB;
/** A "playlist" of 32 MiB of comment lines: over the 8 MiB playlist cap once decoded. */
const PLAYLIST_BOMB_BYTES = 32 * MiB;

/** The library, plus a few files of its own; the bombs are streamed, never held. */
const content: OriginContent = {
  stat(path) {
    if (path === '/seg.ts') return { size: segment.length, contentType: 'video/mp2t' };
    if (path === '/bomb.ts') return { size: BOMB_BYTES, contentType: 'video/mp2t' };
    if (path === '/bomb.m3u8') return { size: PLAYLIST_BOMB_BYTES, contentType: 'application/vnd.apple.mpegurl' };
    return library.stat(path);
  },
  read(path, range) {
    if (path === '/seg.ts') return Readable.from([segment.subarray(range?.start ?? 0, (range?.end ?? Infinity) + 1)]);
    if (path === '/bomb.ts' || path === '/bomb.m3u8') {
      const fill = path === '/bomb.ts' ? ZEROS : Buffer.from('#\n'.repeat(MiB / 2));
      const total = path === '/bomb.ts' ? BOMB_BYTES : PLAYLIST_BOMB_BYTES;
      return Readable.from(
        (function* () {
          yield Buffer.from('#EXTM3U\n').subarray(0, path === '/bomb.m3u8' ? 8 : 0);
          for (let sent = 0; sent < total; sent += fill.length) yield fill;
        })(),
      );
    }
    return library.read(path, range);
  },
};

let env: PipelineEnv;
let t: TestStack;
let server: OriginServer;
let cfg: Config;
let origin: Origin;
let store: ObjectStore;
let ledger: Ledger;
let queue: JobQueue;
let deps: TransferDeps;
const sent: TransferJob[] = [];

beforeAll(async () => {
  env = await startPipelineEnv(
    content,
    {
      // The library's fMP4 classes publish manifest.mpd beside the master: copied, as `npm start` does.
      ...LIBRARY_ENV,
      DEST_PREFIX: 'copy/',
      TRANSFER_RETRY_BASE_MS: '1',
    },
    { TRANSFER_MAX_FILE_MB: '1' },
  );
  ({ t, server, cfg, origin, store, ledger } = env);
  // The crawl's transfer jobs are run right here instead of through SQS.
  queue = collectingTransfers(env.jobs, sent);
  deps = { cfg, origin, store, ledger, queue, events: createPipelineEvents(), log: t.log };
}, 120_000);
afterAll(() => env?.stop());

const requestsDuring = async <T>(fn: () => Promise<T>): Promise<{ value: T; requests: number }> => {
  const before = server.stats().requests;
  const value = await fn();
  return { value, requests: server.stats().requests - before };
};

/** Crawls a class of the library; returns the transfer jobs the crawl sent. */
async function crawl(classId: string, c: Config = cfg): Promise<TransferJob[]> {
  const cls = library.classes.find((x) => x.id === classId)!;
  sent.length = 0;
  await runCrawl(
    { v: MESSAGE_VERSION, type: 'crawl', classId, manifestUrl: server.url + cls.manifestPath, title: cls.title },
    { cfg: c, origin, ledger, queue, events: createPipelineEvents(), log: t.log },
  );
  return sent.splice(0);
}

describe('encoded bodies: stored decoded, verified on what is stored (issue 18, case 2)', () => {
  for (const encoding of ['gzip', 'br', 'deflate']) {
    for (const framing of ['length', 'chunked'] as const) {
      it(`a ${encoding} segment (${framing} framing) is stored as its decoded bytes, with their exact length and CRC32`, async () => {
        server.setFaults({ encoding, framing });
        const key = `copy/enc/${encoding}-${framing}/seg.ts`;
        const { value: landed, requests } = await requestsDuring(() =>
          copyFile({ src: `${server.url}/seg.ts`, key, kind: 'segment' }, deps, { generation: 1 }),
        );
        expect(landed.bytes).toBe(segment.length);
        expect((await objectBytes(store, key)).equals(segment)).toBe(true);
        const head = await store.head(key);
        expect([head?.size, head?.crc32]).toEqual([segment.length, crc32Base64(crc32(segment))]);
        // An encoding ends its own body (gzip, zlib and brotli streams carry their end): one read suffices.
        expect(requests).toBe(1);
      });
    }
  }

  it('an encoded body that ends at the connection close is read once: the decoder checks its end', async () => {
    server.setFaults({ encoding: 'gzip', framing: 'close' });
    const { value: landed, requests } = await requestsDuring(() =>
      copyFile({ src: `${server.url}/seg.ts`, key: 'copy/enc/close/seg.ts', kind: 'segment' }, deps),
    );
    expect([landed.bytes, requests]).toEqual([segment.length, 1]);
    expect((await objectBytes(store, 'copy/enc/close/seg.ts')).equals(segment)).toBe(true);
  });

  it('a gzip origin: playlists parse, the class crawls and copies COMPLETE, every object the decoded original', async () => {
    server.setFaults({ encoding: 'gzip' });
    const cls = library.classes[0]!;
    const plan = await planClass(server.url + cls.manifestPath, origin, {
      limits: cfg.hls,
      destPrefix: '',
      allowedHosts: cfg.originAllowedHosts,
    });
    expect(plan).toHaveLength(cls.files);
    for (const job of await crawl(cls.id))
      expect((await runTransfer(job, { receiveCount: 1 }, deps)).outcome).toBe('counted');
    expect(await ledger.getClass(cls.id)).toMatchObject({
      status: 'COMPLETE',
      doneFiles: cls.files,
      doneBytes: cls.bytes,
    });
    // Every object of the class the origin's decoded bytes, every URI of its playlists resolving in the bucket.
    const verified = await verifyBucket({ store }, { ...library, classes: [cls] }, 'copy/', server.url);
    expect(verified).toMatchObject({ mismatches: 0, missing: 0, dangling: 0 });
    expect(verified.links).toBeGreaterThan(0);
  });

  it('a gzip bomb is refused once its decoded bytes pass the cap, with a clear error, and nothing is stored', async () => {
    server.setFaults({ encoding: 'gzip' });
    const before = process.memoryUsage().rss;
    const err = await copyFile({ src: `${server.url}/bomb.ts`, key: 'copy/enc/bomb.ts', kind: 'segment' }, deps).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'FILE_TOO_LARGE', retryable: false });
    expect((err as Error).message).toMatch(/decod.*gzip.*TRANSFER_MAX_FILE_MB/);
    expect(await store.head('copy/enc/bomb.ts')).toBeUndefined();
    // Decoded a chunk at a time and dropped: never the 64 MiB.
    expect(process.memoryUsage().rss - before).toBeLessThan(48 * MiB);
    const playlist = await origin
      .fetchText(`${server.url}/bomb.m3u8`, { maxBytes: cfg.hls.maxPlaylistBytes })
      .catch((e: unknown) => e);
    expect(playlist).toMatchObject({ code: 'PLAYLIST_TOO_LARGE', retryable: false });
    expect((playlist as Error).message).toMatch(/decod.*gzip.*HLS_MAX_PLAYLIST_BYTES/);
  });

  it('an encoding FLAnts cannot decode is refused, not retried, naming it; nothing is stored', async () => {
    server.setFaults({ encoding: 'zstd' });
    const err = await copyFile({ src: `${server.url}/seg.ts`, key: 'copy/enc/zstd.ts', kind: 'segment' }, deps).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'ORIGIN_ENCODING_UNSUPPORTED', retryable: false });
    expect((err as Error).message).toContain('Content-Encoding: zstd');
    expect(await store.head('copy/enc/zstd.ts')).toBeUndefined();
    const playlist = await origin
      .fetchText(server.url + library.classes[0]!.manifestPath, { maxBytes: cfg.hls.maxPlaylistBytes })
      .catch((e: unknown) => e);
    expect(playlist).toMatchObject({ code: 'ORIGIN_ENCODING_UNSUPPORTED', retryable: false });
  });

  it('an encoded body cut short fails the decoder: a retryable origin error, nothing stored', async () => {
    server.setFaults({ encoding: 'gzip', framing: 'close', truncate: 1 });
    const err = await copyFile({ src: `${server.url}/seg.ts`, key: 'copy/enc/cut.ts', kind: 'segment' }, deps).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'ORIGIN_DECODE_FAILED', retryable: true });
    expect((err as Error).message).toMatch(/gzip.*unexpected end of file/);
    expect(await store.head('copy/enc/cut.ts')).toBeUndefined();
  });

  it('every request asks for identity, explicitly', async () => {
    const seen: string[] = [];
    const probe = createServer((req, res) => {
      seen.push(`${req.method} ${req.headers['accept-encoding']}`);
      res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' }).end('#EXTM3U\n');
    });
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
    const client = createOrigin({ allowedHosts: [new URL(base).host] });
    try {
      await client.fetchText(`${base}/a.m3u8`, { maxBytes: 1024 });
      (await client.openStream(`${base}/a.ts`)).body.resume();
      await client.head(`${base}/a.ts`);
    } finally {
      await client.close();
      probe.close();
    }
    expect(seen).toEqual(['GET identity', 'GET identity', 'HEAD identity']);
  });

  it("HEAD of an encoded file reports no length: the encoded length is not the file's (a change check must not see a change)", async () => {
    server.setFaults({ encoding: 'gzip' });
    const head = await origin.head(`${server.url}/seg.ts`);
    expect(head.contentLength).toBeUndefined();
    server.setFaults({});
    expect((await origin.head(`${server.url}/seg.ts`)).contentLength).toBe(segment.length);
  });
});

describe('bodies ended only by the connection close (issue 18, case 3)', () => {
  it('served whole: read twice, the reads agree, counted', async () => {
    server.setFaults({ framing: 'close' });
    const { value: landed, requests } = await requestsDuring(() =>
      copyFile({ src: `${server.url}/seg.ts`, key: 'copy/close/seg.ts', kind: 'segment' }, deps),
    );
    expect([landed.bytes, requests]).toEqual([segment.length, 2]);
    expect((await objectBytes(store, 'copy/close/seg.ts')).equals(segment)).toBe(true);
  });

  it('cut short: the reads disagree, the copy fails with a retryable reason, nothing is stored', async () => {
    server.setFaults({ framing: 'close', truncate: 1 });
    const err = await copyFile({ src: `${server.url}/seg.ts`, key: 'copy/close/cut.ts', kind: 'segment' }, deps).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'ORIGIN_UNFRAMED_MISMATCH', retryable: true });
    expect((err as Error).message).toMatch(/no Content-Length.*two reads/);
    expect(await store.head('copy/close/cut.ts')).toBeUndefined();
  });

  it('through the crawl and the transfer: a class served whole this way is COMPLETE; cut short, its segments fail with that reason', async () => {
    const [whole, cut] = library.classes as [(typeof library.classes)[0], (typeof library.classes)[0]];
    server.setFaults({ framing: 'close' });
    for (const job of await crawl(whole.id))
      expect((await runTransfer(job, { receiveCount: 1 }, deps)).outcome).toBe('counted');
    expect(await ledger.getClass(whole.id)).toMatchObject({
      status: 'COMPLETE',
      doneFiles: whole.files,
      doneBytes: whole.bytes,
    });
    expect(await verifyBucket({ store }, { ...library, classes: [whole] }, 'copy/', server.url)).toMatchObject({
      mismatches: 0,
      missing: 0,
      dangling: 0,
    });

    // One file per job: the segments' jobs fail on their own (a playlist's would go back to the crawler).
    const one = { ...cfg, transfer: { ...cfg.transfer, chunkFiles: 1, retryAttempts: 2 } };
    server.setFaults({});
    const jobs = (await crawl(cut.id, one)).filter((j) => j.files.every((f) => f.kind === 'segment'));
    expect(jobs.length).toBeGreaterThan(0);
    server.setFaults({ framing: 'close', truncate: 1 });
    for (const job of jobs) {
      const err = await runTransfer(job, { receiveCount: 1 }, { ...deps, cfg: one }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ChunkFailedError);
      expect((err as ChunkFailedError).failures[0]!.reason).toMatch(/ORIGIN_UNFRAMED_MISMATCH|two reads/);
      await recordTransferFailure(job, err, true, ledger);
    }
    const record = await ledger.getClass(cut.id);
    expect(record).toMatchObject({ failedFiles: jobs.length });
    expect(record?.status).not.toBe('COMPLETE');
    server.setFaults({});
  });
});
