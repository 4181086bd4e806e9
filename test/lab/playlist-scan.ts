/**
 * A deliberately naive playlist reader for the tests: a line scan that knows nothing of the
 * generator, so the generator cannot agree with itself by construction.
 */

export interface ScannedRef {
  /** The URI as written. */
  uri: string;
  /** The '/'-prefixed path it resolves to (query dropped, dot segments resolved). */
  path: string;
  /** The tag that carried it ("EXT-X-MAP", "EXT-X-KEY", ...) or "uri-line". */
  via: string;
  range?: { length: number; offset: number };
}

const ORIGIN = 'http://origin.test';

/** Resolves `uri` against the playlist at `playlistPath` and returns the path part. */
export function resolvePath(playlistPath: string, uri: string): string {
  return decodeURIComponent(new URL(uri, ORIGIN + playlistPath).pathname);
}

/** Every URI a playlist references, with byte ranges made explicit (implicit offsets followed). */
export function scanPlaylist(playlistPath: string, text: string): ScannedRef[] {
  const refs: ScannedRef[] = [];
  const nextOffset = new Map<string, number>();
  let pendingRange: { length: number; offset: number | undefined } | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const tag = line.slice(1).split(':')[0]!;
      const br = /^#EXT-X-BYTERANGE:(\d+)(?:@(\d+))?$/.exec(line);
      if (br) pendingRange = { length: Number(br[1]), offset: br[2] === undefined ? undefined : Number(br[2]) };
      for (const m of line.matchAll(/(?:^|[:,])URI="([^"]*)"/g)) {
        const uri = m[1]!;
        const ref: ScannedRef = { uri, path: resolvePath(playlistPath, uri), via: tag };
        const mapRange = /BYTERANGE="(\d+)@(\d+)"/.exec(line);
        if (tag === 'EXT-X-MAP' && mapRange) ref.range = { length: Number(mapRange[1]), offset: Number(mapRange[2]) };
        refs.push(ref);
      }
      continue;
    }
    const path = resolvePath(playlistPath, line);
    const ref: ScannedRef = { uri: line, path, via: 'uri-line' };
    if (pendingRange) {
      const offset = pendingRange.offset ?? nextOffset.get(path) ?? 0;
      ref.range = { length: pendingRange.length, offset };
      nextOffset.set(path, offset + pendingRange.length);
      pendingRange = undefined;
    }
    refs.push(ref);
  }
  return refs;
}

/** The value of `name` in the first line starting with `#tag:`, or undefined. */
export function tagValue(text: string, tag: string): string | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`#${tag}:`));
  return line?.slice(tag.length + 2);
}
