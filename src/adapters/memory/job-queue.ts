// Job queues in memory: what unit tests send into. It sends the way the SQS adapter does (bodies as JSON,
// delays clamped to SQS's 0–900 s, dead letters' attributes cut as SQS takes them) and records every
// message for the test to read; test/contracts/job-queue.contract.ts holds both to the same promises.
import type { JobQueue, QueueName } from '../../domain/ports/job-queue.ts';

/** One message as it was sent. */
export interface SentMessage {
  name: QueueName;
  /** The body as a receiver gets it: parsed back from the JSON sent (a raw dead letter: its text). */
  body: unknown;
  delaySeconds?: number;
  /** A dead letter (sendRaw): `body` is its text as sent, not JSON. */
  raw?: true;
  /** A dead letter's attributes, as stored. */
  attributes?: Record<string, string>;
}

export interface MemoryJobQueue extends JobQueue {
  /** Every message sent, in order: a test's view of the queues (nothing is ever received from them). */
  readonly sent: SentMessage[];
}

export function createMemoryJobQueue(opts: { visibilityTimeoutSeconds?: number } = {}): MemoryJobQueue {
  const sent: SentMessage[] = [];
  const of = (name: QueueName) => sent.filter((m) => m.name === name);
  return {
    sent,
    url: (name) => Promise.resolve(name),
    sendAll(name, bodies, o) {
      const delay = o?.delaySeconds ? Math.min(900, Math.max(0, Math.round(o.delaySeconds))) : 0;
      // Serialised first, all of them: a body JSON cannot carry fails the call before anything is "sent".
      const texts = bodies.map((b) => JSON.stringify(b));
      for (const text of texts)
        sent.push({ name, body: JSON.parse(text) as unknown, ...(delay ? { delaySeconds: delay } : {}) });
      return Promise.resolve();
    },
    sendRaw(name, body, attributes) {
      sent.push({
        name,
        body: body || '(empty)',
        raw: true,
        ...(attributes
          ? { attributes: Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, v.slice(0, 1024) || '-'])) }
          : {}),
      });
      return Promise.resolve();
    },
    // Nothing is ever received, and delays never elapse: what was sent stays visible (or delayed).
    depth: (name) => {
      const messages = of(name);
      const delayed = messages.filter((m) => m.delaySeconds).length;
      return Promise.resolve({ visible: messages.length - delayed, inFlight: 0, delayed });
    },
    extendVisibility: () => Promise.resolve(),
    visibilityTimeout: () => Promise.resolve(opts.visibilityTimeoutSeconds ?? 30),
  };
}
