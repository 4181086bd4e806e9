/**
 * DynamoDB's item size, computed the way DynamoDB counts it against its 400 KB item limit (and
 * bills reads and writes): every attribute name's UTF-8 bytes plus its value's size. The ledger
 * checks its own budgets with it, and the model test checks every item the ledger wrote.
 *
 * Value sizes (AWS "Item sizes and formats", as the local DynamoDB enforces them; see
 * test/adapters/dynamodb/item-size.test.ts, which finds the refusal boundary):
 * - string: its UTF-8 bytes; binary: its bytes;
 * - number: 1 byte per two significant digits (leading and trailing zeros trimmed), plus 1,
 *   plus 1 for a negative number;
 * - boolean, null: 1 byte;
 * - list and map: 3 bytes, plus 1 byte per element, plus each element's size (and, in a map,
 *   each element's name);
 * - string, number and binary sets: the sum of their elements' sizes.
 */

/** DynamoDB refuses an item above this many bytes (400 KB). */
export const MAX_ITEM_BYTES = 400 * 1024;

const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');

/** The size DynamoDB counts for a number, from its decimal text. */
export function numberSize(n: number | bigint | string): number {
  const text = typeof n === 'string' ? n.trim() : n.toString();
  const negative = text.startsWith('-');
  let digits = text.replace(/^[-+]/, '').toLowerCase();
  // Exponent notation (1e+21, 5e-7): only the mantissa's digits are significant.
  digits = digits.split('e')[0]!.replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  if (digits === '') return 1 + (negative ? 1 : 0);
  return Math.ceil(digits.length / 2) + 1 + (negative ? 1 : 0);
}

/** The size DynamoDB counts for one value, as the document client marshals it. */
export function valueSize(v: unknown): number {
  if (v === null || v === undefined) return 1;
  if (typeof v === 'string') return utf8(v);
  if (typeof v === 'number' || typeof v === 'bigint') return numberSize(v);
  if (typeof v === 'boolean') return 1;
  if (v instanceof Uint8Array) return v.byteLength;
  if (v instanceof ArrayBuffer) return v.byteLength;
  if (v instanceof Set) {
    let n = 0;
    for (const e of v as Set<unknown>) n += valueSize(e);
    return n;
  }
  if (Array.isArray(v)) {
    let n = 3;
    for (const e of v) n += 1 + valueSize(e);
    return n;
  }
  if (typeof v === 'object') {
    // NumberValue (lib-dynamodb's exact number) carries its text in `value`.
    if ('value' in v && typeof v.value === 'string' && Object.keys(v).length === 1)
      return numberSize((v as { value: string }).value);
    let n = 3;
    for (const [k, e] of Object.entries(v as Record<string, unknown>)) {
      if (e === undefined) continue;
      n += 1 + utf8(k) + valueSize(e);
    }
    return n;
  }
  throw new TypeError(`cannot size a ${typeof v} for DynamoDB`);
}

/** The size DynamoDB counts for an item (attributes with undefined values are not stored). */
export function itemSize(item: Record<string, unknown>): number {
  let n = 0;
  for (const [k, v] of Object.entries(item)) {
    if (v === undefined) continue;
    n += utf8(k) + valueSize(v);
  }
  return n;
}
