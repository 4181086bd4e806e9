import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PlannedFile } from '../../../src/hls/types.ts';
import { chunkFiles, planIdOf } from '../../../src/domain/planning/chunking.ts';

// planIdOf of the plan in the test below, computed once with this formula: it must never change.
const PINNED_PLAN_ID = '482fad6df314f120';

const file = (key: string): PlannedFile => ({ key, src: `https://cdn/${key}`, kind: 'segment' });

describe('chunking', () => {
  it('splits in key order into chunks of at most the size', () => {
    const chunks = chunkFiles(['c', 'a', 'e', 'b', 'd'].map(file), 2);
    expect(chunks.map((c) => c.map((f) => f.key))).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('gives the same chunks and plan id whatever order the playlist listed files in', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^[a-z0-9/]{1,12}$/), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 10 }),
        (keys, size) => {
          const files = keys.map(file);
          const shuffled = [...files].reverse();
          expect(chunkFiles(shuffled, size)).toEqual(chunkFiles(files, size));
          expect(planIdOf(shuffled, size)).toBe(planIdOf(files, size));
          expect(chunkFiles(files, size).flat()).toHaveLength(files.length);
        },
      ),
    );
  });

  it("changes the plan id when the files, their keys, a playlist's references or the chunk size change", () => {
    const files = ['a', 'b'].map(file);
    expect(planIdOf(files, 4)).not.toBe(planIdOf([...files, file('c')], 4));
    // Another class, another host or path: other keys, another plan.
    expect(planIdOf(files, 4)).not.toBe(planIdOf([file('x/a'), files[1]!], 4));
    // Chunk membership is part of the plan (issue 8, case 2).
    expect(planIdOf(files, 4)).not.toBe(planIdOf(files, 2));
    // A playlist that names other files is a different plan (issue 8, case 3).
    const pl = (refs: string, sha = '0'.repeat(64), src = 'https://cdn/a'): PlannedFile => ({
      key: 'a',
      src,
      kind: 'playlist',
      sha256: sha,
      bytes: 10,
      refs,
    });
    expect(planIdOf([pl('0'.repeat(64)), files[1]!], 4)).not.toBe(planIdOf([pl('1'.repeat(64)), files[1]!], 4));
    expect(planIdOf(files, 4)).toMatch(/^[0-9a-f]{16}$/);
  });

  it("does not hash what differs per request: query strings of sources, a playlist's bytes (issue 18, case 1)", () => {
    const at = (query: string, sha: string): PlannedFile[] => [
      {
        key: 'c1/cdn/v/index.m3u8',
        src: `https://cdn/v/index.m3u8${query}`,
        kind: 'playlist',
        sha256: sha,
        refs: '7'.repeat(64),
      },
      { key: 'c1/cdn/v/seg-1.ts', src: `https://cdn/v/seg-1.ts${query}`, kind: 'segment' },
    ];
    expect(planIdOf(at('?token=a1', '0'.repeat(64)), 4)).toBe(planIdOf(at('?token=b2&s=9', '1'.repeat(64)), 4));
    expect(planIdOf(at('', '0'.repeat(64)), 4)).toBe(planIdOf(at('?token=b2', '0'.repeat(64)), 4));
  });

  it('makes exactly ceil(files / size) chunks: none empty, not even when the size divides the count', () => {
    const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
    expect(chunkFiles(keys.map(file), 3).map((c) => c.length)).toEqual([3, 3]);
    expect(chunkFiles(keys.map(file), 1)).toHaveLength(6);
    expect(chunkFiles(keys.map(file), 6)).toHaveLength(1);
    expect(chunkFiles([], 4)).toEqual([]);
  });

  it('refuses a chunk size below 1 (zero would loop forever)', () => {
    expect(() => chunkFiles([file('a')], 0)).toThrow(new RangeError('chunk size must be at least 1'));
    expect(() => chunkFiles([file('a')], -2)).toThrow(RangeError);
  });

  it('keeps the plan id of the same plan across releases (a new formula would restart every class)', () => {
    const files: PlannedFile[] = [
      file('b'),
      { key: 'a', src: 'https://cdn/a', kind: 'playlist', sha256: '0'.repeat(64), bytes: 10, refs: '7'.repeat(64) },
    ];
    expect(planIdOf(files, 4)).toBe(PINNED_PLAN_ID);
  });
});
