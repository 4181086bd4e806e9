import { describe, expect, it } from 'vitest';
import { describeWaiting, unsettled } from '../../lab/settle-wait.ts';

describe('what a wait for the pipeline still waits for', () => {
  it('names the classes not yet COMPLETE or FAILED with their files, and the queues still holding jobs', () => {
    const text = describeWaiting(
      600,
      ['a', 'b', 'c', 'd'],
      [
        { classId: 'a', status: 'COMPLETE', doneFiles: 5, totalFiles: 5 },
        { classId: 'b', status: 'FAILED', doneFiles: 3, totalFiles: 5 },
        { classId: 'c', status: 'TRANSFERRING', doneFiles: 104, totalFiles: 128 },
      ],
      { scan: 0, crawl: 0, transfer: 7 },
    );
    expect(text).toBe(
      'the pipeline did not settle within 600 s: still waiting for 2 of 4 classes to be COMPLETE or FAILED ' +
        '(c TRANSFERRING 104/128 files; d not in the ledger); queues still holding jobs: transfer 7',
    );
  });

  it('says one class, a class without a plan yet, and how many more past the ones it shows', () => {
    expect(describeWaiting(59.6, ['x'], [{ classId: 'x', status: 'PENDING' }])).toBe(
      'the pipeline did not settle within 60 s: still waiting for 1 of 1 class to be COMPLETE or FAILED (x PENDING)',
    );
    const ids = ['1', '2', '3', '4'];
    expect(describeWaiting(10, ids, [], {}, 2)).toBe(
      'the pipeline did not settle within 10 s: still waiting for 4 of 4 classes to be COMPLETE or FAILED ' +
        '(1 not in the ledger; 2 not in the ledger; 2 more)',
    );
    expect(describeWaiting(10, ids.slice(0, 2), [], {}, 2)).toMatch(/\(1 not in the ledger; 2 not in the ledger\)$/);
  });

  it('waits for the queues once every class is final', () => {
    const done = [{ classId: 'a', status: 'COMPLETE', doneFiles: 0, totalFiles: 0 }];
    expect(unsettled(['a'], done)).toEqual([]);
    expect(describeWaiting(5, ['a'], done, { transfer: 1, crawl: 0 })).toBe(
      'the pipeline did not settle within 5 s: still waiting for the queues to be empty; queues still holding jobs: transfer 1',
    );
    expect(describeWaiting(5, ['a'], done)).toBe(
      'the pipeline did not settle within 5 s: still waiting for the queues to be empty',
    );
  });
});
