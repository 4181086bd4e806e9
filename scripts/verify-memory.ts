/**
 * The memory `flants verify` takes for one large class (docs/verify.md, "Scale"): the real engine
 * (src/verify/verify-class.ts) over an in-memory ledger and bucket of N files (default 200,000, in
 * chunks of 100, keys of a typical length), every answer made on demand so only the engine's own
 * holdings stay alive. Prints the peak heap growth sampled during the run.
 *   node --expose-gc --import tsx scripts/verify-memory.ts [files]
 */
import { Readable } from 'node:stream';
import { crc32Base64 } from '../src/util/crc.ts';
import type { LandedFile } from '../src/domain/ledger/records.ts';
import type { ObjectHead } from '../src/domain/ports/object-store.ts';
import { verifyClass } from '../src/verify/verify-class.ts';

const files = Number(process.argv[2] ?? 200_000);
const classId = '66907a9e5f424a120fd8fc49';
const root = `media/hls/${classId}/`;
const keyOf = (i: number) => `${root}cdn.example.com/vod/${classId}/1080p/seg-${String(i).padStart(6, '0')}.ts`;
const factsOf = (i: number) => ({ size: 1_000_000 + i, crc32: crc32Base64(i * 2654435761), etag: `etag-${i}` });

const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const base = process.memoryUsage().heapUsed;
let peak = 0;
const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed - base)), 20);

const started = Date.now();
const v = await verifyClass(
  classId,
  {
    getClass: () => Promise.resolve({ classId, status: 'COMPLETE' as const, gen: 1 }),
    async *eachChunk() {
      for (let c = 0; c * 100 < files; c++) {
        // A query page arrives later: the engine must not hold what came before.
        await Promise.resolve();
        const landed: LandedFile[] = [];
        for (let i = c * 100; i < Math.min(files, c * 100 + 100); i++) {
          const f = factsOf(i);
          landed.push({ key: keyOf(i), bytes: f.size, etag: f.etag, crc32: f.crc32 });
        }
        yield { chunk: c, files: landed };
      }
    },
  },
  {
    async *list() {
      await Promise.resolve();
      for (let i = 0; i < files; i++) yield { key: keyOf(i), size: factsOf(i).size, etag: factsOf(i).etag };
    },
    head: (key): Promise<ObjectHead> => {
      const i = Number(/seg-(\d+)/.exec(key)![1]);
      const f = factsOf(i);
      return Promise.resolve({ key, size: f.size, etag: f.etag, crc32: f.crc32, generation: 1, metadata: {} });
    },
    get: () => Promise.resolve(Readable.from([])),
  },
  { destPrefix: 'media/hls/', maxPlaylistBytes: 1 << 20 },
);
clearInterval(sample);
peak = Math.max(peak, process.memoryUsage().heapUsed - base);
console.log(
  `${files.toLocaleString('en-US')} files: ${v.result}, ${v.requests.head} HEADs, ${v.requests.list} LISTs; peak heap growth ${(peak / 1e6).toFixed(0)} MB (${Math.round(peak / files)} bytes a file) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
