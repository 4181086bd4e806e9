/**
 * Verification of many classes (the CLI's `flants verify`, the scheduled Lambda): which classes,
 * a few at a time, each result kept on its class record. Memory: the selection keeps an id and two
 * counts per class; each class being verified holds its own comparison (see verify-class.ts).
 */
import { CLASS_SHARDS, type ClassRecord, type ClassStatus } from '../domain/ledger/records.ts';
import type { ClassLedger } from '../domain/ports/ledger.ts';
import { mapLimit } from '../util/concurrency.ts';
import { exitCodeOf, type ClassVerdict, type Finding } from './findings.ts';
import {
  verifyClass,
  type ClassVerification,
  type VerifyOptions,
  type VerifyRequests,
  type VerifyStore,
} from './verify-class.ts';

export type VerifyRunLedger = Pick<
  ClassLedger,
  'getClass' | 'eachChunk' | 'recordVerification' | 'pageCompleteClasses' | 'listClasses'
>;

/** Which classes to verify. */
export interface VerifySelection {
  classIds?: readonly string[];
  /** Every class the ledger knows (of `status`, when given). */
  all?: boolean;
  status?: ClassStatus;
  /** Only COMPLETE classes completed at or after this instant (the schedule: since its last run). */
  completedSince?: string;
}

/** One class to verify, with what the `--deep` announcement and the progress need. */
export interface VerifyTarget {
  classId: string;
  files: number;
  bytes: number;
}

const targetOf = (r: ClassRecord): VerifyTarget => ({
  classId: r.classId,
  files: r.doneFiles ?? 0,
  bytes: r.doneBytes ?? 0,
});

/**
 * The classes a selection names. COMPLETE classes are read a page at a time from the class index
 * (what a change check walks), keeping only the targets; other statuses read the class list.
 */
export async function selectClasses(ledger: VerifyRunLedger, sel: VerifySelection): Promise<VerifyTarget[]> {
  if (sel.classIds && sel.classIds.length > 0) {
    const out: VerifyTarget[] = [];
    for (const id of sel.classIds) {
      const r = await ledger.getClass(id);
      // An unknown id is still a target: its verification says it is not in the ledger (exit 2).
      out.push(r ? targetOf(r) : { classId: id, files: 0, bytes: 0 });
    }
    return out;
  }
  if (!sel.all && sel.completedSince === undefined) return [];
  if (sel.status === 'COMPLETE' || sel.completedSince !== undefined) {
    const out: VerifyTarget[] = [];
    for (let shard = 0; shard < CLASS_SHARDS; shard++) {
      let after: string | undefined;
      do {
        const page = await ledger.pageCompleteClasses(shard, after, 100);
        for (const r of page.records)
          if (sel.completedSince === undefined || (r.completedAt ?? '') >= sel.completedSince) out.push(targetOf(r));
        after = page.last;
      } while (after);
    }
    return out;
  }
  const records = await ledger.listClasses();
  return records.filter((r) => sel.status === undefined || r.status === sel.status).map(targetOf);
}

export interface VerifyRunOptions extends Omit<VerifyOptions, 'onFinding' | 'onObject'> {
  /** Keep each result on its class record (verifiedAt, verifyResult, verifyFindings). */
  record: boolean;
  /** Classes verified at once (default 4). */
  classConcurrency?: number;
  onClass?: (v: ClassVerification) => void;
  onFinding?: (classId: string, f: Finding) => void;
  onObject?: () => void;
  now?: () => Date;
}

export interface VerifyRunSummary {
  classes: number;
  ok: number;
  withFindings: number;
  errors: number;
  /** Findings of every class, by kind. */
  findings: Partial<Record<string, number>>;
  requests: VerifyRequests;
  exitCode: 0 | 1 | 2;
}

/** Verifies the targets, a few classes at a time; never throws for a class (its failure is an ERROR verdict). */
export async function runVerify(
  ledger: VerifyRunLedger,
  store: VerifyStore,
  targets: readonly VerifyTarget[],
  opts: VerifyRunOptions,
): Promise<VerifyRunSummary> {
  const verdicts: ClassVerdict[] = [];
  const summary: VerifyRunSummary = {
    classes: targets.length,
    ok: 0,
    withFindings: 0,
    errors: 0,
    findings: {},
    requests: { list: 0, head: 0, get: 0, origin: 0 },
    exitCode: 0,
  };
  await mapLimit(targets, opts.classConcurrency ?? 4, async (t) => {
    const { onFinding: _f, onObject: _o, onClass: _c, ...common } = opts;
    const v = await verifyClass(t.classId, ledger, store, {
      ...common,
      ...(opts.onFinding ? { onFinding: (f: Finding) => opts.onFinding!(t.classId, f) } : {}),
      ...(opts.onObject ? { onObject: opts.onObject } : {}),
    });
    if (opts.record && v.verdict !== 'ERROR') {
      const at = (opts.now?.() ?? new Date()).toISOString();
      await ledger.recordVerification(t.classId, v.gen, { at, result: v.result, counts: v.counts });
    }
    verdicts.push(v.verdict);
    if (v.verdict === 'OK') summary.ok++;
    else if (v.verdict === 'FINDINGS') summary.withFindings++;
    else summary.errors++;
    for (const [k, n] of Object.entries(v.counts)) summary.findings[k] = (summary.findings[k] ?? 0) + (n ?? 0);
    for (const k of ['list', 'head', 'get', 'origin'] as const) summary.requests[k] += v.requests[k];
    opts.onClass?.(v);
  });
  summary.exitCode = exitCodeOf(verdicts);
  return summary;
}
