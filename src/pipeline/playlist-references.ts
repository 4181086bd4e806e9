import { keyForUrl } from '../hls/keys.ts';
import { scanPlaylist } from '../hls/scan.ts';
import type { ObjectStore } from '../store/objects.ts';
import { describeError } from '../errors.ts';
import { mapLimit } from '../util/concurrency.ts';

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

/**
 * Reads every playlist under `prefix` in the bucket (laid out `prefix<class>/<host>/<path>`) and
 * lists each http(s) reference that resolves, the way a player of the copy resolves it (the
 * class/host root standing for the origin's root), to a key that is not in the bucket: the proof
 * that a COMPLETE class plays from the copy. Needs nothing but the bucket.
 */
export async function findDanglingReferences(
  store: Pick<ObjectStore, 'list' | 'get'>,
  prefix: string,
): Promise<DanglingReference[]> {
  const keys = new Set<string>();
  for await (const o of store.list(prefix)) keys.add(o.key);
  const playlists = [...keys].filter((k) => /\.m3u8?$/i.test(k));
  const dangling: DanglingReference[] = [];
  await mapLimit(playlists, 8, async (playlist) => {
    const [classSeg, host, ...path] = playlist.slice(prefix.length).split('/');
    if (!classSeg || !host || path.length === 0) {
      dangling.push({ playlist, uri: '', key: 'not laid out as <class>/<host>/<path>' });
      return;
    }
    const root = `${prefix}${classSeg}/`;
    const base = new URL(`https://${host}/${path.map(encodeURIComponent).join('/')}`);
    let refs;
    try {
      refs = scanPlaylist(await text(store, playlist), { baseUrl: base }).references;
    } catch (err) {
      dangling.push({ playlist, uri: '', key: `unreadable playlist: ${describeError(err)}` });
      return;
    }
    for (const ref of refs) {
      if (ref.url.protocol !== 'http:' && ref.url.protocol !== 'https:') continue;
      let key: string;
      try {
        key = keyForUrl(ref.url, base, root);
      } catch (err) {
        dangling.push({ playlist, uri: ref.uri, key: describeError(err) });
        continue;
      }
      if (!keys.has(key)) dangling.push({ playlist, uri: ref.uri, key });
    }
  });
  return dangling.sort((a, b) => (a.playlist + a.uri < b.playlist + b.uri ? -1 : 1));
}
