// Issue 11: the change check asks a real HTTP origin about a COMPLETE generation's files, cheaply:
// conditional GETs for playlists, HEADs for the rest, stopping at the first difference.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOriginServer, type OriginContent, type OriginServer } from '../../lab/origin-server.ts';
import { digestOfPlaylist } from '../../src/hls/reference-digest.ts';
import { createOrigin } from '../../src/adapters/origin/client.ts';
import type { Origin } from '../../src/domain/ports/origin.ts';
import { checkAgainstOrigin, type ChangeCheckOptions } from '../../src/pipeline/recheck.ts';
import type { LandedFile } from '../../src/domain/ledger/records.ts';

interface File {
  body: Buffer;
  etag?: string;
  lastModified?: string;
}

const files = new Map<string, File>();
let origin: OriginServer;
let client: Origin;
const requests: string[] = [];

const content: OriginContent = {
  stat(path) {
    const f = files.get(path);
    return (
      f && {
        size: f.body.length,
        contentType: path.endsWith('.m3u8') ? 'application/vnd.apple.mpegurl' : 'video/mp2t',
        etag: f.etag,
        lastModified: f.lastModified,
      }
    );
  },
  read(path, range) {
    const b = files.get(path)!.body;
    return Readable.from([range ? b.subarray(range.start, range.end + 1) : b]);
  },
};

const opts: ChangeCheckOptions = {
  files: 'all',
  concurrency: 4,
  maxPlaylistBytes: 1 << 20,
  root: 'c/',
  retry: { attempts: 2, baseDelayMs: 10 },
};
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** What the ledger kept for each file when it was copied (as the transfer records it). */
function landed(): LandedFile[] {
  return [...files].map(([path, f]) => ({
    key: `c/h${path}`,
    bytes: f.body.length,
    etag: 'x',
    src: `${origin.url}${path}`,
    ...(path.endsWith('.m3u8')
      ? {
          sha256: sha(f.body),
          refs: digestOfPlaylist(f.body.toString(), {
            src: `${origin.url}${path}`,
            finalUrl: `${origin.url}${path}`,
            root: 'c/',
          }),
        }
      : {}),
    ...(f.etag ? { originEtag: f.etag } : {}),
    ...(f.lastModified ? { originModified: f.lastModified } : {}),
  }));
}

beforeAll(async () => {
  files.set('/m/master.m3u8', { body: Buffer.from('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n'), etag: '"m1"' });
  files.set('/m/v.m3u8', {
    body: Buffer.from('#EXTM3U\n#EXTINF:4,\na.ts\n#EXTINF:4,\nb.ts\n#EXT-X-ENDLIST\n'),
    lastModified: new Date(Date.UTC(2030, 0, 1)).toUTCString(),
  });
  files.set('/m/a.ts', { body: Buffer.alloc(100, 1), etag: '"a1"' });
  files.set('/m/b.ts', { body: Buffer.alloc(200, 2) });
  origin = await startOriginServer(content);
  client = createOrigin({ allowedHosts: [new URL(origin.url).host] });
  // Count what reaches the origin, by method and whether it was conditional.
  const inner = client;
  client = {
    ...inner,
    fetchText: (url, o) => (
      requests.push(`GET ${new URL(url).pathname}${o.ifNoneMatch || o.ifModifiedSince ? ' (conditional)' : ''}`),
      inner.fetchText(url, o)
    ),
    head: (url, o) => (requests.push(`HEAD ${new URL(url).pathname}`), inner.head(url, o)),
  };
});
afterAll(async () => {
  await client?.close();
  await origin?.close();
});

