import { createHash } from 'node:crypto';
import type { PlannedFile } from '../hls/types.ts';

/**
 * Identifies a plan's content: the file list, every playlist's digest and the chunk size (which
 * decides chunk membership). The same content gives the same id, so a re-crawl resumes its
 * generation; any change, however small, is a different plan and so a new generation.
 */
export function planIdOf(files: readonly PlannedFile[], chunkFiles: number): string {
  const h = createHash('sha256');
  h.update(`chunk:${chunkFiles}\n`);
  for (const f of [...files].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    h.update(`${f.key}\u0000${f.src}\u0000${f.sha256 ?? ''}\n`);
  }
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
