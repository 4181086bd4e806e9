// The ObjectStore contract: what the transfer, verify and the dashboard rely on of any destination, run
// against every implementation (the S3 adapter on the local server, the memory adapter the unit tests
// use), as rclone runs one fstests suite against every backend. A store that passes can stand in for
// another in any test; a fake that drifts from the real adapter fails here first.
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  GENERATION_METADATA,
  StaleWriteError,
  type ObjectStore,
  type UploadOptions,
} from '../../src/domain/ports/object-store.ts';
import { BodyChecker } from '../../src/pipeline/body-checker.ts';
import { verifyStored } from '../../src/pipeline/integrity.ts';
import { crc32Base64 } from '../../src/util/crc.ts';

export interface ObjectStoreHarness {
  store: ObjectStore;
  /** The part size the store cuts uploads at (a body above it is a multipart upload). */
  partSizeBytes: number;
  close(): Promise<void>;
}

const bytesOf = async (store: ObjectStore, key: string): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const c of await store.get(key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};
/** A body in uneven chunks, as an origin's stream delivers it. */
async function* chunked(data: Buffer, size = 7_000): AsyncGenerator<Buffer> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}
const opts = (o: Partial<UploadOptions> = {}): UploadOptions => ({ contentType: 'video/mp2t', ...o });
const rejection = async (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (err: unknown) => err,
  );

