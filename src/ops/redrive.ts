import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  StartMessageMoveTaskCommand,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Lane, QueueRole } from '../domain/vocabulary.ts';
import { queueOf } from '../domain/lifecycle/lanes.ts';
import type { JobQueue } from '../domain/ports/job-queue.ts';

export interface RedriveResult {
  role: QueueRole;
  /** Each lane's DLQ goes back to its own lane's queue: a fresh job stays fresh. */
  lane: Lane;
  /** `move-task`: SQS moves the messages itself (asynchronously); `copy`: moved here, one by one. */
  method: 'move-task' | 'copy';
  moved: number;
  taskHandle?: string;
}

async function arnOf(sqs: SQSClient, url: string): Promise<string> {
  const res = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  const arn = res.Attributes?.QueueArn;
  if (!arn) throw new Error(`queue ${url} has no ARN`);
  return arn;
}

/** Copies DLQ messages back by receive → send → delete; a message is deleted only after it was sent. */
async function copyBack(sqs: SQSClient, from: string, to: string, max: number): Promise<number> {
  let moved = 0;
  let empty = 0;
  while (moved < max && empty < 2) {
    const res = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: from,
        MaxNumberOfMessages: Math.min(10, max - moved),
        WaitTimeSeconds: 1,
        VisibilityTimeout: 60,
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = res.Messages ?? [];
    if (messages.length === 0) {
      empty++;
      continue;
    }
    empty = 0;
    const entries = messages.map((m, i) => {
      // The DLQ reason travelled for people reading the DLQ; the job itself goes back unchanged.
      const attrs: Record<string, MessageAttributeValue> = {};
      for (const [k, v] of Object.entries(m.MessageAttributes ?? {})) if (!k.startsWith('flants-')) attrs[k] = v;
      return { Id: `r${i}`, MessageBody: m.Body ?? '', MessageAttributes: attrs };
    });
    const sent = await sqs.send(new SendMessageBatchCommand({ QueueUrl: to, Entries: entries }));
    const ok = new Set((sent.Successful ?? []).map((s) => s.Id));
    // Not sent: left in the DLQ, visible again after the receive's visibility timeout.
    const toDelete = messages
      .map((m, i) => ({ Id: `r${i}`, ReceiptHandle: m.ReceiptHandle! }))
      .filter((e) => ok.has(e.Id));
    if (toDelete.length) await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: from, Entries: toDelete }));
    moved += toDelete.length;
    if (ok.size < messages.length)
      throw new Error(`SQS refused ${messages.length - ok.size} messages while redriving; they stay in the DLQ`);
  }
  return moved;
}

/** Moves every message of each role's DLQs (both lanes) back to its source queue (SQS move task where available). */
export async function redrive(
  sqs: SQSClient,
  queue: JobQueue,
  roles: readonly QueueRole[],
  opts: { max?: number; preferCopy?: boolean } = {},
): Promise<RedriveResult[]> {
  const results: RedriveResult[] = [];
  for (const [role, lane] of roles.flatMap((r) => (['fresh', 'bulk'] as const).map((l) => [r, l] as const))) {
    const source = queueOf(role, lane);
    const [dlqUrl, sourceUrl] = await Promise.all([queue.url(`${source}-dlq`), queue.url(source)]);
    if (!opts.preferCopy) {
      try {
        const [sourceArn, destArn] = await Promise.all([arnOf(sqs, dlqUrl), arnOf(sqs, sourceUrl)]);
        const { visible } = await queue.depth(`${source}-dlq`);
        if (visible === 0) {
          results.push({ role, lane, method: 'move-task', moved: 0 });
          continue;
        }
        const task = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: sourceArn, DestinationArn: destArn }));
        results.push({
          role,
          lane,
          method: 'move-task',
          moved: visible,
          ...(task.TaskHandle ? { taskHandle: task.TaskHandle } : {}),
        });
        continue;
      } catch {
        // Endpoints without move tasks (local servers, some emulators): fall back to copying.
      }
    }
    results.push({
      role,
      lane,
      method: 'copy',
      moved: await copyBack(sqs, dlqUrl, sourceUrl, opts.max ?? Number.MAX_SAFE_INTEGER),
    });
  }
  return results;
}
