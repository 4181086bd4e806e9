// An independent expectation for the fixtures suite: what hls-parser and m3u8-parser expose, plus a plain regex
// scan for the tags they drop (all EXT-X-KEYs, SESSION-KEY, SESSION-DATA, CONTENT-STEERING, asset URIs). It shares
// no code with src/hls; it applies the rules docs/hls.md states (skip preload hints, GAP parts/segments, closed
// caption URIs and non-http schemes; first src wins; a URI read as a playlist anywhere is a playlist).
import HLS from 'hls-parser';
import { Parser } from 'm3u8-parser';
import type { FileKind } from '../../src/hls/types.ts';

HLS.setOptions({ silent: true, strictMode: false });

type Role = 'variant' | 'rendition' | 'subtitles' | 'iframe' | 'image' | 'asset' | 'report';
interface Ref {
  uri: string;
  kind: FileKind;
  role?: Role;
}

export interface ExpectedFile {
  kinds: Set<FileKind>;
  srcs: string[];
}

export type ReferenceResult = { refused: string } | { files: Map<string, ExpectedFile> };

/** Body and final URL of a playlist, fetched however the test likes. */
export type BodyFetcher = (url: string) => Promise<{ url: string; body: string }>;

/** The key scheme of docs/hls.md, written again from its description. */
export function referenceKey(url: URL, master: URL, prefix: string): string {
  const decoded = url.pathname
    .split('/')
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    })
    .join('/');
  const path = decoded
    .split('/')
    .filter((p) => p.length > 0)
    .join('/');
  // Every http(s) file sits under its own host; local files (master on file:) under their path.
  return prefix + (url.protocol === 'file:' ? '' : `${url.host.toLowerCase()}/`) + path;
}

/** RFC 8216 §4.3.1.1 as players apply it: the first line that is not blank or a comment is #EXTM3U. */
export function looksLikePlaylist(body: string): boolean {
  const first = body
    .replace(/^\uFEFF/, '')
    .split(/\r?\n|\r/)
    .map((l) => l.trim())
    .find((l) => l !== '' && !(l.startsWith('#') && !l.startsWith('#EXT')));
  return first === '#EXTM3U' && !body.includes('\0');
}

function fromHlsParser(body: string): Ref[] {
  let p: ReturnType<typeof HLS.parse>;
  try {
    p = HLS.parse(body);
  } catch {
    return [];
  }
  const out: Ref[] = [];
  if (p.isMasterPlaylist) {
    for (const v of p.variants) {
      out.push({ uri: v.uri, kind: 'playlist', role: v.isIFrameOnly ? 'iframe' : 'variant' });
      for (const r of [...v.audio, ...v.video])
        if (r.uri) out.push({ uri: r.uri, kind: 'playlist', role: 'rendition' });
      for (const r of v.subtitles) if (r.uri) out.push({ uri: r.uri, kind: 'playlist', role: 'subtitles' });
    }
    for (const d of p.sessionDataList) if (d.uri) out.push({ uri: d.uri, kind: 'data' });
    for (const k of p.sessionKeyList) if (k.uri && k.method !== 'NONE') out.push({ uri: k.uri, kind: 'key' });
    if (p.contentSteering?.serverUri) out.push({ uri: p.contentSteering.serverUri, kind: 'data' });
  } else {
    for (const s of p.segments) {
      if (s.uri && !s.gap) out.push({ uri: s.uri, kind: 'segment' });
      if (s.key?.uri && s.key.method !== 'NONE') out.push({ uri: s.key.uri, kind: 'key' });
      if (s.map?.uri && !s.map.hint) out.push({ uri: s.map.uri, kind: 'init' });
      for (const part of s.parts ?? [])
        if (part.uri && !part.gap && !part.hint) out.push({ uri: part.uri, kind: 'segment' });
    }
    for (const d of p.dateRanges ?? []) {
      const a = d.attributes as Record<string, unknown>;
      if (typeof a['X-ASSET-URI'] === 'string') out.push({ uri: a['X-ASSET-URI'], kind: 'playlist', role: 'asset' });
      if (typeof a['X-ASSET-LIST'] === 'string') out.push({ uri: a['X-ASSET-LIST'], kind: 'data' });
    }
    for (const r of p.renditionReports ?? []) out.push({ uri: r.uri, kind: 'playlist', role: 'report' });
  }
  return out;
}