describe('change check against the origin', () => {
  it('an unchanged class costs one conditional GET per playlist (304) and one HEAD per other file, nothing else', async () => {
    const before = landed();
    requests.length = 0;
    const r = await checkAgainstOrigin(before, client, opts);
    expect(r).toMatchObject({
      changed: false,
      checked: 4,
      unknown: 0,
      changes: [],
      requests: { conditional: 2, head: 2 },
    });
    expect(requests.sort()).toEqual([
      'GET /m/master.m3u8 (conditional)',
      'GET /m/v.m3u8 (conditional)',
      'HEAD /m/a.ts',
      'HEAD /m/b.ts',
    ]);
    expect(origin.stats().byStatus['304']).toBe(2);
  });

  it('finds a segment fixed in place (other ETag, same size) though no playlist changed; playlists only would not', async () => {
    const before = landed();
    files.set('/m/a.ts', { body: Buffer.alloc(100, 9), etag: '"a2"' });
    expect(await checkAgainstOrigin(before, client, opts)).toMatchObject({
      changed: true,
      changes: ['c/h/m/a.ts has ETag "a2", was "a1"'],
    });
    expect(await checkAgainstOrigin(before, client, { ...opts, files: 'playlists' })).toMatchObject({
      changed: false,
      requests: { conditional: 2, head: 0 },
    });
  });

  it('finds a changed size without validators and a changed playlist, stopping at the first difference; a file gone is noted, not a change', async () => {
    let before = landed();
    files.set('/m/b.ts', { body: Buffer.alloc(201, 2) });
    expect((await checkAgainstOrigin(before, client, opts)).changes).toEqual(['c/h/m/b.ts is 201 bytes, was 200']);
    before = landed();
    files.delete('/m/b.ts');
    // Issue 18 case 4: its verified copy is the generation's own (the chunk record): kept, listed, and the check goes on.
    expect(await checkAgainstOrigin(before, client, opts)).toMatchObject({
      changed: false,
      checked: 4,
      changes: [],
      gone: ['c/h/m/b.ts'],
    });
    files.set('/m/b.ts', { body: Buffer.alloc(200, 2) });
    before = landed();
    // A playlist served with the same validator but other bytes is still caught by its digest (a 200 whose SHA-256 differs).
    files.set('/m/v.m3u8', {
      ...files.get('/m/v.m3u8')!,
      body: Buffer.from('#EXTM3U\n#EXTINF:4,\na.ts\n#EXT-X-ENDLIST\n'),
      lastModified: new Date(Date.UTC(2030, 0, 2)).toUTCString(),
    });
    requests.length = 0;
    const r = await checkAgainstOrigin(before, client, opts);
    expect(r).toMatchObject({ changed: true, changes: ['playlist c/h/m/v.m3u8 changed'] });
    // Playlists first; once one changed, no HEAD is spent on the rest.
    expect(requests.filter((x) => x.startsWith('HEAD'))).toEqual([]);
  });

  it('a playlist served as other bytes naming the same files is unchanged: tokens, comments, dates (issue 18, case 1)', async () => {
    const text = '#EXTM3U\n#EXTINF:4,\na.ts\n#EXTINF:4,\nb.ts\n#EXT-X-ENDLIST\n';
    // No validator that holds (a CDN rewriting playlists per request sends none): a 200 every time.
    files.set('/m/v.m3u8', { body: Buffer.from(text) });
    const before = landed();
    files.set('/m/v.m3u8', {
      body: Buffer.from(
        text
          .replace('#EXTM3U\n', '#EXTM3U\n# edge 7\n#EXT-X-PROGRAM-DATE-TIME:2030-01-01T00:00:00Z\n')
          .replace('a.ts', 'a.ts?token=1f2e'),
      ),
    });
    requests.length = 0;
    expect(await checkAgainstOrigin(before, client, opts)).toMatchObject({ changed: false, changes: [] });
    expect(requests).toContain('GET /m/v.m3u8');
    // Naming another file is a change, however it is served.
    files.set('/m/v.m3u8', { body: Buffer.from(text.replace('b.ts', 'b2.ts?token=9')) });
    expect(await checkAgainstOrigin(before, client, opts)).toMatchObject({
      changed: true,
      changes: ['playlist c/h/m/v.m3u8 changed'],
    });
  });

  it('counts files it cannot ask about (copied before sources were kept), for the caller to compare plans instead', async () => {
    const r = await checkAgainstOrigin([{ key: 'old/a.ts', bytes: 1, etag: 'e' }], client, opts);
    expect(r).toMatchObject({ changed: false, checked: 0, unknown: 1 });
  });
});
