/**
 * Deterministic file bodies for the sample library. Media bytes are an AES-128-CTR keystream
 * keyed per file: any byte range can be produced directly (the counter jumps to the range's
 * block), at GB/s, without ever materialising the whole file.
 */
import { createCipheriv, type Cipher } from 'node:crypto';
import { Readable } from 'node:stream';
import { digest } from './sample-random.ts';

/** Bytes written over the keystream at a fixed offset (container headers, so files look real). */
export interface Patch {
  offset: number;
  bytes: Buffer;
}

/** Where a file's bytes come from: a small in-memory buffer, or a keyed keystream of a given size. */
export type ByteSource =
  | { kind: 'static'; data: Buffer }
  | { kind: 'noise'; size: number; key: Buffer; nonce: Buffer; tsSync: boolean; patches: readonly Patch[] };

/** An inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

const CHUNK = 128 * 1024;
const ZEROS = Buffer.alloc(CHUNK);
const TS_PACKET = 188;

/** A static source over `data`. */
export function staticSource(data: Buffer | string): ByteSource {
  return { kind: 'static', data: typeof data === 'string' ? Buffer.from(data, 'utf8') : data };
}

/** A keystream source of `size` bytes keyed by `keyParts` (e.g. seed and path). */
export function noiseSource(
  keyParts: ReadonlyArray<string | number>,
  size: number,
  opts: { tsSync?: boolean; patches?: Patch[] } = {},
): ByteSource {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`bad size ${size}`);
  const d = digest('sample-bytes', ...keyParts);
  const patches = [...(opts.patches ?? [])].sort((a, b) => a.offset - b.offset);
  for (const p of patches) {
    if (p.offset < 0 || p.offset + p.bytes.length > size)
      throw new RangeError(`patch at ${p.offset} (+${p.bytes.length}) outside a ${size}-byte file`);
  }
  return {
    kind: 'noise',
    size,
    key: d.subarray(0, 16),
    nonce: d.subarray(16, 24),
    tsSync: opts.tsSync ?? false,
    patches,
  };
}

/** Total length of a source in bytes. */
export function sourceSize(src: ByteSource): number {
  return src.kind === 'static' ? src.data.length : src.size;
}

/** A CTR cipher whose keystream starts at byte `offset` of the file. */
function cipherAt(src: Extract<ByteSource, { kind: 'noise' }>, offset: number): Cipher {
  const iv = Buffer.alloc(16);
  src.nonce.copy(iv, 0);
  // The low 64 bits are the block counter, so seeking is just setting it; it cannot overflow into the nonce.
  iv.writeBigUInt64BE(BigInt(Math.floor(offset / 16)), 8);
  const cipher = createCipheriv('aes-128-ctr', src.key, iv);
  const skip = offset % 16;
  if (skip) cipher.update(ZEROS.subarray(0, skip));
  return cipher;
}

function overlay(src: Extract<ByteSource, { kind: 'noise' }>, buf: Buffer, at: number): void {
  const end = at + buf.length;
  if (src.tsSync) {
    for (let k = Math.ceil(at / TS_PACKET) * TS_PACKET; k < end; k += TS_PACKET) buf[k - at] = 0x47;
  }
  const ps = src.patches;
  // Binary search for the first patch that ends after `at`; patches are sorted and few per chunk.
  let lo = 0;
  let hi = ps.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const p = ps[mid]!;
    if (p.offset + p.bytes.length <= at) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < ps.length; i++) {
    const p = ps[i]!;
    if (p.offset >= end) break;
    const from = Math.max(p.offset, at);
    const to = Math.min(p.offset + p.bytes.length, end);
    p.bytes.copy(buf, from - at, from - p.offset, to - p.offset);
  }
}

class SourceStream extends Readable {
  #pos: number;
  readonly #end: number;
  readonly #src: ByteSource;
  #cipher: Cipher | undefined;

  constructor(src: ByteSource, start: number, endExclusive: number) {
    super({ highWaterMark: CHUNK });
    this.#src = src;
    this.#pos = start;
    this.#end = endExclusive;
  }

  override _read(): void {
    const n = Math.min(CHUNK, this.#end - this.#pos);
    if (n <= 0) {
      this.push(null);
      return;
    }
    const src = this.#src;
    let buf: Buffer;
    if (src.kind === 'static') {
      // A copy: a consumer that reuses or mutates chunks must not corrupt the library.
      buf = Buffer.from(src.data.subarray(this.#pos, this.#pos + n));
    } else {
      this.#cipher ??= cipherAt(src, this.#pos);
      buf = this.#cipher.update(ZEROS.subarray(0, n));
      overlay(src, buf, this.#pos);
    }
    this.#pos += n;
    this.push(buf);
    if (this.#pos >= this.#end) this.push(null);
  }
}

function bounds(src: ByteSource, range: ByteRange | undefined): [number, number] {
  const size = sourceSize(src);
  if (!range) return [0, size];
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start - 1 || end >= size) {
    throw new RangeError(`range ${start}-${end} is outside a ${size}-byte file`);
  }
  return [start, end + 1];
}

/** Streams the source, or the inclusive `range` of it, in chunks produced on demand. */
export function readSource(src: ByteSource, range?: ByteRange): Readable {
  const [start, end] = bounds(src, range);
  return new SourceStream(src, start, end);
}

/** The source's bytes (or a range of them) as one buffer; for small files and verification. */
export function sliceSource(src: ByteSource, range?: ByteRange): Buffer {
  const [start, end] = bounds(src, range);
  if (src.kind === 'static') return Buffer.from(src.data.subarray(start, end));
  const buf = end > start ? cipherAt(src, start).update(Buffer.alloc(end - start)) : Buffer.alloc(0);
  overlay(src, buf, start);
  return buf;
}
