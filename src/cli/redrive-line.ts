import type { RedriveResult } from '../store/redrive.ts';
import { count } from '../util/plural.ts';

/** What `flants redrive` says about one queue: what moved, or that there was nothing to move. Pure. */
export function redriveLine(r: RedriveResult, queue: string, dlq: string): string {
  if (r.moved === 0) return `${r.role}: nothing to move (${dlq} is empty)`;
  return r.method === 'move-task'
    ? `${r.role}: SQS move task started for ${count(r.moved, 'message')} from ${dlq} to ${queue}${r.taskHandle ? ` (task ${r.taskHandle})` : ''}`
    : `${r.role}: moved ${count(r.moved, 'message')} back to ${queue}`;
}
