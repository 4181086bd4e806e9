// Real DASH manifests from other players' test suites (test/fixtures/dash/SOURCES.md), planned by the
// crawler's own planClass. Each expected list is written by hand: for the shaka-player and rx-player
// assets it is the set of media files the source repository keeps beside the manifest for its own
// playback tests (the files its player fetches), named in the comment above each list.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { enumerateClass } from '../../src/hls/enumerate.ts';
import { LIMITS, memoryFetcher } from '../hls/helpers.ts';

const DIR = join(import.meta.dirname, '../fixtures/dash');
const BASE = 'https://media.example.com/assets/';

async function plan(fixture: string): Promise<{ rows: string[]; growing: string[] }> {
  const url = `${BASE}${fixture}`;
  const fetcher = memoryFetcher({ [url]: readFileSync(join(DIR, fixture), 'utf8') });
  const { files, growing } = await enumerateClass(url, fetcher, {
    limits: LIMITS,
    destPrefix: 'c/',
    allowedHosts: ['media.example.com'],
  });
  return { rows: files.map((f) => `${f.kind} ${f.key.replace('c/media.example.com/assets/', '')}`), growing };
}

const sorted = (rows: string[]): string[] => [...rows].sort((a, b) => (a.split(' ')[1]! < b.split(' ')[1]! ? -1 : 1));

