/**
 * How the ledger's items are laid out and what bounds each of them (docs/ledger.md, "Item size
 * budget"): DynamoDB refuses an item above 400 KB, so every attribute that grows with a class —
 * its chunks, its failures, its files — is either a counter, a capped sample, or lives in items of
 * its own. Pure: no AWS.
 */
import { MAX_CHUNKS_PER_CLASS } from '../../domain/vocabulary.ts';
import { itemSize, MAX_ITEM_BYTES, valueSize } from './item-size.ts';

/**
 * Chunks whose state (done set, failed files) one item holds: chunks 0..N-1 on the class record,
 * each further N in a chunk-state item. A class of up to N chunks (the default settings give 2,000)
 * is one item to read.
 */
export const CHUNKS_PER_STATE_ITEM = 4000;

/**
 * Most chunks a class may have: chunk numbers are six digits in sort keys (`CHUNK#<gen:6>#<chunk:6>`),
 * which is what keeps them in order. config.ts refuses HLS_MAX_FILES / TRANSFER_CHUNK_FILES above it.
 */
// The limit itself is the domain's (src/domain/vocabulary.ts), so config.ts can check it without this adapter.
export { MAX_CHUNKS_PER_CLASS };

/** Reasons of failed chunks kept on the class record (a sample for status lines: every reason is in the failure items). */
export const FAILURE_SAMPLE_SIZE = 10;

/** Bytes of one failure reason, on the class record's sample and in a failure item. */
export const MAX_REASON_BYTES = 1000;
/** Bytes of one failed file's source URL in a failure item (the key is at most 1,024: S3's limit). */
export const MAX_SRC_BYTES = 4096;
/** Bytes of file listing in one failure item; `truncated` counts the files past it. */
export const MAX_FAILURE_LISTING_BYTES = 300 * 1024;

/** Removed keys listed on the class record, in bytes (`removedCount` counts them all). */
export const MAX_REMOVED_LISTED_BYTES = 16 * 1024;
/** Warnings on the class record, and bytes of each. */
export const MAX_WARNINGS = 20;
export const MAX_WARNING_BYTES = 1000;
/** Bytes of each free-text attribute of the class record (crawl error, last attempt error, waiting, check result). */
export const MAX_NOTE_BYTES = 2000;
/** Bytes of a class's title on its record (the catalog's title may be longer). */
export const MAX_TITLE_BYTES = 2048;

/** The budget each kind of item is held to, well below DynamoDB's 400 KB (docs/ledger.md has the table). */
export const ITEM_BUDGET = {
  classRecord: 160 * 1024,
  chunkState: 64 * 1024,
  failure: 360 * 1024,
  scanPage: 320 * 1024,
} as const satisfies Record<string, number>;

/** Cuts a string to at most `max` UTF-8 bytes, never inside a character; marks a cut with "…". */
export function cutUtf8(s: string, max: number): string {
  if (Buffer.byteLength(s, 'utf8') <= max) return s;
  const ellipsis = '…';
  let out = '';
  let bytes = 0;
  const room = max - Buffer.byteLength(ellipsis, 'utf8');
  for (const ch of s) {
    const b = Buffer.byteLength(ch, 'utf8');
    if (bytes + b > room) break;
    out += ch;
    bytes += b;
  }
  return out + ellipsis;
}

/** Which item holds a chunk's state: 0 is the class record, k ≥ 1 the chunk-state item `STATE#<gen>#<k>`. */
export function stateShard(chunk: number, perItem = CHUNKS_PER_STATE_ITEM): number {
  return Math.floor(chunk / perItem);
}

/** Files failed in a chunk, from its entry in a `failed` map (a number; records before issue 18 stored `{n, r, p}`). */
export function failedFilesOf(entry: unknown): number {
  if (typeof entry === 'number') return entry;
  if (entry && typeof entry === 'object' && 'n' in entry) return Number(entry.n) || 0;
  return 0;
}

