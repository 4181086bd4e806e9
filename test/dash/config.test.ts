// The DASH settings: ALSO_COPY_MANIFESTS, DASH_MAX_PERIODS, DASH_MAX_SEGMENTS (src/config.ts).
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { mpdRulesOf } from '../../src/dash/hosts.ts';

const base = { ORIGIN_ALLOWED_HOSTS: 'cdn.example.com' };

describe('DASH settings', () => {
  it('defaults: no other manifest, 1000 periods, 100000 segments per representation', () => {
    const c = loadConfig(base);
    expect(c.hls).toMatchObject({ alsoCopyManifests: [], maxPeriods: 1000, maxSegments: 100_000 });
    expect(mpdRulesOf(c)).toEqual({
      allowedHosts: ['cdn.example.com'],
      maxPeriods: 1000,
      maxSegments: 100_000,
      maxReferences: 4 * c.hls.maxFiles,
    });
  });

  it('reads ALSO_COPY_MANIFESTS as relative paths, trimmed and deduplicated', () => {
    const c = loadConfig({ ...base, ALSO_COPY_MANIFESTS: ' manifest.mpd, dash/stream.mpd,manifest.mpd,' });
    expect(c.hls.alsoCopyManifests).toEqual(['manifest.mpd', 'dash/stream.mpd']);
    expect(loadConfig({ ...base, DASH_MAX_PERIODS: '5', DASH_MAX_SEGMENTS: '7' }).hls).toMatchObject({
      maxPeriods: 5,
      maxSegments: 7,
    });
  });

  it('refuses absolute, climbing or odd entries, naming the setting', () => {
    for (const bad of ['/abs.mpd', '../up.mpd', 'a/../b.mpd', 'https://x/y.mpd', './m.mpd', 'a b.mpd', '?q.mpd'])
      expect(() => loadConfig({ ...base, ALSO_COPY_MANIFESTS: bad }), bad).toThrow(/ALSO_COPY_MANIFESTS entry/);
    expect(() => loadConfig({ ...base, DASH_MAX_PERIODS: '0' })).toThrow(/DASH_MAX_PERIODS/);
    expect(() => loadConfig({ ...base, DASH_MAX_SEGMENTS: 'x' })).toThrow(/DASH_MAX_SEGMENTS/);
  });
});
