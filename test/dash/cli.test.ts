// `flants plan <mpd URL>` as a user runs it: a child process over a real HTTP origin serving the
// DASH fixtures, and a master playlist with a manifest.mpd beside it (ALSO_COPY_MANIFESTS).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDirectoryOrigin, type DirectoryOrigin } from '../helpers/directory-origin.ts';
import { LIBRARY_ENV } from '../../lab/library.ts';

const REPO = join(import.meta.dirname, '../..');

function flants(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(ORIGIN_|DEST_|HLS_|DASH_|ALSO_COPY_|FLANTS_DEBUG|AWS_)/.test(k)),
  ) as Record<string, string>;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO, 'bin/flants.js'), 'plan', ...args],
      { cwd: REPO, env: { ...clean, ...env }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

let origin: DirectoryOrigin;

beforeAll(async () => {
  origin = await startDirectoryOrigin({
    root: join(REPO, 'test/fixtures/dash'),
    files: {
      '/beside/master.m3u8': { body: '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv/index.m3u8\n' },
      '/beside/v/index.m3u8': { body: '#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\ns1.m4s\n#EXT-X-ENDLIST\n' },
      '/beside/manifest.mpd': {
        contentType: 'application/dash+xml',
        body: '<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT4S"><Period><AdaptationSet mimeType="video/mp4"><BaseURL>v/</BaseURL><SegmentTemplate media="s$Number$.m4s" initialization="init.mp4" duration="4"/><Representation id="v" bandwidth="1"/></AdaptationSet></Period></MPD>',
      },
    },
  });
});

afterAll(async () => {
  await origin?.close();
});

describe('flants plan with DASH', () => {
  it('lists every file of an .mpd URL', async () => {
    const run = await flants([`${origin.base}/shaka-clear-encrypted.mpd`]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toBe(
      '13 files: 1 playlist, 8 segment, 4 init; keys without the class id (--class <id> prints them as copied)',
    );
    expect(lines).toContain(`segment   ${origin.host}/enc-v-s2.mp4  <-  ${origin.base}/enc-v-s2.mp4`);
  });

  it('with ALSO_COPY_MANIFESTS, a master playlist brings the .mpd beside it; without, it does not', async () => {
    const [plain, both] = await Promise.all([
      flants([`${origin.base}/beside/master.m3u8`, '--json']),
      flants([`${origin.base}/beside/master.m3u8`, '--json'], { ...LIBRARY_ENV }),
    ]);
    const keys = (stdout: string) =>
      stdout
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { key: string }).key);
    expect(plain.code).toBe(0);
    expect(keys(plain.stdout)).toEqual([
      `${origin.host}/beside/master.m3u8`,
      `${origin.host}/beside/v/index.m3u8`,
      `${origin.host}/beside/v/s1.m4s`,
    ]);
    expect(both).toMatchObject({ code: 0, stderr: '' });
    expect(keys(both.stdout)).toEqual([
      `${origin.host}/beside/manifest.mpd`,
      `${origin.host}/beside/master.m3u8`,
      `${origin.host}/beside/v/index.m3u8`,
      `${origin.host}/beside/v/init.mp4`,
      `${origin.host}/beside/v/s1.m4s`,
    ]);
  });

  it('refuses a bad ALSO_COPY_MANIFESTS with the setting named', async () => {
    const run = await flants([`${origin.base}/beside/master.m3u8`], { ALSO_COPY_MANIFESTS: '../x.mpd' });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('ALSO_COPY_MANIFESTS');
  });
});
