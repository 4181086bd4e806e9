/**
 * DynamoDB's answers, classified once for this adapter: which mean "your condition no longer holds"
 * (decide again), which mean "another write was busy with the item" (worth another try after a pause),
 * and which mean "a batch read left keys unprocessed". Throttling and 5xx answers the SDK retries itself.
 */
import { FlantsError } from '../../errors.ts';
import { awsErrorName } from '../../util/aws-errors.ts';

// The AWS error's name as the one AWS classifier reads it (src/util/aws-errors.ts).
const nameOf = awsErrorName;

/** A conditional write refused: the item is not as the condition said (another writer got there first). */
export function isConditionFailed(err: unknown): boolean {
  return nameOf(err) === 'ConditionalCheckFailedException';
}

/** Cancellation reasons of a failed transaction, one per item in order, or undefined when the error is something else. */
export function cancellationReasons(err: unknown): Array<string | undefined> | undefined {
  if (nameOf(err) !== 'TransactionCanceledException') return undefined;
  const reasons = (err as { CancellationReasons?: Array<{ Code?: string }> }).CancellationReasons ?? [];
  return reasons.map((r) => r.Code);
}

/**
 * After a transaction whose first item is its own condition (a chunk's record not yet written) and whose
 * others carry the lifecycle's guard: returns when the first item was refused; when a guard was refused,
 * throws a ConditionalCheckFailedException (the guard was overtaken: the transition decides again);
 * rethrows anything else.
 */
export function rethrowUnlessFirstRefused(err: unknown): void {
  const reasons = cancellationReasons(err);
  if (reasons?.[0] === 'ConditionalCheckFailed') return;
  if (reasons?.slice(1).includes('ConditionalCheckFailed'))
    throw Object.assign(new Error('guard overtaken'), { name: 'ConditionalCheckFailedException' });
  throw err;
}

/** The contention DynamoDB reports when two writes touch one item at once; worth another try after a pause. */
export function isTransactionConflict(err: unknown): boolean {
  const name = nameOf(err);
  if (name === 'TransactionConflictException' || name === 'TransactionInProgressException') return true;
  return cancellationReasons(err)?.some((c) => c === 'TransactionConflict') ?? false;
}

/** What a batch read throws while DynamoDB leaves some of its keys unprocessed (under throttling). */
export function unprocessedKeys(count: number): FlantsError {
  return new FlantsError('LEDGER_UNPROCESSED', `DynamoDB left ${count} keys unprocessed`, { retryable: true });
}

export function isUnprocessedKeys(err: unknown): boolean {
  return err instanceof FlantsError && err.code === 'LEDGER_UNPROCESSED';
}

/** DynamoDB's conditions worth another try that the SDK does not retry itself: a busy item, keys left unprocessed. */
export function isRetryableDynamoDB(err: unknown): boolean {
  return isTransactionConflict(err) || isUnprocessedKeys(err);
}

/** The ledger's retries (jittered: 20 ms doubling to 500 ms, 12 attempts in all): enough for a hot class record. */
export const LEDGER_RETRY = { attempts: 12, baseDelayMs: 20, maxDelayMs: 500 } as const;
