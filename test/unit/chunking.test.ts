import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PlannedFile } from '../../src/hls/types.ts';
import { chunkFiles, planIdOf } from '../../src/pipeline/chunking.ts';

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

  it('changes the plan id when the files, a playlist digest or the chunk size change', () => {
    const files = ['a', 'b'].map(file);
    expect(planIdOf(files, 4)).not.toBe(planIdOf([...files, file('c')], 4));
    expect(planIdOf(files, 4)).not.toBe(planIdOf([{ ...files[0]!, src: 'https://other/a' }, files[1]!], 4));
    // Chunk membership is part of the plan (issue 8, case 2).
    expect(planIdOf(files, 4)).not.toBe(planIdOf(files, 2));
    // A playlist whose bytes changed is a different plan (issue 8, case 3).
    const pl = (sha: string): PlannedFile => ({
      key: 'a',
      src: 'https://cdn/a',
      kind: 'playlist',
      sha256: sha,
      bytes: 10,
    });
    expect(planIdOf([pl('0'.repeat(64)), files[1]!], 4)).not.toBe(planIdOf([pl('1'.repeat(64)), files[1]!], 4));
    expect(planIdOf(files, 4)).toMatch(/^[0-9a-f]{16}$/);
  });
});
