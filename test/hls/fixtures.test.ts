// Every real playlist in ../shared/fixtures/hls, served over HTTP and enumerated by planClass, against an
// expectation derived independently (reference.ts). Absolute URIs on hosts that do not exist here are served
// by the same local origin under /__ext/<host>/..., through a fetcher that keeps their original URLs.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planClass } from '../../src/hls/enumerate.ts';
import { PlaylistError } from '../../src/hls/errors.ts';
import type { PlaylistFetcher } from '../../src/hls/types.ts';
import { createOrigin } from '../../src/adapters/origin/client.ts';
import type { Origin } from '../../src/domain/ports/origin.ts';
import { startDirectoryOrigin, type DirectoryOrigin } from '../helpers/directory-origin.ts';
import { referencePlan, type BodyFetcher } from './reference.ts';

// A verbatim copy of ../shared/fixtures/hls (see its SOURCES.md for origin and licenses), kept in
// the repository so CI's clean clone has it; the test below keeps the copy honest.
const ROOT = join(import.meta.dirname, '../fixtures/upstream-hls');
const SHARED = join(import.meta.dirname, '../../../shared/fixtures/hls');
const LIMITS = { maxPlaylistBytes: 8 * 1024 * 1024, maxPlaylists: 1000, maxFiles: 200_000, maxDepth: 3 };

function listPlaylists(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listPlaylists(join(dir, e.name)) : e.name.endsWith('.m3u8') ? [join(dir, e.name)] : [],
  );
}

const FILES = listPlaylists(ROOT)
  .map((f) => relative(ROOT, f))
  .sort();

let server: DirectoryOrigin;
let origin: Origin;

/** Maps a URL on a foreign host to the local origin's /__ext/ tree. */
function localize(url: string): string {
  const u = new URL(url);
  return u.host === server.host ? url : `${server.base}/__ext/${u.host}${u.pathname}${u.search}`;
}

// The reference asks the origin's own answer for each path directly (HTTP would only slow it down): the
// origin client under test still goes over HTTP.
const referenceFetch: BodyFetcher = async (url) => {
  const body = server.body(decodeURIComponent(new URL(localize(url)).pathname));
  return { url, body: body === undefined ? '' : body.toString() };
};

function routedFetcher(): PlaylistFetcher {
  return {
    async fetchText(url, opts) {
      const res = await origin.fetchText(localize(url), opts);
      return localize(url) === url ? res : { ...res, url };
    },
  };
}

beforeAll(async () => {
  server = await startDirectoryOrigin({ root: ROOT, synthetic: true });
  origin = createOrigin({ allowedHosts: [server.host] });
});

afterAll(async () => {
  await origin?.close();
  await server?.close();
});

describe('fixtures: every playlist in shared/fixtures/hls', () => {
  it('has the 327 playlists SOURCES.md lists', () => {
    expect(FILES.length).toBe(327);
  });

  // Only where the shared folder exists (developer machines; CI clones the repository alone).
  it.skipIf(!existsSync(SHARED))('is byte-identical to the shared fixtures it copies', () => {
    const shared = listPlaylists(SHARED)
      .map((f) => relative(SHARED, f))
      .sort();
    expect(shared).toEqual(FILES);
    for (const rel of FILES)
      expect(readFileSync(join(ROOT, rel)).equals(readFileSync(join(SHARED, rel))), rel).toBe(true);
  });

  it.each(FILES)('%s', async (rel) => {
    const masterUrl = `${server.base}/${rel.split('/').map(encodeURIComponent).join('/')}`;
    const expected = await referencePlan(masterUrl, referenceFetch, 'lib/');
    if ('refused' in expected) {
      const err = await planClass(masterUrl, routedFetcher(), {
        limits: LIMITS,
        destPrefix: 'lib/',
        allowedHosts: [server.host],
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PlaylistError);
      expect((err as PlaylistError).code).toBe('NOT_A_PLAYLIST');
      expect((err as PlaylistError).retryable).toBe(false);
      expect((err as Error).message).not.toMatch(/\n/);
      return;
    }
    const hosts = new Set([server.host]);
    for (const f of expected.files.values()) for (const s of f.srcs) hosts.add(new URL(s).host);
    const plan = await planClass(masterUrl, routedFetcher(), {
      limits: LIMITS,
      destPrefix: 'lib/',
      allowedHosts: [...hosts],
    });

    expect(plan.map((f) => f.key)).toEqual([...expected.files.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    // Collected rather than asserted one by one: some classes have thousands of files.
    const wrong: string[] = [];
    for (const f of plan) {
      const want = expected.files.get(f.key)!;
      if (!want.srcs.includes(f.src)) wrong.push(`${f.key}: src ${f.src} not among ${want.srcs.join(' ')}`);
      if (want.kinds.has('playlist') ? f.kind !== 'playlist' : !want.kinds.has(f.kind))
        wrong.push(`${f.key}: kind ${f.kind}, expected ${[...want.kinds].join('|')}`);
    }
    expect(wrong).toEqual([]);
  });
});