/** A reason as a pre-issue-18 `failed` entry carried it, if it did. */
export function legacyReasonOf(entry: unknown): string | undefined {
  if (entry && typeof entry === 'object' && 'r' in entry) {
    const r = entry.r;
    return typeof r === 'string' && r ? r : undefined;
  }
  return undefined;
}

export interface FailedFileEntry {
  key: string;
  src: string;
  reason: string;
}

/**
 * A failure item's file listing that fits its budget: each entry's source and reason cut to their
 * bounds, files listed until MAX_FAILURE_LISTING_BYTES (DynamoDB's list sizes) is spent.
 */
export function boundedFailure(files: readonly FailedFileEntry[]): { files: FailedFileEntry[]; truncated: number } {
  const kept: FailedFileEntry[] = [];
  let bytes = 3;
  for (const f of files) {
    const entry = { key: f.key, src: cutUtf8(f.src, MAX_SRC_BYTES), reason: cutUtf8(f.reason, MAX_REASON_BYTES) };
    bytes += 1 + valueSize(entry);
    if (bytes > MAX_FAILURE_LISTING_BYTES) break;
    kept.push(entry);
  }
  return { files: kept, truncated: files.length - kept.length };
}

/** Removed keys to list on the class record: sorted, as many as fit MAX_REMOVED_LISTED_BYTES. */
export function removedSample(keys: readonly string[]): string[] {
  const out: string[] = [];
  let bytes = 3;
  for (const k of keys) {
    bytes += 1 + Buffer.byteLength(k, 'utf8');
    if (bytes > MAX_REMOVED_LISTED_BYTES) break;
    out.push(k);
  }
  return out;
}

/** Warnings as the class record keeps them. */
export function boundedWarnings(warnings: readonly string[]): string[] {
  return warnings.slice(0, MAX_WARNINGS).map((w) => cutUtf8(w, MAX_WARNING_BYTES));
}

/** Refuses an item above its kind's budget before DynamoDB would (a bug: every attribute is bounded). */
export function overBudget(item: Record<string, unknown>, budget: number = MAX_ITEM_BYTES): number | undefined {
  const size = itemSize(item);
  return size > budget ? size : undefined;
}

/** Bytes of a scan page's listed enqueued class ids, and of its listed skip details (each field cut to 200 bytes). */
export const MAX_SCAN_ENQUEUED_BYTES = 140 * 1024;
export const MAX_SCAN_SKIPPED_BYTES = 140 * 1024;
const MAX_DETAIL_BYTES = 200;

/** A scan page's lists as its record keeps them: as many as fit their byte budgets, the rest counted. */
export function boundedScanLists(
  enqueued: readonly string[],
  skipped: ReadonlyArray<{ classId: string; reason: string; detail?: string | undefined }>,
): {
  enqueued: string[];
  enqueuedNotListed: number;
  skipped: Array<{ classId: string; reason: string; detail?: string }>;
  skippedNotListed: number;
} {
  const ids: string[] = [];
  let bytes = 3;
  for (const id of enqueued) {
    bytes += 1 + Buffer.byteLength(id, 'utf8');
    if (bytes > MAX_SCAN_ENQUEUED_BYTES) break;
    ids.push(id);
  }
  const details: Array<{ classId: string; reason: string; detail?: string }> = [];
  bytes = 3;
  for (const s of skipped) {
    const entry = {
      classId: cutUtf8(s.classId, MAX_DETAIL_BYTES),
      reason: cutUtf8(s.reason, MAX_DETAIL_BYTES),
      ...(s.detail ? { detail: cutUtf8(s.detail, MAX_DETAIL_BYTES) } : {}),
    };
    bytes += 1 + valueSize(entry);
    if (bytes > MAX_SCAN_SKIPPED_BYTES) break;
    details.push(entry);
  }
  return {
    enqueued: ids,
    enqueuedNotListed: enqueued.length - ids.length,
    skipped: details,
    skippedNotListed: skipped.length - details.length,
  };
}
