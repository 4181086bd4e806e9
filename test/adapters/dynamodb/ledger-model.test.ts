import { BatchWriteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'vitest';
import { itemSize, MAX_ITEM_BYTES } from '../../../src/adapters/dynamodb/item-size.ts';
import { ITEM_BUDGET } from '../../../src/adapters/dynamodb/ledger-items.ts';
import { createLedger } from '../../../src/adapters/dynamodb/ledger.ts';
import { startTestStack, type TestStack } from '../../helpers/stack.ts';
import { describeLedgerContract } from '../../contracts/ledger.contract.ts';

/**
 * The ledger's contract (the model-based test, test/contracts/ledger.contract.ts) against the real
 * local DynamoDB. The ledger under test keeps the state of two chunks per item (CHUNKS_PER_STATE_ITEM
 * is 4,000), so the contract's small plans reach the chunk-state items too; after every step no item
 * of the class may exceed its kind's budget, nor DynamoDB's 400 KB.
 */

const CHUNKS_PER_ITEM = 2;

type Ddb = TestStack['aws']['ddb'];

/** Every item of a class, a page at a time. */
async function* itemsOf(ddb: Ddb, table: string, classId: string): AsyncIterable<Record<string, unknown>> {
  let start: Record<string, unknown> | undefined;
  do {
    const res = await ddb.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `CLASS#${classId}` },
        ExclusiveStartKey: start,
        ConsistentRead: true,
      }),
    );
    yield* res.Items ?? [];
    start = res.LastEvaluatedKey;
  } while (start);
}

/** Every item the ledger wrote for a class: none may exceed its kind's budget, nor DynamoDB's 400 KB. */
async function checkItemSizes(ddb: Ddb, table: string, classId: string): Promise<void> {
  for await (const item of itemsOf(ddb, table, classId)) {
    const sk = String(item.sk);
    const budget =
      sk === 'META'
        ? ITEM_BUDGET.classRecord
        : sk.startsWith('STATE#')
          ? ITEM_BUDGET.chunkState
          : sk.startsWith('FAIL#')
            ? ITEM_BUDGET.failure
            : MAX_ITEM_BYTES;
    expect(itemSize(item), `size of ${sk}`).toBeLessThanOrEqual(Math.min(budget, MAX_ITEM_BYTES));
  }
}

/** Deletes every item of a class: the table restored to before it, or recreated. */
async function wipeClass(ddb: Ddb, table: string, classId: string): Promise<void> {
  const keys: Array<Record<string, unknown>> = [];
  for await (const item of itemsOf(ddb, table, classId)) keys.push({ pk: item.pk, sk: item.sk });
  for (let i = 0; i < keys.length; i += 25)
    await ddb.send(
      new BatchWriteCommand({
        RequestItems: { [table]: keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } })) },
      }),
    );
}

describeLedgerContract('DynamoDB (dynoxide)', async () => {
  const t = await startTestStack({ services: ['sqs', 's3', 'dynamodb'] });
  const { ddb } = t.aws;
  const table = t.cfg.tableName;
  return {
    ledger: createLedger(ddb, table, { chunksPerStateItem: CHUNKS_PER_ITEM }),
    wipe: (classId) => wipeClass(ddb, table, classId),
    checkStorage: (classId) => checkItemSizes(ddb, table, classId),
    stop: () => t.stop(),
  };
});
