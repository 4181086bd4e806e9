import type { ClassRecord, ClassStatus, GoneFiles } from '../domain/ledger/records.ts';
import type { ClassLedger } from '../domain/ports/ledger.ts';
import { freshnessSummary, type FreshnessSummary } from './freshness.ts';

/** One class as operators see it (`flants status --json`, reports, the dashboard). */
export interface ClassView {
  classId: string;
  status: ClassStatus;
  title: string | undefined;
  files: number;
  doneFiles: number;
  failedFiles: number;
  bytes: number;
  chunks: number;
  doneChunks: number;
  updatedAt: string | undefined;
  completedAt: string | undefined;
  lastError: string | undefined;
  /** Plan generation the counters belong to. */
  gen: number;
  /** Deliveries that failed and were (or will be) retried, and the latest reason: visible before the last one. */
  failedAttempts: number;
  lastAttemptError: string | undefined;
  /** Why the class waits (playlists still growing), when it does. */
  waiting: string | undefined;
  warnings: string[];
  /** When the class ended (the catalog's endedAt). */
  endedAt: string | undefined;
  /** Seconds from its end (or the change or forced copy that started this generation) to COMPLETE. */
  freshnessSeconds: number | undefined;
  /** When a change check found the origin changed (the latest generation such a finding started). */
  changedAt: string | undefined;
  /** The last change check of a COMPLETE generation, and what it found. */
  checkedAt: string | undefined;
  checkResult: string | undefined;
  /** Keys earlier generations copied that the current plan no longer has: still in the bucket (at most 200 listed). */
  removedFiles: string[];
  removedCount: number;
  /**
   * Files of the current generation the origin no longer has (404, 410) whose verified copies the
   * bucket keeps: counted done, not failed. All counted; at most 20 keys named (always present in JSON).
   */
  goneAtOrigin: GoneFiles;
  /** Which chunks of the current plan are done and failed; null until the class is planned (always present in JSON). */
  bits: ClassBits | null;
  /** The last `flants verify` (docs/verify.md): when, of which generation, `OK` or each finding kind's count; absent when never verified. */
  verified?: VerifiedMark;
}

/** A class's last verification as status, the report and the dashboard show it. */
export interface VerifiedMark {
  at: string;
  gen: number;
  result: string;
  findings: Partial<Record<string, number>>;
  /** The verification was of an earlier generation than the current one (a copy since): verify again. */
  stale: boolean;
}

/** The verified mark of a record, if it was ever verified. */
export function verifiedMark(
  r: Pick<ClassRecord, 'gen' | 'verifiedAt' | 'verifiedGen' | 'verifyResult' | 'verifyFindings'>,
): VerifiedMark | undefined {
  if (!r.verifiedAt) return undefined;
  const gen = r.verifiedGen ?? 0;
  return {
    at: r.verifiedAt,
    gen,
    result: r.verifyResult ?? '',
    findings: r.verifyFindings ?? {},
    stale: gen !== (r.gen ?? 0),
  };
}

/** One line about a class's last verification; undefined when it was never verified. */
export function describeVerified(v: VerifiedMark | undefined): string | undefined {
  if (!v) return undefined;
  return `verified ${v.at}: ${v.result}${v.stale ? ` (of generation ${v.gen}, copied again since: verify again)` : ''}`;
}

/**
 * A class's progress as a bit field: bit i stands for chunk (or file) i in plan order, most
 * significant bit of the first hex digit first, so `done: "c"` with `total: 3` reads ◉◉◯.
 */
export interface ClassBits {
  unit: 'file' | 'chunk';
  total: number;
  /** Hex, `ceil(total / 4)` digits; padding bits past `total` are zero. */
  done: string;
  failed: string;
}

/** Encodes the set bits `ids` (each in [0, total)) as the hex of a `total`-bit field. */
export function encodeBits(total: number, ids: Iterable<number>): string {
  // Bit i is bit 7 - (i mod 8) of byte i / 8: hex of the bytes puts it first in its digit, as documented.
  const bytes = Buffer.alloc(Math.ceil(total / 8));
  for (const i of ids) {
    if (Number.isInteger(i) && i >= 0 && i < total) bytes[i >> 3]! |= 0x80 >> (i & 7);
  }
  return bytes.toString('hex').slice(0, Math.ceil(total / 4));
}

/** True when bit `i` of a hex bit field is set. */
export function bitAt(hex: string, i: number): boolean {
  const digit = parseInt(hex.charAt(i >> 2) || '0', 16);
  return ((digit >> (3 - (i & 3))) & 1) === 1;
}

/** The bit field of a class record (chunk granularity), or undefined before its first plan. */
export function classBits(
  r: Pick<ClassRecord, 'status' | 'gen' | 'completedGen' | 'totalChunks' | 'doneChunkIds' | 'failedChunkIds'>,
): ClassBits | undefined {
  if (r.totalChunks === undefined || !r.gen) return undefined;
  const total = r.totalChunks;
  // COMPLETE for this generation means every chunk is done, also for records counted before doneSet existed.
  const complete = r.status === 'COMPLETE' && r.completedGen === r.gen;
  const done = complete ? Array.from({ length: total }, (_, i) => i) : (r.doneChunkIds ?? []);
  return {
    unit: 'chunk',
    total,
    done: encodeBits(total, done),
    failed: encodeBits(total, complete ? [] : (r.failedChunkIds ?? [])),
  };
}

