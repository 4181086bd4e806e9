import type { HlsLimits } from '../../src/domain/vocabulary.ts';
import { planClass } from '../../src/hls/enumerate.ts';
import { PlaylistError } from '../../src/hls/errors.ts';
import type { PlanOptions, PlannedFile, PlaylistFetcher } from '../../src/hls/types.ts';
import { createOrigin } from '../../src/adapters/origin/client.ts';

export const LIMITS: HlsLimits = { maxPlaylistBytes: 1024 * 1024, maxPlaylists: 100, maxFiles: 10_000, maxDepth: 3 };

/** The origin the in-memory HLS tests plan from (the one host `planOptions` allows). */
export const H = 'https://cdn.example.com';

/** Plan options for a class at `H`, shared so every in-memory planning test starts from the same bounds. */
export const planOptions = (o: Partial<PlanOptions> = {}): PlanOptions => ({
  limits: LIMITS,
  destPrefix: '',
  allowedHosts: ['cdn.example.com'],
  ...o,
});

/** A finished media playlist (EXT-X-ENDLIST) of 4-second segments at `uris`. */
export const endedMedia = (...uris: string[]) =>
  `#EXTM3U\n#EXT-X-TARGETDURATION:4\n${uris.map((u) => `#EXTINF:4,\n${u}`).join('\n')}\n#EXT-X-ENDLIST\n`;

/** The PlaylistError a synchronous rule throws (fails the test when it throws nothing, or something else). */
export function playlistErrorOf(fn: () => unknown): PlaylistError {
  try {
    fn();
  } catch (err) {
    if (err instanceof PlaylistError) return err;
    throw err;
  }
  throw new Error('expected a PlaylistError');
}

export interface PlanVia {
  allowedHosts: readonly string[];
  limits?: Partial<HlsLimits>;
  prefix?: string;
}

/** Plans a class through the real origin client, as the crawler does. */
export async function planOverHttp(url: string, via: PlanVia): Promise<PlannedFile[]> {
  const origin = createOrigin({ allowedHosts: via.allowedHosts, maxRedirects: 5 });
  try {
    return await planClass(url, origin, {
      limits: { ...LIMITS, ...via.limits },
      destPrefix: via.prefix ?? '',
      allowedHosts: via.allowedHosts,
    });
  } finally {
    await origin.close();
  }
}

/** Resolves to what a promise rejected with (fails the test when it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error & { code?: string; retryable?: boolean }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string; retryable?: boolean };
  }
  throw new Error('expected a rejection, got a result');
}

/** "kind key <- src" lines, with origin bases (and their host segments in keys) shortened to names, for readable comparisons. */
export function rows(files: readonly PlannedFile[], bases: Record<string, string>): string[] {
  return files.map((f) => {
    let src = f.src;
    let key = f.key;
    for (const [name, base] of Object.entries(bases)) {
      if (src.startsWith(`${base}/`)) src = name + src.slice(base.length);
      const host = new URL(base).host;
      key = key.startsWith(`${host}/`)
        ? `${name}/${key.slice(host.length + 1)}`
        : key.replace(`/${host}/`, `/${name}/`);
    }
    return `${f.kind} ${key} <- ${src}`;
  });
}

/** Sorts expected rows the way a plan is sorted (by key). */
export function byKey(lines: string[]): string[] {
  const key = (l: string) => l.split(' ')[1]!;
  return [...lines].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** A fetcher over an in-memory map of URL → body (redirects as `{ redirect: url }`), counting fetches. */
export function memoryFetcher(
  pages: Record<string, string | { redirect: string }>,
): PlaylistFetcher & { fetched: string[] } {
  const fetched: string[] = [];
  return {
    fetched,
    async fetchText(url) {
      fetched.push(url);
      let current = url;
      for (let hop = 0; hop < 5; hop++) {
        const page = pages[current];
        if (page === undefined) throw Object.assign(new Error(`no page ${current}`), { code: 'TEST_404' });
        if (typeof page === 'string') return { url: current, body: page, contentType: undefined };
        current = new URL(page.redirect, current).href;
      }
      throw new Error('too many redirects');
    },
  };
}
