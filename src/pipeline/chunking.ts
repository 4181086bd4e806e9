import { createHash } from 'node:crypto';
import type { PlannedFile } from '../hls/types.ts';

/**
 * Identifies a class's file list: the same files give the same id, so a re-crawl produces the
 * same chunks and counts nothing twice. A forced copy mixes in its request time for a new generation.
 */
export function planIdOf(files: readonly PlannedFile[], generation = ''): string {
  const h = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) h.update(`${f.key}\u0000${f.src}\n`);
  h.update(`generation:${generation}`);
  return h.digest('hex').slice(0, 16);
}

/** Splits files, in key order, into chunks of at most `size`: stable ids for stable inputs. */
export function chunkFiles(files: readonly PlannedFile[], size: number): PlannedFile[][] {
  if (size < 1) throw new RangeError('chunk size must be at least 1');
  const sorted = [...files].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const chunks: PlannedFile[][] = [];
  for (let i = 0; i < sorted.length; i += size) chunks.push(sorted.slice(i, i + size));
  return chunks;
}
