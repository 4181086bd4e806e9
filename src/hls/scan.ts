import { parseAttributes, type AttributeValue } from './attributes.ts';
import { PlaylistError } from './errors.ts';
import { readLines, type TagLine } from './lines.ts';
import { assertPlaylistText } from './signature.ts';
import type { FileKind } from './types.ts';
import { applyDefine, substitute, type VariableScope } from './variables.ts';

/** What a parent playlist made of a playlist it references; decides the kind of that playlist's segments. */
export type PlaylistRole = 'variant' | 'rendition' | 'subtitles' | 'iframe' | 'image' | 'asset';

/** A reference to another playlist, to fetch and scan in turn. */
export interface PlaylistLink {
  role: PlaylistRole;
  /** True for EXT-X-RENDITION-REPORT: the target is a sibling rendition, not one level deeper. */
  sameLevel: boolean;
  /** True for interstitial assets: a separate presentation that imports no variables. */
  newPresentation: boolean;
}

/** One URI a player could fetch, as found in one playlist. */
export interface Reference {
  /** The URI as written, after variable substitution. */
  uri: string;
  /** `uri` resolved against the playlist's URL; may have any scheme (the caller skips what it cannot fetch). */
  url: URL;
  kind: FileKind;
  /** The tag it came from (`URI` for a URI line). */
  tag: string;
  line: number;
  /** Set when the target is itself a playlist. */
  playlist?: PlaylistLink;
  /**
   * The sub-range a player fetches (EXT-X-BYTERANGE, or BYTERANGE= on EXT-X-MAP and EXT-X-PART) as
   * `length@offset`, an implicit offset made explicit; as written when it cannot be read.
   */
  range?: string;
}

export interface ScanContext {
  /** The playlist's URL after redirects: relative URIs resolve against it. */
  baseUrl: URL;
  /** The URL the playlist was requested with, when a redirect changed it. */
  requestUrl?: URL;
  /** How the parent referenced this playlist (undefined for the class's entry point). */
  role?: PlaylistRole;
  /** Variables of the multivariant playlist above, for EXT-X-DEFINE IMPORT. */
  importable?: ReadonlyMap<string, string>;
}

export interface PlaylistScan {
  type: 'multivariant' | 'media';
  references: Reference[];
  /** Variables the playlist defined, for the media playlists it references to IMPORT. */
  variables: ReadonlyMap<string, string>;
  /** The variables it IMPORTed from the multivariant playlist above: all it needs to be scanned again alone. */
  imported: ReadonlyMap<string, string>;
  /** A media playlist with EXT-X-ENDLIST: no segment will be added (RFC 8216 4.3.3.4), whatever its PLAYLIST-TYPE. */
  ended: boolean;
}

// Tags that only a multivariant (master) playlist carries.
const MULTIVARIANT_TAGS = new Set([
  'EXT-X-STREAM-INF',
  'EXT-X-I-FRAME-STREAM-INF',
  'EXT-X-IMAGE-STREAM-INF',
  'EXT-X-MEDIA',
  'EXT-X-SESSION-DATA',
  'EXT-X-SESSION-KEY',
  'EXT-X-CONTENT-STEERING',
]);

const CHILD = (role: PlaylistRole): PlaylistLink => ({ role, sameLevel: false, newPresentation: false });

/**
 * A byte range `n[@o]` as `n@o`, the offset taken from `next` (where the previous sub-range of the
 * same kind ended, else 0) when it is implicit; `end` is where it ends. Unreadable text stays as written.
 */
function explicitRange(raw: string, next: number | undefined): { range: string; end: number | undefined } {
  const m = /^\s*(\d+)\s*(?:@\s*(\d+))?\s*$/.exec(raw);
  if (!m) return { range: raw.trim(), end: undefined };
  const length = Number(m[1]);
  const offset = m[2] === undefined ? (next ?? 0) : Number(m[2]);
  return { range: `${length}@${offset}`, end: offset + length };
}

/**
 * Lists every URI in one playlist that a player could fetch for VOD playback, in document order.
 * Pure: text and URL in, references out; it never fetches, and never re-serializes the playlist.
 */
