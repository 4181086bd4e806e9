/**
 * What to do about a dead-letter queue, from why its messages are there (issue 21, item 5). A message the
 * pipeline dead-lettered itself carries the reason as message attributes (`flants-code`, `flants-error`);
 * one SQS moved after its last receive carries none: it failed on every delivery. Only the latter, and
 * those dead-lettered at once for a cause outside the message, can succeed on a redrive. Pure.
 */

import { parseQueueName } from '../domain/lifecycle/lanes.ts';
import type { DeadLetterSample } from '../domain/jobs/dead-letter.ts';

/** The code of a message that can never be processed as it is (bad JSON, unknown schema, unknown class). */
export const POISON_CODE = 'POISON_MESSAGE';

function jobs(n: number): string {
  return `${n} ${n === 1 ? 'job' : 'jobs'}`;
}

function cut(s: string, max = 160): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function what(role: string): string {
  return role === 'transfer'
    ? 'the FAILED classes list their failed files and reasons'
    : role === 'crawl'
      ? 'the FAILED classes say why their crawl failed'
      : "see the scanner's logs";
}

/**
 * The advice for queue `name` holding `visible` messages, from `samples` (the reasons of some of them;
 * undefined when they could not be read, as on the deployed page, which may only count them).
 */
export function deadLetterAdvice(
  name: string,
  visible: number | undefined,
  samples?: readonly DeadLetterSample[],
): string | undefined {
  if (!name.endsWith('-dlq') || !visible) return undefined;
  // A fresh lane's DLQ is redriven with its role: a redrive returns each lane's DLQ to its own lane.
  const role = parseQueueName(name)?.role ?? name.slice(0, -'-dlq'.length);
  const redrive = `"flants redrive --queue ${role}"`;
  if (!samples || samples.length === 0)
    return `${jobs(visible)} dead-lettered: each message's flants-code and flants-error attributes say why (none: it failed on every delivery; ${what(role)}). Fix the cause, then ${redrive}; a message with code ${POISON_CODE} can never succeed: delete it instead`;
  const poison = samples.filter((s) => s.code === POISON_CODE);
  const every = samples.filter((s) => s.code === undefined);
  const once = samples.filter((s) => s.code !== undefined && s.code !== POISON_CODE);
  const parts: string[] = [];
  if (poison.length > 0) {
    const first = poison[0]!.error ?? POISON_CODE;
    const fix = /^unknown class/.test(first) ? ' (enqueue the class by its right id)' : '';
    parts.push(
      `${jobs(poison.length)} can never be processed (${cut(first)}): a redrive would only dead-letter ${poison.length === 1 ? 'it' : 'them'} again; delete ${poison.length === 1 ? 'it' : 'them'} from ${name}${fix}`,
    );
  }
  if (once.length > 0) {
    const first = once[0]!;
    parts.push(
      `${jobs(once.length)} dead-lettered at once (${first.code}: ${cut(first.error ?? '')}): fix that cause, then ${redrive}`,
    );
  }
  if (every.length > 0)
    parts.push(`${jobs(every.length)} failed on every delivery: fix the cause, then ${redrive} (${what(role)})`);
  const read = visible > samples.length ? ` (reasons read from ${samples.length} of ${visible})` : '';
  return `${parts.join('; ')}${read}`;
}