/** Runs the contract against the stores `make` opens; each test gets keys of its own under a fresh prefix. */
export function describeObjectStoreContract(name: string, make: () => Promise<ObjectStoreHarness>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    const withStore = async (fn: (h: ObjectStoreHarness, prefix: string) => Promise<void>) => {
      const h = await make();
      try {
        await fn(h, `contract-${randomBytes(4).toString('hex')}/`);
      } finally {
        await h.close();
      }
    };

    it('HEAD of a key never written answers undefined; GET of it fails', () =>
      withStore(async ({ store }, p) => {
        expect(await store.head(`${p}missing.ts`)).toBeUndefined();
        await expect(store.get(`${p}missing.ts`)).rejects.toThrow();
      }));

    it('stores the bytes, and HEAD tells their size, CRC32, generation and metadata', () =>
      withStore(async ({ store }, p) => {
        const data = randomBytes(20_000);
        const up = await store.upload(
          `${p}a.ts`,
          chunked(data),
          opts({ generation: 3, metadata: { 'flants-src-etag': '"v1"' } }),
        );
        expect(up).toMatchObject({ written: true, parts: 1 });
        expect(up.sent).toEqual({ crc32: crc32(data), partCrc32s: [crc32(data)] });
        expect(await bytesOf(store, `${p}a.ts`)).toEqual(data);
        const head = await store.head(`${p}a.ts`);
        expect(head).toMatchObject({
          key: `${p}a.ts`,
          size: data.length,
          generation: 3,
          crc32: crc32Base64(crc32(data)),
        });
        expect(head?.metadata).toMatchObject({ [GENERATION_METADATA]: '3', 'flants-src-etag': '"v1"' });
        expect(head?.etag).toBe(up.etag);
      }));

    it('reports a checksum of what it stored that the transfer’s integrity check accepts for the bytes sent', () =>
      withStore(async ({ store, partSizeBytes }, p) => {
        for (const [key, size] of [
          ['one.ts', 10_000],
          ['empty.ts', 0],
          ['parts.ts', partSizeBytes * 2 + 1_234],
        ] as const) {
          const data = randomBytes(size);
          const checker = new BodyChecker({ partSize: partSizeBytes, expectedBytes: size, maxBytes: 1e9, url: key });
          checker.take(data);
          checker.end();
          const up = await store.upload(`${p}${key}`, chunked(data, 100_000), opts({ generation: 1 }));
          expect(up.checksum, key).toBeDefined();
          expect(store.reportsChecksums()).toBe(true);
          expect(up.parts, key).toBe(Math.max(1, Math.ceil(size / partSizeBytes)));
          expect(up.sent.crc32).toBe(crc32(data));
          expect(up.sent.partCrc32s).toHaveLength(up.parts);
          const method = verifyStored(key, { ...checker.digest(), ...up.sent }, up, partSizeBytes);
          expect(method).toBe('crc32');
          expect((await store.head(`${p}${key}`))?.crc32).toBe(crc32Base64(crc32(data)));
        }
      }));

    it('refuses a write of an older generation, naming both, and keeps the newer copy', () =>
      withStore(async ({ store }, p) => {
        const newer = randomBytes(5_000);
        await store.upload(`${p}g.ts`, chunked(newer), opts({ generation: 5 }));
        const err = await rejection(store.upload(`${p}g.ts`, chunked(randomBytes(5_000)), opts({ generation: 4 })));
        expect(err).toBeInstanceOf(StaleWriteError);
        expect(err).toMatchObject({ code: 'STALE_GENERATION', key: `${p}g.ts`, mine: 4, stored: 5 });
        expect(await bytesOf(store, `${p}g.ts`)).toEqual(newer);
        expect((await store.head(`${p}g.ts`))?.generation).toBe(5);
      }));

    it('refuses an older generation at once when the caller’s HEAD already shows a newer one', () =>
      withStore(async ({ store }, p) => {
        await store.upload(`${p}e.ts`, chunked(randomBytes(100)), opts({ generation: 7 }));
        const existing = (await store.head(`${p}e.ts`))!;
        let read = false;
        const body = (async function* () {
          read = true;
          yield randomBytes(100);
        })();
        expect(await rejection(store.upload(`${p}e.ts`, body, opts({ generation: 6, existing })))).toMatchObject({
          code: 'STALE_GENERATION',
          stored: 7,
        });
        expect(read).toBe(false);
      }));

    it('replaces a copy of the same or an older generation, whether or not the caller read it first', () =>
      withStore(async ({ store }, p) => {
        await store.upload(`${p}r.ts`, chunked(randomBytes(3_000)), opts({ generation: 1 }));
        const second = randomBytes(3_000);
        expect(await store.upload(`${p}r.ts`, chunked(second), opts({ generation: 1 }))).toMatchObject({
          written: true,
        });
        expect(await bytesOf(store, `${p}r.ts`)).toEqual(second);
        const third = randomBytes(4_000);
        const existing = await store.head(`${p}r.ts`);
        const up = await store.upload(
          `${p}r.ts`,
          chunked(third),
          opts({ generation: 2, ...(existing && { existing }) }),
        );
        expect(up).toMatchObject({ written: true, extraRequests: 0 });
        expect(await store.head(`${p}r.ts`)).toMatchObject({ size: 4_000, generation: 2 });
        expect(await bytesOf(store, `${p}r.ts`)).toEqual(third);
      }));

    it('writes nothing when the key already holds these very bytes, and says so', () =>
      withStore(async ({ store }, p) => {
        const data = randomBytes(8_000);
        const first = await store.upload(`${p}s.ts`, chunked(data), opts({ generation: 1 }));
        // Found after the write was refused (the caller did not read the key first) …
        const again = await store.upload(`${p}s.ts`, chunked(data), opts({ generation: 2 }));
        expect(again).toMatchObject({ written: false, etag: first.etag });
        expect(again.checksum?.crc32).toBe(crc32Base64(crc32(data)));
        // … or before it, from the caller's HEAD: no request at all.
        const existing = (await store.head(`${p}s.ts`))!;
        expect(await store.upload(`${p}s.ts`, chunked(data), opts({ generation: 3, existing }))).toMatchObject({
          written: false,
          extraRequests: 0,
        });
        // The object is the one first written: its generation stays.
        expect((await store.head(`${p}s.ts`))?.generation).toBe(1);
      }));

    it('of two generations racing for one key, the newer one’s copy is what remains', () =>
      withStore(async ({ store }, p) => {
        const [a, b] = [randomBytes(6_000), randomBytes(6_000)];
        const results = await Promise.allSettled([
          store.upload(`${p}race.ts`, chunked(a), opts({ generation: 9 })),
          store.upload(`${p}race.ts`, chunked(b), opts({ generation: 8 })),
        ]);
        expect(results[0].status).toBe('fulfilled');
        if (results[1].status === 'rejected') expect(results[1].reason).toBeInstanceOf(StaleWriteError);
        expect(await bytesOf(store, `${p}race.ts`)).toEqual(a);
        expect((await store.head(`${p}race.ts`))?.generation).toBe(9);
      }));

    it('without a generation, writes unconditionally', () =>
      withStore(async ({ store }, p) => {
        await store.upload(`${p}u.ts`, chunked(randomBytes(100)), opts({ generation: 4 }));
        const plain = randomBytes(200);
        expect(await store.upload(`${p}u.ts`, chunked(plain), opts())).toMatchObject({ written: true });
        expect(await bytesOf(store, `${p}u.ts`)).toEqual(plain);
        expect((await store.head(`${p}u.ts`))?.generation).toBeUndefined();
      }));

    it('fails an upload whose body fails, with the body’s error, and stores nothing', () =>
      withStore(async ({ store, partSizeBytes }, p) => {
        for (const size of [1_000, partSizeBytes + 1]) {
          const boom = new Error(`origin reset after ${size} bytes`);
          const body = (async function* () {
            yield randomBytes(size);
            throw boom;
          })();
          expect(await rejection(store.upload(`${p}f${size}.ts`, body, opts({ generation: 1 })))).toBe(boom);
          expect(await store.head(`${p}f${size}.ts`)).toBeUndefined();
        }
      }));

    it('lists the objects under a prefix, in key order, with their sizes, and nothing else', () =>
      withStore(async ({ store }, p) => {
        for (const [key, size] of [
          ['b/2.ts', 20],
          ['a/1.ts', 10],
          ['a/0.m3u8', 5],
          ['ab.ts', 1],
        ] as const)
          await store.upload(`${p}${key}`, chunked(randomBytes(size)), opts({ generation: 1 }));
        const listed = async (prefix: string) => {
          const out: Array<[string, number]> = [];
          for await (const o of store.list(prefix)) out.push([o.key, o.size]);
          return out;
        };
        expect(await listed(`${p}a/`)).toEqual([
          [`${p}a/0.m3u8`, 5],
          [`${p}a/1.ts`, 10],
        ]);
        expect((await listed(p)).map(([k]) => k)).toEqual(
          ['a/0.m3u8', 'a/1.ts', 'ab.ts', 'b/2.ts'].map((k) => `${p}${k}`),
        );
        expect(await listed(`${p}none/`)).toEqual([]);
      }));
  });
}
