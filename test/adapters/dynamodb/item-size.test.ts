import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itemSize, MAX_ITEM_BYTES, numberSize } from '../../../src/adapters/dynamodb/item-size.ts';
import { startTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * The item size calculator against the local DynamoDB's refusal boundary: for items of every value
 * type the ledger writes, the largest item it accepts is exactly 400 KB by the calculator.
 */

let t: TestStack;

beforeAll(async () => {
  t = await startTestStack({ services: ['sqs', 's3', 'dynamodb'] });
});
afterAll(async () => t?.stop());

async function accepted(item: Record<string, unknown>): Promise<boolean> {
  try {
    await t.aws.ddb.send(new PutCommand({ TableName: t.cfg.tableName, Item: item }));
    return true;
  } catch (err) {
    if ((err as Error).name === 'ValidationException') return false;
    throw err;
  }
}

/** The longest padding string an item of this shape may carry, found by bisection. */
async function longestPad(base: Record<string, unknown>): Promise<number> {
  let lo = 0;
  let hi = MAX_ITEM_BYTES + 1000;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (await accepted({ ...base, pad: 'x'.repeat(mid) })) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

describe('DynamoDB item size (src/adapters/dynamodb/item-size.ts)', () => {
  it('sizes numbers by their significant digits', () => {
    expect([0, 1, 12, 123, 100000, -5, 0.001, 1234.5].map(numberSize)).toEqual([1, 2, 2, 3, 2, 3, 2, 4]);
  });

  const shapes: Record<string, Record<string, unknown>> = {
    strings: { title: 'é'.repeat(100), classId: 'c' },
    numbers: { a: 1, bb: 123456, c: -12.5, d: 100000, e: 0.001, f: 2 ** 40 },
    'number set': { doneSet: new Set(Array.from({ length: 5000 }, (_, i) => i * 7 + 13)) },
    'string set': { s: new Set(['x', 'yy', 'zzz', 'é']) },
    map: { failed: Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [String(i), i % 1000])) },
    'list of maps': {
      files: Array.from({ length: 2000 }, (_, i) => ({ key: `k/${i}.ts`, src: 'http://x/y', reason: 'r' })),
    },
    nested: { m: { a: [1, 'two', { three: [true, null] }], b: new Set(['q']) }, e: [], o: {}, flag: false },
  };
  for (const [name, extra] of Object.entries(shapes)) {
    it(`agrees with the local DynamoDB's 400 KB boundary: ${name}`, { timeout: 120_000 }, async () => {
      const base = { pk: `SIZE#${name}`, sk: 'S', ...extra };
      const pad = await longestPad(base);
      expect(itemSize({ ...base, pad: 'x'.repeat(pad) })).toBe(MAX_ITEM_BYTES);
    });
  }
});
