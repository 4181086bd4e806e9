/**
 * The ledger's items and what they mean: keys, the class record as readers see it (`toRecord`), as the
 * lifecycle decides from it (`toState`), and a landed file's short stored form. Pure: no requests.
 */
import { createHash } from 'node:crypto';
import type { ClassEvent, ClassState, ClassStatus } from '../../domain/lifecycle/class-lifecycle.ts';
import { CLASS_SHARDS, type ChunkView, type ClassRecord, type LandedFile } from '../../domain/ledger/records.ts';
import { CHUNKS_PER_STATE_ITEM, failedFilesOf, legacyReasonOf, stateShard } from './ledger-items.ts';
export const META = 'META';
/** Index of class records only; its partition key is sharded (see serverless.yml). */
export const CLASS_INDEX = 'classes';

/** The index keys every class record carries, so `listClasses` never scans chunk items. */
export const listKeys = (classId: string) => ({
  listPk: `CLASSES#${createHash('md5').update(classId).digest()[0]! % CLASS_SHARDS}`,
  listSk: classId,
});
export const pk = (classId: string) => `CLASS#${classId}`;
export const pad = (n: number) => String(n).padStart(6, '0');
export const chunkSk = (gen: number, chunk: number) => `CHUNK#${pad(gen)}#${pad(chunk)}`;
export const failSk = (gen: number, chunk: number) => `FAIL#${pad(gen)}#${pad(chunk)}`;
/** The chunk-state item of chunks k·N to (k+1)·N − 1 of a generation (k ≥ 1; k = 0 is the class record). */
export const stateSk = (gen: number, shard: number) => `STATE#${pad(gen)}#${pad(shard)}`;
/** One watermark per set of change fields: changing SCAN_CHANGE_FIELDS starts from a full scan. */
export const watermarkKey = (fields: string) => ({ pk: 'SCAN#watermark', sk: `FIELDS#${fields}` });
export const now = () => new Date().toISOString();

export type Item = Record<string, unknown>;

/**
 * A chunk's entry in a `failed` map (on the class record for chunks below CHUNKS_PER_STATE_ITEM, in
 * its chunk-state item above): the number of files that failed. The reasons are in the failure
 * item, and a sample of them on the class record (`failReasons`).
 */
export function failedMap(item: Item | undefined): Record<string, unknown> {
  const m = item?.failed;
  return m && typeof m === 'object' ? (m as Record<string, unknown>) : {};
}

/** The chunk ids of a `doneSet` (a DynamoDB number set arrives as a Set; records counted before it existed have none). */
export function doneIdsOf(item: Item | undefined): number[] {
  const set = item?.doneSet;
  return set instanceof Set ? [...(set as Set<unknown>)].map(Number) : [];
}

/** The sample of failure reasons on the class record: chunk → reason. */
export function reasonSample(item: Item | undefined): Record<string, string> {
  const m = item?.failReasons;
  return m && typeof m === 'object' ? (m as Record<string, string>) : {};
}

/**
 * The record as readers see it: internal attributes out, failure counts derived from the `failed`
 * maps of the class record and of the generation's chunk-state items (`states`; none for a class of
 * up to CHUNKS_PER_STATE_ITEM chunks).
 */
export function toRecord(item: Item, states: readonly Item[] = []): ClassRecord {
  const {
    pk: _pk,
    sk: _sk,
    listPk: _lp,
    listSk: _ls,
    failed: _f,
    failReasons: _fr,
    lastChunk: _lc,
    doneSet: _ds,
    goneCount,
    goneKeys,
    ...rest
  } = item;
  const failed: Record<string, unknown> = { ...failedMap(item) };
  for (const st of states) Object.assign(failed, failedMap(st));
  const ids = Object.keys(failed)
    .map(Number)
    .sort((a, b) => a - b);
  const rec = rest as unknown as ClassRecord;
  // The class record's counter is exact for every chunk; the ids and file counts need every state item.
  rec.failedChunks = Math.max(ids.length, Number(item.failedChunks ?? 0));
  rec.failedFiles = ids.reduce((n, c) => n + failedFilesOf(failed[String(c)]), 0);
  rec.failedChunkIds = ids;
  rec.doneChunkIds = [item, ...states].flatMap(doneIdsOf).sort((a, b) => a - b);
  const sample = reasonSample(item);
  const sampled = Object.keys(sample)
    .map(Number)
    .sort((a, b) => a - b);
  const reason =
    rec.crawlError ??
    (sampled.length ? sample[String(sampled[0])] : undefined) ??
    (ids.length ? legacyReasonOf(failed[String(ids[0])]) : undefined) ??
    (rec.failedChunks
      ? `${rec.failedChunks} chunk(s) failed; "flants status ${String(item.classId)}" lists their files and reasons`
      : undefined);
  if (reason) rec.lastError = reason;
  if (Number(goneCount) > 0)
    rec.goneAtOrigin = { count: Number(goneCount), keys: Array.isArray(goneKeys) ? (goneKeys as string[]) : [] };
  return rec;
}