function fromM3u8Parser(body: string): Ref[] {
  const out: Ref[] = [];
  try {
    const parser = new Parser();
    parser.push(body);
    parser.end();
    const m = parser.manifest;
    if (m.playlists) {
      // m3u8-parser lists stray URI lines of a master as playlists; players only take those after STREAM-INF.
      for (const v of m.playlists)
        if (v.uri && v.attributes) out.push({ uri: v.uri, kind: 'playlist', role: 'variant' });
    } else {
      for (const s of m.segments) {
        if (s.uri) out.push({ uri: s.uri, kind: 'segment' });
        if (s.key?.uri) out.push({ uri: s.key.uri, kind: 'key' });
        if (s.map?.uri) out.push({ uri: s.map.uri, kind: 'init' });
        for (const part of s.parts ?? []) if (part.uri && !part.gap) out.push({ uri: part.uri, kind: 'segment' });
      }
    }
    for (const [type, groups] of Object.entries(m.mediaGroups ?? {})) {
      if (type === 'CLOSED-CAPTIONS') continue;
      for (const group of Object.values(groups)) {
        for (const r of Object.values(group))
          if (r.uri) out.push({ uri: r.uri, kind: 'playlist', role: type === 'SUBTITLES' ? 'subtitles' : 'rendition' });
      }
    }
    for (const f of m.iFramePlaylists ?? []) if (f.uri) out.push({ uri: f.uri, kind: 'playlist', role: 'iframe' });
    for (const r of m.renditionReports ?? []) if (r.uri) out.push({ uri: r.uri, kind: 'playlist', role: 'report' });
    if (m.contentSteering?.serverUri) out.push({ uri: m.contentSteering.serverUri, kind: 'data' });
  } catch {
    // m3u8-parser throws on some broken input; hls-parser and the regex scan still count.
  }
  return out;
}

function quoted(attrs: string, name: string): string | undefined {
  return new RegExp(`(?:^|,)\\s*${name}="([^"]*)"`).exec(attrs)?.[1];
}

function fromRegex(body: string): Ref[] {
  const out: Ref[] = [];
  for (const raw of body.split(/\r?\n|\r/)) {
    const m = /^#(EXT-X-[A-Z-]+):(.*)$/.exec(raw.trim());
    if (!m) continue;
    const [, tag, attrs] = m as unknown as [string, string, string];
    const uri = quoted(attrs, 'URI');
    if ((tag === 'EXT-X-KEY' || tag === 'EXT-X-SESSION-KEY') && uri && !/(^|,)\s*METHOD=NONE\b/.test(attrs))
      out.push({ uri, kind: 'key' });
    if (tag === 'EXT-X-SESSION-DATA' && uri) out.push({ uri, kind: 'data' });
    if (tag === 'EXT-X-IMAGE-STREAM-INF' && uri) out.push({ uri, kind: 'playlist', role: 'image' });
    if (tag === 'EXT-X-CONTENT-STEERING') {
      const s = quoted(attrs, 'SERVER-URI');
      if (s) out.push({ uri: s, kind: 'data' });
    }
    if (tag === 'EXT-X-DATERANGE') {
      const asset = quoted(attrs, 'X-ASSET-URI');
      const list = quoted(attrs, 'X-ASSET-LIST');
      if (asset) out.push({ uri: asset, kind: 'playlist', role: 'asset' });
      if (list) out.push({ uri: list, kind: 'data' });
    }
  }
  return out;
}

interface Resolved extends Ref {
  href: string;
  key: string;
}

// Many classes share playlists (every media playlist is also enumerated as a root of its own), and a URL's
// body does not change during a run: parse and resolve each URL once. Segments of a subtitles rendition
// are subtitles, and a report points at a rendition of the same type: both depend on the referrer.
const resolved = new Map<string, Resolved[]>();
function resolvedRefs(body: string, role: Role | undefined, url: string, master: URL, prefix: string): Resolved[] {
  const id = `${url}|${master.host}|${prefix}`;
  let out = resolved.get(id);
  if (!out) {
    out = [];
    for (const r of [...fromHlsParser(body), ...fromM3u8Parser(body), ...fromRegex(body)]) {
      let u: URL;
      try {
        u = new URL(r.uri.trim(), url);
      } catch {
        continue;
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') continue;
      out.push({ ...r, href: u.href, key: referenceKey(u, master, prefix) });
    }
    resolved.set(id, out);
  }
  return out.map((r) => ({
    ...r,
    kind: r.kind === 'segment' && role === 'subtitles' ? 'subtitle' : r.kind,
    role: r.role === 'report' ? (role ?? 'variant') : r.role,
  }));
}

/** Crawls a class with the two parsers and the regex scan; returns the files by key, or the first refused playlist. */
export async function referencePlan(masterUrl: string, fetchBody: BodyFetcher, prefix = ''): Promise<ReferenceResult> {
  const master = new URL(masterUrl);
  const files = new Map<string, ExpectedFile>();
  const add = (key: string, src: string, kind: FileKind): ExpectedFile => {
    const f = files.get(key) ?? { kinds: new Set<FileKind>(), srcs: [] };
    f.kinds.add(kind);
    if (!f.srcs.includes(src)) f.srcs.push(src);
    files.set(key, f);
    return f;
  };
  add(referenceKey(master, master, prefix), master.href, 'playlist');
  const seen = new Set([referenceKey(master, master, prefix)]);
  let queue: Array<{ url: string; role: Role | undefined }> = [{ url: master.href, role: undefined }];
  while (queue.length > 0) {
    const next: typeof queue = [];
    for (const item of queue) {
      const { url, body } = await fetchBody(item.url);
      if (!looksLikePlaylist(body)) return { refused: item.url };
      for (const r of resolvedRefs(body, item.role, url, master, prefix)) {
        const f = add(r.key, r.href, r.kind);
        if (r.kind === 'playlist' && !seen.has(r.key)) {
          seen.add(r.key);
          next.push({ url: f.srcs[0]!, role: r.role });
        }
      }
    }
    queue = next;
  }
  return { files };
}
