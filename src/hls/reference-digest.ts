import { createHash } from 'node:crypto';
import { isFetchableScheme } from '../domain/origin/hosts.ts';
import { keyForUrl } from './keys.ts';
import { scanPlaylist, type PlaylistScan } from './scan.ts';
import { isMpdText, scanMpd } from '../dash/scan.ts';
import { baseUrlRule, type MpdRules } from '../dash/hosts.ts';

/** Where a playlist's references land in the class's layout. */
export interface ReferenceKeying {
  /**
   * Where the playlist sits in the layout: its URL as referenced (query and all), unless a redirect
   * above it moved where it is fetched from (docs/hls.md, "Redirects"). Relative references are keyed from here.
   */
  keyBase: URL;
  /** The class's master playlist (only a local file: plan reads it). */
  masterUrl: URL;
  /** The class's key root, `DEST_PREFIX<class>/`: keys are digested relative to it. */
  root: string;
}

/**
 * What makes two versions of a playlist the same playlist: the files it names, in order, each as
 * the key it is copied to, with what decides what a player fetches from it (its kind, its byte
 * range). Not its bytes: tokens in query strings (keys drop them), comments, dates and durations
 * differ from one request to the next on many CDNs without naming another file. Subtitle segments
 * count as segments (the kind follows the parent's role, which a playlist read alone does not know).
 * Whether a media playlist has EXT-X-ENDLIST counts too: without it a player polls for more, and a
 * body cut short by a connection's close loses it first. Throws what `keyForUrl` throws for a
 * reference no key can hold.
 */
export function referenceDigest(scan: Pick<PlaylistScan, 'references' | 'ended'>, k: ReferenceKeying): string {
  const h = createHash('sha256');
  h.update(scan.ended ? 'ended\n' : 'open\n');
  const files = k.masterUrl.protocol === 'file:';
  for (const ref of scan.references) {
    // What the crawler does not follow is not copied, so it names no file of the copy.
    if (!isFetchableScheme(ref.url) && !(files && ref.url.protocol === 'file:')) continue;
    const key = keyForUrl(new URL(ref.uri, k.keyBase), k.masterUrl, k.root).slice(k.root.length);
    const kind = ref.kind === 'subtitle' ? 'segment' : ref.kind;
    h.update(`${kind}\t${ref.range ?? ''}\t${key}\n`);
  }
  return h.digest('hex');
}

/** A playlist as read again after the crawl (the transfer, a change check), with what scanning it alone needs. */
export interface PlaylistRead {
  /** The URL it was requested with. */
  src: string;
  /** The URL it was served from, after redirects. */
  finalUrl: string;
  /** Where it sits in the layout when that is not `src` (see `ReferenceKeying.keyBase`). */
  base?: string | undefined;
  /** Variables it IMPORTs from the multivariant playlist above, as the crawl found them. */
  vars?: Readonly<Record<string, string>> | undefined;
  /** The class's key root. */
  root: string;
  /** For a DASH manifest: the hosts and bounds the crawl read it with (the BaseURL it follows depends on the hosts). */
  dash?: MpdRules;
}

/**
 * The reference digest of a playlist read alone, scanned exactly as the crawler scans it (same
 * scanner, base URL after redirects, QUERYPARAM from the requested URL, imported variables). Throws
 * PlaylistError when the text is not a playlist the crawler would accept.
 */
export function digestOfPlaylist(text: string, at: PlaylistRead): string {
  if (isMpdText(text)) {
    // Every DASH reference resolves from BaseURLs: scanned from where the layout puts the manifest, its URIs are its keys.
    const keyBase = new URL(at.base ?? at.src);
    const r = at.dash ?? {};
    const scan = scanMpd(text, {
      baseUrl: keyBase,
      allowHost: baseUrlRule(r.allowedHosts),
      ...(r.maxPeriods !== undefined ? { maxPeriods: r.maxPeriods } : {}),
      ...(r.maxSegments !== undefined ? { maxSegments: r.maxSegments } : {}),
      ...(r.maxReferences !== undefined ? { maxReferences: r.maxReferences } : {}),
    });
    return referenceDigest(scan, { keyBase, masterUrl: keyBase, root: at.root });
  }
  const scan = scanPlaylist(text, {
    baseUrl: new URL(at.finalUrl),
    ...(at.finalUrl !== at.src ? { requestUrl: new URL(at.src) } : {}),
    ...(at.vars ? { importable: new Map(Object.entries(at.vars)) } : {}),
  });
  const keyBase = new URL(at.base ?? at.src);
  return referenceDigest(scan, { keyBase, masterUrl: keyBase, root: at.root });
}
