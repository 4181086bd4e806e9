/**
 * What a wait for the pipeline to settle is still waiting for, in words: a test that gives up must say
 * which classes had not finished and how far they were, not only that time ran out. Pure.
 */

/** What the wait knows of one class (a ledger record's fields, or nothing: not in the ledger yet). */
export interface WaitedClass {
  classId: string;
  status?: string | undefined;
  doneFiles?: number | undefined;
  totalFiles?: number | undefined;
}

/** Queue depths by name (visible + in flight + delayed), when they could be read. */
export type WaitedQueues = Readonly<Record<string, number>>;

/** Classes the wait still needs: not in the ledger, or not COMPLETE or FAILED. */
export function unsettled(wanted: readonly string[], records: readonly WaitedClass[]): WaitedClass[] {
  const byId = new Map(records.map((r) => [r.classId, r]));
  return wanted
    .map((id) => byId.get(id) ?? { classId: id })
    .filter((r) => r.status !== 'COMPLETE' && r.status !== 'FAILED');
}

/** One class's standing: "<id> TRANSFERRING 104/128 files", or "<id> not in the ledger". */
function standing(r: WaitedClass): string {
  if (r.status === undefined) return `${r.classId} not in the ledger`;
  const files = r.totalFiles === undefined ? '' : ` ${r.doneFiles ?? 0}/${r.totalFiles} files`;
  return `${r.classId} ${r.status}${files}`;
}

/**
 * The failure message of a wait that ran out: how long it waited, which classes it still waited for
 * (at most `show`, then how many more), and the queues that still held work.
 */
export function describeWaiting(
  seconds: number,
  wanted: readonly string[],
  records: readonly WaitedClass[],
  queues: WaitedQueues = {},
  show = 5,
): string {
  const left = unsettled(wanted, records);
  const busy = Object.entries(queues).filter(([, n]) => n > 0);
  const what =
    left.length > 0
      ? `${left.length} of ${wanted.length} ${wanted.length === 1 ? 'class' : 'classes'} to be COMPLETE or FAILED (${left
          .slice(0, show)
          .map(standing)
          .join('; ')}${left.length > show ? `; ${left.length - show} more` : ''})`
      : 'the queues to be empty';
  const queueText =
    busy.length > 0 ? `; queues still holding jobs: ${busy.map(([q, n]) => `${q} ${n}`).join(', ')}` : '';
  return `the pipeline did not settle within ${Math.round(seconds)} s: still waiting for ${what}${queueText}`;
}