describe('DASH fixtures from other projects plan exactly the files their players fetch', () => {
  it('shaka clear-encrypted: two Periods of $Number$ templates (@duration), ContentProtection left alone', async () => {
    // shaka-player test/test/assets/clear-encrypted/: clear-{a,v}-init.mp4, clear-{a,v}-s{1,2}.mp4, enc-{a,v}-... .
    const { rows, growing } = await plan('shaka-clear-encrypted.mpd');
    expect(rows).toEqual(
      sorted([
        'playlist shaka-clear-encrypted.mpd',
        'init clear-v-init.mp4',
        'segment clear-v-s1.mp4',
        'segment clear-v-s2.mp4',
        'init clear-a-init.mp4',
        'segment clear-a-s1.mp4',
        'segment clear-a-s2.mp4',
        'init enc-v-init.mp4',
        'segment enc-v-s1.mp4',
        'segment enc-v-s2.mp4',
        'init enc-a-init.mp4',
        'segment enc-a-s1.mp4',
        'segment enc-a-s2.mp4',
      ]),
    );
    expect(growing).toEqual([]);
  });

  it('shaka lcevc multi_period: $Time$ timelines, the same files in both Periods copied once', async () => {
    // shaka-player test/test/assets/lcevc-dual-track/: out-sorted-video=2521258{,-0,-2400}.dash and
    // out-sorted-video_1=1877000{,-0,-61440}.dash (the -4800 and -122880 files belong to master.mpd).
    const { rows } = await plan('shaka-lcevc-multi-period.mpd');
    expect(rows).toEqual(
      sorted([
        'playlist shaka-lcevc-multi-period.mpd',
        'init out-sorted-video=2521258.dash',
        'segment out-sorted-video=2521258-0.dash',
        'segment out-sorted-video=2521258-2400.dash',
        'init out-sorted-video_1=1877000.dash',
        'segment out-sorted-video_1=1877000-0.dash',
        'segment out-sorted-video_1=1877000-61440.dash',
      ]),
    );
  });

  it('shaka dash-aes-128: S@r repeats, $Time$ in a Smooth-style path, SEA ContentProtection key URI not followed', async () => {
    const { rows } = await plan('shaka-dash-aes-128.mpd');
    expect(rows).toEqual(
      sorted([
        'playlist shaka-dash-aes-128.mpd',
        'init Fragments(video=i,format=mpd-time-csf)',
        'segment Fragments(video=0,format=mpd-time-csf)',
        'segment Fragments(video=20000000,format=mpd-time-csf)',
        'segment Fragments(video=40000000,format=mpd-time-csf)',
        'segment Fragments(video=60000000,format=mpd-time-csf)',
        'segment Fragments(video=80000000,format=mpd-time-csf)',
      ]),
    );
  });

  it('rx-player SegmentBase multi_codecs: single-file Representations (indexRange, Initialization@range) and WebVTT subtitles', async () => {
    // rx-player tests/contents/DASH_static_SegmentBase/media/: every file there but broken_sidx.mpd and
    // v-0144p-0100k-libx264_broken_sidx.mp4, which belong to another manifest. Byte ranges name no other file.
    const { rows } = await plan('rx-segmentbase-multi-codecs.mpd');
    expect(rows).toEqual(
      sorted([
        'playlist rx-segmentbase-multi-codecs.mpd',
        'subtitle s-el.webvtt',
        'subtitle s-en.webvtt',
        'subtitle s-fr.webvtt',
        'subtitle s-pt-BR.webvtt',
        'segment v-0360p-0750k-libx264.mp4',
        'segment v-0480p-1000k-libx264.mp4',
        'segment v-0240p-0400k-libx264.mp4',
        'segment v-0576p-1400k-libx264.mp4',
        'segment v-0144p-0100k-libx264.mp4',
        'segment a-spa-0128k-aac.mp4',
        'segment a-deu-0128k-aac.mp4',
        'segment a-fra-0128k-aac.mp4',
        'segment v-0360p-0550k-vp9.webm',
        'segment v-0144p-0100k-vp9.webm',
        'segment v-0480p-0750k-vp9.webm',
        'segment v-0240p-0300k-vp9.webm',
        'segment v-0576p-1000k-vp9.webm',
        'segment a-eng-0128k-aac.mp4',
        'segment a-eng-0128k-libopus.webm',
        'segment a-fra-0128k-libopus.webm',
        'segment a-deu-0128k-libopus.webm',
        'segment a-ita-0128k-libopus.webm',
        'segment a-ita-0128k-aac.mp4',
        'segment a-spa-0128k-libopus.webm',
      ]),
    );
  });

  it('rx-player template inheritance: Period-level media/initialization, AdaptationSet timelines, Period BaseURL', async () => {
    const { rows } = await plan('rx-inheritance-period-as.mpd');
    // 1 manifest + 27 audio (init + 26 S) + 4 video Representations x 27 (init + 25 + 1).
    expect(rows).toHaveLength(136);
    // The first three audio segments are rx-player's own expectation (segment_template_inheritance_period_as.js).
    for (const t of [0, 177341, 353469]) expect(rows).toContain(`segment dash/ateam-audio=128000-${t}.dash`);
    // Last audio: 177341 + 10 x 177152 + 14 x 176128 (the 25 durations before the final 64512 one).
    expect(rows).toContain('segment dash/ateam-audio=128000-4414653.dash');
    expect(rows).not.toContain('segment dash/ateam-audio=128000-4479165.dash');
    for (const id of ['400000', '795000', '1193000', '1996000']) {
      expect(rows).toContain(`init dash/ateam-video=${id}.dash`);
      expect(rows).toContain(`segment dash/ateam-video=${id}-96096.dash`); // 24 x 4004: the r="24" run's last
      expect(rows).toContain(`segment dash/ateam-video=${id}-100100.dash`); // the closing 1376-long segment
      expect(rows).not.toContain(`segment dash/ateam-video=${id}-101476.dash`);
    }
  });

  it('rx-player dynamic SegmentTimeline: listed as it stands, and reported growing', async () => {
    const { rows, growing } = await plan('rx-dynamic-timeline.mpd');
    expect(growing).toEqual([`${BASE}rx-dynamic-timeline.mpd`]);
    // 1 manifest, 2 inits, 50 audio (1 + 13 x 1 + 12 x 3 + ... counted by hand from the S list), 50 video (r="49").
    expect(rows).toHaveLength(103);
    expect(rows).toContain('init A48/init.mp4');
    expect(rows).toContain('init V300/init.mp4');
    expect(rows).toContain('segment A48/t73320372578304.m4s');
    // 73320372578304 + 37 x 288768 + 13 x 287744 - the last 287744.
    expect(rows).toContain('segment A48/t73320386715648.m4s');
    expect(rows).toContain('segment V300/t137475698580000.m4s');
    expect(rows).toContain('segment V300/t137475725040000.m4s'); // + 49 x 540000
  });
});
