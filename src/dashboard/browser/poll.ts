// The page's reads of status.json: every page of classes (up to MAX_PAGES), asked with the last ETag
// so an unchanged ledger costs a 304, and one class's failed files.
import { cut } from './rows.ts';
import type { FailuresJson, StatusJson } from './wire.ts';

/** Pages of status.json read per refresh: beyond them the page says how many classes it did not load. */
export const MAX_PAGES = 20;

/** status.json as the page loaded it: every page it read, and how many classes it left. */
export interface Loaded extends StatusJson {
  notLoaded: number;
}

function getJson(url: string, etag: string | null): Promise<{ body: StatusJson; tag: string | null } | null> {
  const headers: Record<string, string> = {};
  if (etag) headers['If-None-Match'] = etag;
  return fetch(url, { headers, cache: 'no-store', credentials: 'same-origin' }).then((res) => {
    if (res.status === 304) return null;
    if (!res.ok)
      return res.text().then((t): never => {
        throw new Error(`status.json answered HTTP ${res.status}${t ? ` (${cut(t.trim(), 200)})` : ''}`);
      });
    return (res.json() as Promise<StatusJson>).then((body) => ({ body, tag: res.headers.get('etag') }));
  });
}

/** Every page of classes, or null when the first page is unchanged since `etag`; with the new ETag. */
export function fetchStatus(etag: string | null): Promise<{ snap: Loaded; etag: string | null } | null> {
  return getJson('status.json?limit=5000', etag).then((first) => {
    if (!first) return null;
    let all = first.body.classes;
    let next = first.body.next;
    let left = first.body.omitted;
    let pages = 1;
    const more = (): { snap: Loaded; etag: string | null } | Promise<{ snap: Loaded; etag: string | null }> => {
      if (!next || pages >= MAX_PAGES)
        return { snap: { ...first.body, classes: all, notLoaded: next ? left : 0 }, etag: first.tag };
      return getJson(`status.json?limit=5000&cursor=${encodeURIComponent(next)}`, null).then((p) => {
        if (!p) throw new Error('status.json answered 304 to a request for its next page');
        all = all.concat(p.body.classes);
        next = p.body.next;
        left = p.body.omitted;
        pages++;
        return more();
      });
    };
    return more();
  });
}

/** A class's failed files (status.json?class=<id>). */
export function fetchFailures(classId: string): Promise<FailuresJson> {
  return fetch(`status.json?class=${encodeURIComponent(classId)}`, {
    cache: 'no-store',
    credentials: 'same-origin',
  }).then((res) => {
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return res.json() as Promise<FailuresJson>;
  });
}
