import { describe, expect, it } from 'vitest';
import {
  admitCrawl,
  changedNote,
  decideGrowing,
  firstSeenWaiting,
  judgeCheck,
  listsRemoved,
  removedFiles,
} from '../../../src/domain/planning/crawl-decisions.ts';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const GRACE = 600;

describe('admitCrawl', () => {
  it('checks only a COMPLETE class with a generation; any other class is not checked', () => {
    expect(admitCrawl({ recheck: true }, { status: 'COMPLETE', gen: 2 })).toBe('check');
    expect(admitCrawl({ recheck: true }, { status: 'COMPLETE' })).toBe('not-checked');
    expect(admitCrawl({ recheck: true }, { status: 'TRANSFERRING', gen: 2 })).toBe('not-checked');
    expect(admitCrawl({ recheck: true }, { status: 'FAILED', gen: 2 })).toBe('not-checked');
    expect(admitCrawl({ recheck: true }, undefined)).toBe('not-checked');
  });

  it('skips a plain crawl of a COMPLETE class unless forced; crawls anything else', () => {
    expect(admitCrawl({}, { status: 'COMPLETE', gen: 1 })).toBe('already-complete');
    expect(admitCrawl({ force: true }, { status: 'COMPLETE', gen: 1 })).toBe('crawl');
    expect(admitCrawl({}, { status: 'CRAWLING' })).toBe('crawl');
    expect(admitCrawl({}, undefined)).toBe('crawl');
  });
});

describe('judgeCheck', () => {
  it('an unchanged digest with every file asked is unchanged, and the note says how many were asked', () => {
    const v = judgeCheck({ changed: false, checked: 7, unknown: 0, gone: [] });
    expect(v).toEqual({ verdict: 'unchanged', gone: { count: 0, keys: [] }, note: 'unchanged: 7 file(s) asked' });
  });

  it('lists files gone at the origin, sorted, without counting them as a change', () => {
    const gone = ['c/b.ts', 'c/a.ts'];
    const v = judgeCheck({ changed: false, checked: 3, unknown: 0, gone });
    expect(v).toEqual({
      verdict: 'unchanged',
      gone: { count: 2, keys: ['c/a.ts', 'c/b.ts'] },
      note: 'unchanged: 3 file(s) asked; 2 gone at the origin, kept in the bucket',
    });
    expect(gone).toEqual(['c/b.ts', 'c/a.ts']);
  });

  it('a change found is a change, even with files it could not ask about', () => {
    expect(judgeCheck({ changed: true, checked: 1, unknown: 4, gone: ['x'] })).toEqual({
      verdict: 'changed',
      gone: { count: 1, keys: ['x'] },
    });
  });

  it('one file it could not ask about leaves the decision to the plans', () => {
    expect(judgeCheck({ changed: false, checked: 9, unknown: 1, gone: [] }).verdict).toBe('compare-plans');
  });

  it('the changed note names the differences, or the plan', () => {
    expect(changedNote(['a.m3u8 changed', 'b.ts size'])).toBe('changed: a.m3u8 changed; b.ts size');
    expect(changedNote([])).toBe('changed: the plan differs');
    expect(changedNote(undefined)).toBe('changed: the plan differs');
  });
});

describe('decideGrowing', () => {
  const growing = ['https://o/c/v1/index.m3u8', 'https://o/c/v2/index.m3u8'];

  it('copies a class with no growing playlist, without a warning', () => {
    expect(decideGrowing({ growing: [], graceSeconds: GRACE }, NOW)).toEqual({ action: 'copy' });
  });

  it('waits until the grace period after the end, and copies from its last millisecond on', () => {
    const endedAt = new Date(NOW.getTime() - GRACE * 1000 + 1).toISOString();
    const wait = decideGrowing({ growing, endedAt, graceSeconds: GRACE }, NOW);
    expect(wait).toMatchObject({ action: 'wait', until: '2026-03-01T12:00:00.001Z' });
    expect(wait.action === 'wait' && wait.reason).toBe(
      'waiting: 2 media playlist(s) have no EXT-X-ENDLIST or DASH manifest(s) are dynamic (e.g. https://o/c/v1/index.m3u8); ' +
        'crawled again until 2026-03-01T12:00:00.001Z',
    );
    const atEdge = new Date(NOW.getTime() - GRACE * 1000).toISOString();
    expect(decideGrowing({ growing, endedAt: atEdge, graceSeconds: GRACE }, NOW)).toEqual({
      action: 'copy',
      warning:
        'copied as it stood 10 min after the class ended: 2 media playlist(s) have no EXT-X-ENDLIST or DASH ' +
        'manifest(s) are dynamic (e.g. https://o/c/v1/index.m3u8)',
    });
  });

  it('without an end, measures from when the class was first seen waiting, not from this crawl', () => {
    const waitingSince = new Date(NOW.getTime() - 60_000).toISOString();
    const wait = decideGrowing(
      { growing, waitingSince, graceSeconds: GRACE, endedWarning: 'endedAt x is not a date' },
      NOW,
    );
    expect(wait).toMatchObject({ action: 'wait', since: waitingSince, until: '2026-03-01T12:09:00.000Z' });
    expect(wait.action === 'wait' && wait.reason).toMatch(/; endedAt x is not a date$/);
    const long = new Date(NOW.getTime() - GRACE * 1000).toISOString();
    const copy = decideGrowing({ growing, waitingSince: long, graceSeconds: GRACE }, NOW);
    expect(copy.action === 'copy' && copy.warning).toMatch(/after it was first seen waiting:/);
  });

  it('first seen waiting is the earliest plausible of the record, the request and now', () => {
    const earlier = '2026-03-01T11:00:00.000Z';
    const later = '2026-03-01T11:30:00.000Z';
    expect(firstSeenWaiting(later, earlier, NOW)).toBe(earlier);
    expect(firstSeenWaiting(undefined, undefined, NOW)).toBe(NOW.toISOString());
    // A date far in the future, or before any plausible end, is not believed.
    expect(firstSeenWaiting('2030-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z', NOW)).toBe(NOW.toISOString());
  });
});

describe('removed files', () => {
  it('are listed only when an earlier generation exists and the plan differs, is forced or follows a change', () => {
    expect(listsRemoved(undefined, 'p1', true)).toBe(false);
    expect(listsRemoved({ planId: 'p0' }, 'p1', true)).toBe(false);
    expect(listsRemoved({ gen: 1, planId: 'p1' }, 'p1', false)).toBe(false);
    expect(listsRemoved({ gen: 1, planId: 'p0' }, 'p1', false)).toBe(true);
    expect(listsRemoved({ gen: 1, planId: 'p1' }, 'p1', true)).toBe(true);
  });

  it('are what earlier generations had and the plan has not, once each, sorted', () => {
    expect(removedFiles(['c/z.ts', 'c/a.ts'], ['c/a.ts', 'c/b.ts', 'c/k.ts'], ['c/a.ts', 'c/k.ts'])).toEqual([
      'c/b.ts',
      'c/z.ts',
    ]);
    expect(removedFiles(undefined, ['c/a.ts'], ['c/a.ts'])).toEqual([]);
  });
});
