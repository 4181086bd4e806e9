/**
 * Which attributes of an existing queue differ from what serverless.yml declares (issue 21, item 6):
 * `flants setup` sets them and says which it changed, from what to what. Pure.
 */

export interface AttributeChange {
  attribute: string;
  /** The queue's value before; undefined when the queue did not report it. */
  from: string | undefined;
  to: string;
}

/** A redrive policy's meaning (target and count), whatever its JSON spelling. */
function redriveMeaning(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  try {
    const p = JSON.parse(text) as { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
    return `${String(p.deadLetterTargetArn)} ${String(p.maxReceiveCount)}`;
  } catch {
    return text;
  }
}

/** The declared attributes whose values the queue does not have, in declaration order. */
export function queueDrift(
  declared: Readonly<Record<string, string>>,
  actual: Readonly<Record<string, string | undefined>>,
): AttributeChange[] {
  const changes: AttributeChange[] = [];
  for (const [attribute, to] of Object.entries(declared)) {
    const from = actual[attribute];
    const same = attribute === 'RedrivePolicy' ? redriveMeaning(from) === redriveMeaning(to) : from === to;
    if (!same) changes.push({ attribute, from, to });
  }
  return changes;
}

/** "VisibilityTimeout 30 → 5, MessageRetentionPeriod 345600 → 1209600". */
export function describeDrift(changes: readonly AttributeChange[]): string {
  return changes.map((c) => `${c.attribute} ${c.from ?? '(unset)'} → ${c.to}`).join(', ');
}