export function scanPlaylist(text: string, ctx: ScanContext): PlaylistScan {
  const lines = readLines(text);
  const url = ctx.baseUrl.href;
  assertPlaylistText(text, lines, url);
  const multivariant = lines.some((l) => l.type === 'tag' && MULTIVARIANT_TAGS.has(l.name));
  // A URI line that follows no EXT-X-STREAM-INF is junk in a pure multivariant playlist, but a segment as
  // soon as the playlist has any EXTINF (mixed playlists are invalid; losing a segment would be worse).
  const strayIsJunk = multivariant && !lines.some((l) => l.type === 'tag' && l.name === 'EXTINF');
  const scope: VariableScope = {
    url: ctx.baseUrl,
    requestUrl: ctx.requestUrl,
    multivariant,
    importable: ctx.importable,
  };
  const vars = new Map<string, string>();
  const imported = new Map<string, string>();
  const references: Reference[] = [];
  const segmentKind: FileKind = ctx.role === 'subtitles' ? 'subtitle' : 'segment';

  const add = (
    raw: string,
    kind: FileKind,
    tag: string,
    line: number,
    playlist?: PlaylistLink,
    range?: string,
  ): void => {
    const uri = substitute(raw, vars, scope, line).trim();
    // An empty URI would resolve to the playlist itself; it names nothing.
    if (uri === '') return;
    let resolved: URL;
    try {
      resolved = new URL(uri, ctx.baseUrl);
    } catch {
      throw new PlaylistError(
        'BAD_URI',
        `${url} line ${line}: ${tag} URI "${uri.slice(0, 200)}" is not a valid URI`,
        url,
      );
    }
    const ref: Reference = { uri, url: resolved, kind, tag, line };
    if (playlist) ref.playlist = playlist;
    if (range !== undefined) ref.range = range;
    references.push(ref);
  };
  const attr = (attrs: ReadonlyMap<string, AttributeValue>, name: string): string | undefined => attrs.get(name)?.value;

  let pendingVariant: TagLine | undefined;
  let gap = false;
  // EXT-X-BYTERANGE applies to the next URI line; an offset left out follows the previous sub-range.
  let pendingRange: string | undefined;
  let segmentEnd: number | undefined;
  let partEnd: number | undefined;
  for (const l of lines) {
    if (l.type === 'uri') {
      let range: string | undefined;
      if (pendingRange !== undefined) {
        const r = explicitRange(pendingRange, segmentEnd);
        range = r.range;
        segmentEnd = r.end;
      } else segmentEnd = undefined;
      // In a multivariant playlist only EXT-X-STREAM-INF takes a URI line; players ignore stray ones (real
      // packagers leave junk such as captured curl logs there). After EXT-X-GAP, "clients MUST NOT attempt
      // to load" the segment, which usually does not exist.
      if (pendingVariant) add(l.uri, 'playlist', pendingVariant.name, l.line, CHILD('variant'));
      else if (!strayIsJunk && !gap) add(l.uri, segmentKind, 'URI', l.line, undefined, range);
      pendingVariant = undefined;
      pendingRange = undefined;
      gap = false;
      continue;
    }
    const a = (): Map<string, AttributeValue> => parseAttributes(l.value);
    switch (l.name) {
      case 'EXT-X-DEFINE': {
        const attrs = a();
        applyDefine(attrs, vars, scope, l.line);
        const name = attrs.get('IMPORT')?.value;
        if (name !== undefined) imported.set(name, vars.get(name)!);
        break;
      }
      case 'EXT-X-BYTERANGE':
        pendingRange = l.value ?? '';
        break;
      case 'EXT-X-STREAM-INF':
        pendingVariant = l;
        break;
      case 'EXT-X-MEDIA': {
        const attrs = a();
        const type = attr(attrs, 'TYPE')?.toUpperCase();
        const uri = attr(attrs, 'URI');
        // Closed captions travel inside the video; a URI there is invalid and no player fetches it.
        if (uri === undefined || type === 'CLOSED-CAPTIONS') break;
        add(uri, 'playlist', l.name, l.line, CHILD(type === 'SUBTITLES' ? 'subtitles' : 'rendition'));
        break;
      }
      case 'EXT-X-I-FRAME-STREAM-INF':
      case 'EXT-X-IMAGE-STREAM-INF': {
        const uri = attr(a(), 'URI');
        if (uri !== undefined)
          add(uri, 'playlist', l.name, l.line, CHILD(l.name === 'EXT-X-I-FRAME-STREAM-INF' ? 'iframe' : 'image'));
        break;
      }
      case 'EXT-X-SESSION-DATA': {
        const uri = attr(a(), 'URI');
        if (uri !== undefined) add(uri, 'data', l.name, l.line);
        break;
      }
      case 'EXT-X-CONTENT-STEERING': {
        const uri = attr(a(), 'SERVER-URI');
        if (uri !== undefined) add(uri, 'data', l.name, l.line);
        break;
      }
      case 'EXT-X-KEY':
      case 'EXT-X-SESSION-KEY': {
        const attrs = a();
        const uri = attr(attrs, 'URI');
        if (uri !== undefined && attr(attrs, 'METHOD')?.toUpperCase() !== 'NONE') add(uri, 'key', l.name, l.line);
        break;
      }
      case 'EXT-X-MAP': {
        const attrs = a();
        const uri = attr(attrs, 'URI');
        const raw = attr(attrs, 'BYTERANGE');
        if (uri !== undefined)
          add(uri, 'init', l.name, l.line, undefined, raw === undefined ? undefined : explicitRange(raw, 0).range);
        break;
      }
      case 'EXT-X-PART': {
        const attrs = a();
        const uri = attr(attrs, 'URI');
        const raw = attr(attrs, 'BYTERANGE');
        const r = raw === undefined ? undefined : explicitRange(raw, partEnd);
        partEnd = r?.end;
        // GAP=YES: the partial segment is unavailable; players never request it.
        if (uri !== undefined && attr(attrs, 'GAP')?.toUpperCase() !== 'YES')
          add(uri, segmentKind, l.name, l.line, undefined, r?.range);
        break;
      }
      case 'EXT-X-RENDITION-REPORT': {
        const uri = attr(a(), 'URI');
        if (uri !== undefined)
          add(uri, 'playlist', l.name, l.line, {
            role: ctx.role ?? 'variant',
            sameLevel: true,
            newPresentation: false,
          });
        break;
      }
      case 'EXT-X-DATERANGE': {
        const attrs = a();
        const asset = attr(attrs, 'X-ASSET-URI');
        const list = attr(attrs, 'X-ASSET-LIST');
        if (asset !== undefined)
          add(asset, 'playlist', l.name, l.line, { role: 'asset', sameLevel: false, newPresentation: true });
        if (list !== undefined) add(list, 'data', l.name, l.line);
        break;
      }
      case 'EXT-X-GAP':
        gap = true;
        break;
      // EXT-X-PRELOAD-HINT names a resource that may not exist yet (live only): skipped for VOD.
      default:
        break;
    }
  }
  const ended = lines.some((l) => l.type === 'tag' && l.name === 'EXT-X-ENDLIST');
  return { type: multivariant ? 'multivariant' : 'media', references, variables: vars, imported, ended };
}
