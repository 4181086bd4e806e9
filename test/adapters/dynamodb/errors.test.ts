// DynamoDB's answers as the adapter classifies them (src/adapters/dynamodb/errors.ts): the names the
// SDK gives them, and a cancelled transaction's reasons, one per item.
import { describe, expect, it } from 'vitest';
import {
  cancellationReasons,
  isConditionFailed,
  isRetryableDynamoDB,
  isTransactionConflict,
  isUnprocessedKeys,
  rethrowUnlessFirstRefused,
  unprocessedKeys,
} from '../../../src/adapters/dynamodb/errors.ts';
import { FlantsError } from '../../../src/errors.ts';

const named = (name: string, extra: object = {}) => Object.assign(new Error(name), { name, ...extra });
const cancelled = (...codes: Array<string | undefined>) =>
  named('TransactionCanceledException', { CancellationReasons: codes.map((Code) => (Code ? { Code } : {})) });

describe('the DynamoDB classifier', () => {
  it('knows a refused condition', () => {
    expect(isConditionFailed(named('ConditionalCheckFailedException'))).toBe(true);
    expect(isConditionFailed(cancelled('ConditionalCheckFailed'))).toBe(false);
    expect(isConditionFailed(undefined)).toBe(false);
    expect(isConditionFailed('ConditionalCheckFailedException')).toBe(false);
  });

  it("reads a cancelled transaction's reasons in item order", () => {
    expect(cancellationReasons(cancelled('None', 'ConditionalCheckFailed', undefined))).toEqual([
      'None',
      'ConditionalCheckFailed',
      undefined,
    ]);
    expect(cancellationReasons(named('TransactionCanceledException'))).toEqual([]);
    expect(cancellationReasons(named('ConditionalCheckFailedException'))).toBeUndefined();
  });

  it('retries a busy item and keys left unprocessed, nothing else', () => {
    for (const err of [
      named('TransactionConflictException'),
      named('TransactionInProgressException'),
      cancelled('None', 'TransactionConflict'),
    ]) {
      expect(isTransactionConflict(err)).toBe(true);
      expect(isRetryableDynamoDB(err)).toBe(true);
    }
    expect(isUnprocessedKeys(unprocessedKeys(3))).toBe(true);
    expect(isRetryableDynamoDB(unprocessedKeys(3))).toBe(true);
    expect(unprocessedKeys(3).message).toBe('DynamoDB left 3 keys unprocessed');
    for (const err of [
      named('ConditionalCheckFailedException'),
      cancelled('ConditionalCheckFailed', 'None'),
      new FlantsError('LEDGER_STATE', 'x', { retryable: true }),
      named('ValidationException'),
    ])
      expect(isRetryableDynamoDB(err)).toBe(false);
  });

  it("tells a transaction's own first condition from an overtaken guard", () => {
    expect(() => rethrowUnlessFirstRefused(cancelled('ConditionalCheckFailed', 'None'))).not.toThrow();
    // The first item refused outranks a guard refused with it: the chunk was counted (or failed) already.
    expect(() =>
      rethrowUnlessFirstRefused(cancelled('ConditionalCheckFailed', 'ConditionalCheckFailed')),
    ).not.toThrow();
    let overtaken: unknown;
    try {
      rethrowUnlessFirstRefused(cancelled('None', 'None', 'ConditionalCheckFailed'));
    } catch (err) {
      overtaken = err;
    }
    expect(isConditionFailed(overtaken)).toBe(true);
    const conflict = cancelled('None', 'TransactionConflict');
    expect(() => rethrowUnlessFirstRefused(conflict)).toThrow(conflict);
    const other = named('ValidationException');
    expect(() => rethrowUnlessFirstRefused(other)).toThrow(other);
  });
});
