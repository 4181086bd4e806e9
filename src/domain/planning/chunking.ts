import { createHash } from 'node:crypto';
import type { PlannedFile } from '../../hls/types.ts';

/** Key order by UTF-16 code units: the same on every machine, whatever its locale. */
function byKey(a: PlannedFile, b: PlannedFile): number {
  if (a.key < b.key) return -1;
  // Stryker disable next-line all: V8's sort only asks whether a result is negative, and a plan's keys are unique
  return a.key > b.key ? 1 : 0;
}

/**
 * Identifies a plan's content: every file's key and kind, every playlist's reference digest (the
 * files it names, not its bytes) and the chunk size (which decides chunk membership). Not source
 * URLs: their query strings (signed tokens, session ids) differ per request and name no other file;
 * keys already name the class, host and path. The same content gives the same id, so a re-crawl
 * resumes its generation; other files or other references are a different plan, a new generation.
 */
export function planIdOf(files: readonly PlannedFile[], chunkFiles: number): string {
  const h = createHash('sha256');
  h.update(`chunk:${chunkFiles}\n`);
  for (const f of [...files].sort(byKey)) {
    h.update(`${f.key}\u0000${f.kind}\u0000${f.refs ?? ''}\n`);
  }
  return h.digest('hex').slice(0, 16);
}

/** Splits files, in key order, into chunks of at most `size`: stable ids for stable inputs. */
export function chunkFiles(files: readonly PlannedFile[], size: number): PlannedFile[][] {
  if (size < 1) throw new RangeError('chunk size must be at least 1');
  const sorted = [...files].sort(byKey);
  const chunks: PlannedFile[][] = [];
  for (let i = 0; i < sorted.length; i += size) chunks.push(sorted.slice(i, i + size));
  return chunks;
}
