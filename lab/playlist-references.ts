import { keyForUrl } from '../src/hls/keys.ts';
import { scanPlaylist } from '../src/hls/scan.ts';
import { isMpdText, scanMpd } from '../src/dash/scan.ts';
import type { ObjectStore } from '../src/domain/ports/object-store.ts';
import { describeError } from '../src/errors.ts';
import { mapLimit } from '../src/util/concurrency.ts';

/** A reference in a copied playlist that names no object in the bucket. */
export interface DanglingReference {
  playlist: string;
  uri: string;
  /** The key the reference resolves to, or why it could not be resolved. */
  key: string;
}

async function text(store: Pick<ObjectStore, 'get'>, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of await store.get(key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** One http(s) reference of a copied playlist and the key it resolves to in the copy (or why it cannot). */
export type CopiedReference = { uri: string; key: string } | { uri: string; error: string };

/**
 * The references of a copied playlist or DASH manifest (key `prefix<class>/<host>/<path>`, text as
 * stored), each resolved the way a player of the copy resolves it: the class/host root stands for the
 * origin's root, and of several BaseURLs the first is taken. Pure; throws for a key not laid out that
 * way or text that is neither.
 */
export function copiedReferences(playlistKey: string, text: string, prefix: string): CopiedReference[] {
  const [classSeg, host, ...path] = playlistKey.slice(prefix.length).split('/');
  if (!classSeg || !host || path.length === 0)
    throw new Error(`${playlistKey} is not laid out as <class>/<host>/<path>`);
  const root = `${prefix}${classSeg}/`;
  const base = new URL(`https://${host}/${path.map(encodeURIComponent).join('/')}`);
  const out: CopiedReference[] = [];
  const scan = isMpdText(text) ? scanMpd(text, { baseUrl: base }) : scanPlaylist(text, { baseUrl: base });
  for (const ref of scan.references) {
    if (ref.url.protocol !== 'http:' && ref.url.protocol !== 'https:') continue;
    try {
      out.push({ uri: ref.uri, key: keyForUrl(ref.url, base, root) });
    } catch (err) {
      out.push({ uri: ref.uri, error: describeError(err) });
    }
  }
  return out;
}

/**
 * Reads every playlist under `prefix` in the bucket and lists each reference that resolves to a key
 * that is not in the bucket: the proof that a COMPLETE class plays from the copy. Needs nothing but
 * the bucket.
 */
export async function findDanglingReferences(
  store: Pick<ObjectStore, 'list' | 'get'>,
  prefix: string,
): Promise<DanglingReference[]> {
  const keys = new Set<string>();
  for await (const o of store.list(prefix)) keys.add(o.key);
  const playlists = [...keys].filter((k) => /\.(m3u8?|mpd)$/i.test(k));
  const dangling: DanglingReference[] = [];
  await mapLimit(playlists, 8, async (playlist) => {
    let refs: CopiedReference[];
    try {
      refs = copiedReferences(playlist, await text(store, playlist), prefix);
    } catch (err) {
      dangling.push({ playlist, uri: '', key: `unreadable playlist: ${describeError(err)}` });
      return;
    }
    for (const ref of refs) {
      if ('error' in ref) dangling.push({ playlist, uri: ref.uri, key: ref.error });
      else if (!keys.has(ref.key)) dangling.push({ playlist, uri: ref.uri, key: ref.key });
    }
  });
  return dangling.sort((a, b) => (a.playlist + a.uri < b.playlist + b.uri ? -1 : 1));
}
