import { createHash } from 'node:crypto';
import { readFile, realpath, stat } from 'node:fs/promises';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PlaylistError } from './errors.ts';
import type { PlaylistFetcher } from './types.ts';

/**
 * A PlaylistFetcher for `flants plan <file>`: reads file: URLs, but only inside `rootDir` (symlinks resolved);
 * http(s) URLs go to `origin` when given (a local master may reference remote playlists).
 */
export function createFileFetcher(rootDir: string, origin?: PlaylistFetcher): PlaylistFetcher {
  let realRoot: Promise<string> | undefined;
  return {
    async fetchText(url, opts) {
      const u = new URL(url);
      if (u.protocol !== 'file:') {
        if (origin) return origin.fetchText(url, opts);
        throw new PlaylistError('BAD_URI', `cannot read ${url}: only file: URLs are readable here`, url);
      }
      const path = fileURLToPath(u);
      let real: string;
      let rootReal: string;
      try {
        realRoot ??= realpath(rootDir);
        rootReal = await realRoot;
        real = await realpath(path);
      } catch {
        throw new PlaylistError('FILE_NOT_FOUND', `playlist file ${path} does not exist or cannot be read`, url);
      }
      if (!real.startsWith(rootReal.endsWith(sep) ? rootReal : rootReal + sep)) {
        throw new PlaylistError('UNSAFE_KEY', `refusing to read ${path}: it is outside ${rootDir}`, url);
      }
      const info = await stat(real);
      if (!info.isFile()) throw new PlaylistError('FILE_NOT_FOUND', `playlist ${path} is not a file`, url);
      if (info.size > opts.maxBytes) {
        throw new PlaylistError(
          'PLAYLIST_TOO_LARGE',
          `playlist ${path} is ${info.size} bytes, over the ${opts.maxBytes}-byte cap (HLS_MAX_PLAYLIST_BYTES)`,
          url,
        );
      }
      const raw = await readFile(real);
      return {
        url: u.href,
        body: raw.toString('utf8'),
        contentType: undefined,
        bytes: raw.length,
        sha256: createHash('sha256').update(raw).digest('hex'),
      };
    },
  };
}