/** The one line an operator should read about a class: its standing error, why it waits, or its failing retries. */
export function classNote(
  r: Pick<ClassRecord, 'status' | 'lastError' | 'waiting' | 'lastAttemptError' | 'failedAttempts'>,
): string | undefined {
  if (r.lastError) return r.lastError;
  if (r.waiting) return r.waiting;
  if (r.status !== 'COMPLETE' && r.lastAttemptError)
    return `retrying after ${r.failedAttempts ?? 1} failed attempt(s): ${r.lastAttemptError}`;
  return undefined;
}

/** Maps a ledger record to the stable shape operators read. */
export function toClassView(r: ClassRecord): ClassView {
  return {
    classId: r.classId,
    status: r.status,
    title: r.title,
    files: r.totalFiles ?? 0,
    doneFiles: r.doneFiles ?? 0,
    failedFiles: r.failedFiles ?? 0,
    bytes: r.doneBytes ?? 0,
    chunks: r.totalChunks ?? 0,
    doneChunks: r.doneChunks ?? 0,
    updatedAt: r.updatedAt,
    completedAt: r.completedAt,
    lastError: r.lastError,
    gen: r.gen ?? 0,
    failedAttempts: r.failedAttempts ?? 0,
    lastAttemptError: r.lastAttemptError,
    waiting: r.waiting,
    warnings: r.warnings ?? [],
    bits: classBits(r) ?? null,
    endedAt: r.endedAt,
    freshnessSeconds: r.freshnessSeconds,
    changedAt: r.changedAt,
    checkedAt: r.checkedAt,
    checkResult: r.checkResult,
    removedFiles: r.removedFiles ?? [],
    removedCount: r.removedCount ?? 0,
    goneAtOrigin: r.goneAtOrigin ?? { count: 0, keys: [] },
    ...(r.verifiedAt ? { verified: verifiedMark(r)! } : {}),
  };
}

/** One line about the files a class's origin no longer has and the bucket keeps; undefined when there are none. */
export function describeGone(gone: GoneFiles | undefined, shown = 3): string | undefined {
  if (!gone?.count) return undefined;
  const named = gone.keys.slice(0, shown).join(', ');
  return `${gone.count} file(s) gone at the origin, their verified copies kept in the bucket: ${named}${gone.count > Math.min(shown, gone.keys.length) ? ', ...' : ''}`;
}

/** A completion report: every class with its status, every failed file with its reason. */
export interface CompletionReport {
  generatedAt: string;
  stage: string;
  totals: {
    classes: number;
    byStatus: Partial<Record<ClassStatus, number>>;
    files: number;
    doneFiles: number;
    failedFiles: number;
    bytes: number;
    /** Files gone at the origin whose verified copies the bucket keeps (counted in doneFiles). */
    goneAtOrigin: number;
  };
  classes: ClassView[];
  failures: Array<{ classId: string; chunk: number; key: string; src: string; reason: string; at: string }>;
  /** Median, p95 and worst freshness of the classes completed in the last 24 hours. */
  freshness: FreshnessSummary;
}

/** Builds the completion report from the ledger. */
export async function buildReport(
  ledger: ClassLedger,
  stage: string,
  now: Date = new Date(),
): Promise<CompletionReport> {
  const records: ClassRecord[] = await ledger.listClasses();
  const failures: CompletionReport['failures'] = [];
  for (const r of records) {
    if (!r.failedFiles && r.status !== 'FAILED') continue;
    for (const f of await ledger.listFailures(r.classId)) {
      for (const file of f.files)
        failures.push({
          classId: r.classId,
          chunk: f.chunk,
          key: file.key,
          src: file.src,
          reason: file.reason,
          at: f.at,
        });
    }
  }
  const byStatus: Partial<Record<ClassStatus, number>> = {};
  for (const r of records) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
  const classes = records.map(toClassView);
  return {
    generatedAt: now.toISOString(),
    stage,
    totals: {
      classes: records.length,
      byStatus,
      files: classes.reduce((n, c) => n + c.files, 0),
      doneFiles: classes.reduce((n, c) => n + c.doneFiles, 0),
      failedFiles: classes.reduce((n, c) => n + c.failedFiles, 0),
      bytes: classes.reduce((n, c) => n + c.bytes, 0),
      goneAtOrigin: classes.reduce((n, c) => n + c.goneAtOrigin.count, 0),
    },
    classes,
    failures,
    freshness: freshnessSummary(records, now),
  };
}

function csvCell(v: string | number | undefined | null): string {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** One CSV table: a row per class, and a row per failed file (with its class's columns repeated). */
export function reportToCsv(r: CompletionReport): string {
  const header = [
    'classId',
    'title',
    'status',
    'files',
    'doneFiles',
    'failedFiles',
    'bytes',
    'completedAt',
    'failedKey',
    'failedSrc',
    'reason',
    'freshnessSeconds',
  ];
  const rows: Array<Array<string | number | undefined>> = [];
  for (const c of r.classes) {
    const base = [c.classId, c.title, c.status, c.files, c.doneFiles, c.failedFiles, c.bytes, c.completedAt];
    const failed = r.failures.filter((f) => f.classId === c.classId);
    if (failed.length === 0) rows.push([...base, '', '', c.status === 'FAILED' ? c.lastError : '', c.freshnessSeconds]);
    for (const f of failed) rows.push([...base, f.key, f.src, f.reason, c.freshnessSeconds]);
  }
  return [header, ...rows].map((row) => row.map(csvCell).join(',')).join('\n') + '\n';
}
