import type { RedriveResult } from '../ops/redrive.ts';
import { count } from '../util/plural.ts';

/** What `flants redrive` says about one queue: what moved, or that there was nothing to move. Pure. */
export function redriveLine(r: RedriveResult, queue: string, dlq: string): string {
  const who = `${r.role}${r.lane === 'fresh' ? ' (fresh lane)' : ''}`;
  if (r.moved === 0) return `${who}: nothing to move (${dlq} is empty)`;
  return r.method === 'move-task'
    ? `${who}: SQS move task started for ${count(r.moved, 'message')} from ${dlq} to ${queue}${r.taskHandle ? ` (task ${r.taskHandle})` : ''}`
    : `${who}: moved ${count(r.moved, 'message')} back to ${queue}`;
}
