// The queue's resend of entries SQS refused, through the one retry helper: jittered and bounded.
// A fake client that refuses every entry N times (no server: what is tested is the loop, not SQS).
import { performance } from 'node:perf_hooks';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createJobQueue } from '../../../src/adapters/sqs/queue.ts';
import { loadConfig } from '../../../src/config.ts';
import { FlantsError } from '../../../src/errors.ts';

const URL_ = 'http://sqs.local/000000000000/flants-test-transfer';
const cfg = loadConfig({ FLANTS_STAGE: 'test', FLANTS_TRANSFER_QUEUE_URL: URL_ });

/** An SQS client whose SendMessageBatch refuses every entry (server fault) the first `refusals` times. */
function refusing(refusals: number, senderFault = false) {
  const sentAt: number[] = [];
  const client = {
    send: (cmd: unknown) => {
      if (!(cmd instanceof SendMessageBatchCommand)) throw new Error('only SendMessageBatch is expected');
      sentAt.push(performance.now());
      const entries = cmd.input.Entries ?? [];
      if (sentAt.length > refusals) return Promise.resolve({ Successful: entries.map((e) => ({ Id: e.Id })) });
      return Promise.resolve({
        Failed: entries.map((e) => ({ Id: e.Id, Code: 'InternalError', SenderFault: senderFault })),
      });
    },
  };
  return { sqs: client as unknown as SQSClient, sentAt };
}

afterEach(() => vi.restoreAllMocks());

describe('JobQueue.sendAll retries refused entries through withRetry', () => {
  it('waits a random share of each backoff step: with the draw at 0 it resends at once', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const { sqs, sentAt } = refusing(4);
    await createJobQueue(sqs, cfg).sendAll('transfer', [{ n: 1 }]);
    expect(sentAt).toHaveLength(5);
    // Without jitter the four pauses were 100 + 200 + 400 + 800 ms whatever the draw.
    expect(sentAt[4]! - sentAt[0]!).toBeLessThan(700);
  });

  it('waits at least the drawn share of each step (100, 200, 400, 800 ms), at most five sends in all', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const { sqs, sentAt } = refusing(4);
    await createJobQueue(sqs, cfg).sendAll('transfer', [{ n: 1 }]);
    const gaps = sentAt.slice(1).map((t, i) => t - sentAt[i]!);
    [50, 100, 200, 400].forEach((least, i) => expect(gaps[i]).toBeGreaterThanOrEqual(least - 2));
  });

  it('gives up after five sends, naming how many messages SQS did not accept', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const { sqs, sentAt } = refusing(Infinity);
    const err = await createJobQueue(sqs, cfg)
      .sendAll('transfer', [{ n: 1 }, { n: 2 }])
      .catch((e: unknown) => e);
    expect(sentAt).toHaveLength(5);
    expect(err).toBeInstanceOf(FlantsError);
    expect(err).toMatchObject({ code: 'QUEUE_SEND_FAILED', retryable: true });
    expect((err as Error).message).toBe('SQS did not accept 2 messages after 5 attempts');
  });

  it("does not resend what SQS refused as the sender's fault", async () => {
    const { sqs, sentAt } = refusing(Infinity, true);
    const err = await createJobQueue(sqs, cfg)
      .sendAll('transfer', [{ n: 1 }])
      .catch((e: unknown) => e);
    expect(sentAt).toHaveLength(1);
    expect(err).toMatchObject({ code: 'QUEUE_SEND_REFUSED' });
  });
});
