import { keyForUrl } from '../hls/keys.ts';
import { scanPlaylist } from '../hls/scan.ts';
import type { ObjectStore } from '../store/objects.ts';
import { describeError } from '../errors.ts';
import { mapLimit } from '../util/concurrency.ts';

/** A reference in a copied playlist that a player of the copy could not fetch from the bucket. */
export interface DanglingReference {
  playlist: string;
  uri: string;
  /** The key the reference resolves to, or why it could not be resolved. */
  key: string;
}

/** Where the copy is served from (the prefix is the site's root, as CloudFront's origin path). */
const COPY = 'https://copy.invalid/';

async function text(store: Pick<ObjectStore, 'get'>, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of await store.get(key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Reads every playlist under `prefix` in the bucket and lists each reference that resolves, relative
 * to where the copy sits (with `prefix` served as the site's root), to an object that is not there:
 * the proof that a COMPLETE class plays from the copy. References to other hosts are a player's business with those hosts and are not checked.
 */
export async function findDanglingReferences(store: Pick<ObjectStore, 'list' | 'get'>, prefix: string): Promise<DanglingReference[]> {
  const keys = new Set<string>();
  for await (const o of store.list(prefix)) keys.add(o.key);
  const playlists = [...keys].filter((k) => /\.m3u8?$/i.test(k));
  const dangling: DanglingReference[] = [];
  await mapLimit(playlists, 8, async (playlist) => {
    const base = new URL(playlist.slice(prefix.length).split('/').map(encodeURIComponent).join('/'), COPY);
    let refs;
    try {
      refs = scanPlaylist(await text(store, playlist), { baseUrl: base }).references;
    } catch (err) {
      dangling.push({ playlist, uri: '', key: `unreadable playlist: ${describeError(err)}` });
      return;
    }
    for (const ref of refs) {
      if (ref.url.origin !== base.origin) continue;
      let key: string;
      try {
        key = keyForUrl(ref.url, base, prefix);
      } catch (err) {
        dangling.push({ playlist, uri: ref.uri, key: describeError(err) });
        continue;
      }
      if (!keys.has(key)) dangling.push({ playlist, uri: ref.uri, key });
    }
  });
  return dangling.sort((a, b) => (a.playlist + a.uri < b.playlist + b.uri ? -1 : 1));
}