/** What a decision is made from: the class record and, for a chunk past the first state item, that chunk's state item. */
export interface Snapshot {
  meta: Item | undefined;
  /** The chunk-state item of the event's chunk (absent for chunks on the class record, or when none was written yet). */
  state?: Item | undefined;
}

/** The chunk an event is about, if any. */
export function eventChunk(event: ClassEvent): { gen: number; chunk: number } | undefined {
  return 'chunk' in event ? { gen: event.gen, chunk: event.chunk } : undefined;
}

/**
 * The lifecycle's view of a stored record: counts from the class record's counters, and of the
 * failed set only what the event needs (whether its own chunk is in it, from the item holding it).
 */
export function toState(snap: Snapshot, event?: ClassEvent, perItem = CHUNKS_PER_STATE_ITEM): ClassState {
  const item = snap.meta;
  if (!item) return { status: undefined, gen: 0, totalChunks: 0, doneChunks: 0, failed: [] };
  const c = event ? eventChunk(event) : undefined;
  const holder = c && stateShard(c.chunk, perItem) > 0 ? snap.state : item;
  const chunkFailed = c !== undefined && failedMap(holder)[String(c.chunk)] !== undefined;
  return {
    status: item.status as ClassStatus,
    gen: Number(item.gen ?? 0),
    planId: item.planId as string | undefined,
    forcedAt: item.forcedAt as string | undefined,
    changedAt: item.changedAt as string | undefined,
    totalChunks: Number(item.totalChunks ?? 0),
    doneChunks: Number(item.doneChunks ?? 0),
    failed: chunkFailed ? [c.chunk] : [],
    failedCount: Number(item.failedChunks ?? 0),
    crawlError: item.crawlError as string | undefined,
    completedGen: item.completedGen === undefined ? undefined : Number(item.completedGen),
    replans: Number(item.replans ?? 0),
    bucketAheadMoves: item.bucketAheadMoves === undefined ? undefined : Number(item.bucketAheadMoves),
  };
}

/** A landed file as a chunk item stores it: short names, optional fields only when known. */
export interface StoredLanded {
  k: string;
  b: number;
  e: string;
  /** S3's CRC32 of the copy (base64). */
  c?: string;
  s?: string;
  h?: string;
  oe?: string;
  om?: string;
  r?: string;
  lb?: string;
  v?: Record<string, string>;
  /** Gone at the origin, its verified copy kept. */
  g?: 1;
}

export function landedItem(f: LandedFile): StoredLanded {
  return {
    k: f.key,
    b: f.bytes,
    e: f.etag,
    ...(f.crc32 ? { c: f.crc32 } : {}),
    ...(f.src ? { s: f.src } : {}),
    ...(f.sha256 ? { h: f.sha256 } : {}),
    ...(f.originEtag ? { oe: f.originEtag } : {}),
    ...(f.originModified ? { om: f.originModified } : {}),
    ...(f.refs ? { r: f.refs } : {}),
    ...(f.base ? { lb: f.base } : {}),
    ...(f.vars ? { v: f.vars } : {}),
    ...(f.goneAtOrigin ? { g: 1 as const } : {}),
  };
}

export function fromLandedItem(f: StoredLanded): LandedFile {
  return {
    key: f.k,
    bytes: f.b,
    etag: f.e,
    ...(f.c ? { crc32: f.c } : {}),
    ...(f.s ? { src: f.s } : {}),
    ...(f.h ? { sha256: f.h } : {}),
    ...(f.oe ? { originEtag: f.oe } : {}),
    ...(f.om ? { originModified: f.om } : {}),
    ...(f.r ? { refs: f.r } : {}),
    ...(f.lb ? { base: f.lb } : {}),
    ...(f.v ? { vars: f.v } : {}),
    ...(f.g ? { goneAtOrigin: true } : {}),
  };
}

/**
 * The stored shape of what a caller read earlier (enough for the lifecycle to decide from): the
 * record's counters, and the chunk's failed entry in the item that holds it.
 */
export function viewToSnapshot(v: ChunkView, chunk: number, perItem: number): Snapshot | undefined {
  if (!v.record) return undefined;
  const { goneAtOrigin, ...rest } = v.record;
  const meta: Item = {
    ...rest,
    ...(goneAtOrigin ? { goneCount: goneAtOrigin.count, goneKeys: goneAtOrigin.keys } : {}),
  };
  const entry = v.chunkFailed ? { [String(chunk)]: 0 } : {};
  if (stateShard(chunk, perItem) === 0) return { meta: { ...meta, failed: entry } };
  return { meta: { ...meta, failed: {} }, state: { failed: entry } };
}

/** A chunk item's number and landed files, as `listChunks` and `eachChunk` give them. */
export function chunkOfItem(i: Item): { chunk: number; files: LandedFile[] } {
  return {
    chunk: Number(i.chunk ?? String(i.sk).split('#')[2]),
    files: ((i.landed as StoredLanded[] | undefined) ?? []).map(fromLandedItem),
  };
}
