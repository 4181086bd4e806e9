// The memory adapter (the unit tests' queues) against the JobQueue contract the SQS adapter passes.
import { createMemoryJobQueue, type SentMessage } from '../../../src/adapters/memory/job-queue.ts';
import type { QueueName } from '../../../src/domain/ports/job-queue.ts';
import { describeJobQueueContract } from '../../contracts/job-queue.contract.ts';

describeJobQueueContract('memory adapter', () => {
  const queue = createMemoryJobQueue();
  const taken = new Set<SentMessage>();
  // A receiver reads what was sent and is not delayed, once: the text on the wire, the attributes as kept.
  const receive = (name: QueueName) => {
    const now = queue.sent.filter((m) => m.name === name && !m.delaySeconds && !taken.has(m));
    for (const m of now) taken.add(m);
    return Promise.resolve(
      now.map((m) => ({ body: m.raw ? (m.body as string) : JSON.stringify(m.body), attributes: m.attributes ?? {} })),
    );
  };
  return Promise.resolve({ queue, receive, close: () => Promise.resolve() });
});
