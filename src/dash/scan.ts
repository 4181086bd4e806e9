// Over 400 lines on purpose: one MPD's addressing rules (BaseURL, SegmentTemplate/List/Base, periods) are one walk of the tree; split, each part would need the whole inherited context.
/**
 * Lists every file a DASH player could fetch for VOD playback from one MPD (ISO/IEC 23009-1):
 * the sibling of src/hls/scan.ts, returning the same scan shape so enumeration, keys, limits and the
 * reference digest treat both alike. Pure: text and URL in, references out; it never fetches.
 */
import { XMLParser } from 'fast-xml-parser';
import { PlaylistError } from '../hls/errors.ts';
import type { PlaylistScan, Reference } from '../hls/scan.ts';
import type { FileKind } from '../hls/types.ts';
import {
  DashRuleError,
  expandTemplate,
  parseDuration,
  parseUnsigned,
  rangeOf,
  templateSegmentCount,
  timelineSegments,
  type TemplateValues,
  type TimelineEntry,
} from './template.ts';

/** Defaults of the DASH bounds (config: DASH_MAX_PERIODS, DASH_MAX_SEGMENTS). */
export const DEFAULT_MAX_PERIODS = 1000;
export const DEFAULT_MAX_SEGMENTS = 100_000;
export const DEFAULT_MAX_REFERENCES = 1_000_000;

export interface MpdScanContext {
  /** The manifest's URL (after redirects, or where the layout puts it): relative BaseURLs resolve against it. */
  baseUrl: URL;
  /**
   * Whether a BaseURL may be followed (ORIGIN_ALLOWED_HOSTS): of several at one level the first
   * allowed one is used. Unset: the first (what a player of the copy does).
   */
  allowHost?: (url: URL) => boolean;
  maxPeriods?: number;
  /** Most segments one Representation may list (in one Period). */
  maxSegments?: number;
  /**
   * Most references the whole manifest may name, repeats included (default 1,000,000; enumeration
   * passes 4 x HLS_MAX_FILES): bounds the memory of a scan before files are deduplicated and counted.
   */
  maxReferences?: number;
}

// The prolog (declaration, comments, a DOCTYPE with or without an internal subset), then the root element MPD.
const MPD_ROOT =
  /^\uFEFF?\s*(?:<\?[^>]*\?>\s*|<!--(?:[^-]|-(?!->))*-->\s*|<!DOCTYPE[^[>]*(?:\[[^\]]*\])?\s*>\s*)*<(?:[A-Za-z_][\w.-]*:)?MPD[\s>/]/;

/**
 * True when a fetched manifest body is a DASH MPD (its root element is MPD) rather than HLS text.
 * Anything else (HTML error pages included) is left to the HLS scanner, which refuses it as no playlist.
 */
export function isMpdText(text: string): boolean {
  return MPD_ROOT.test(text.slice(0, 65_536));
}

/** An XML element as the parser gives it: attributes under "@name", children by name, text under "#text". */
type XmlNode = Record<string, unknown>;

// Elements that may repeat: always arrays, so one and several read alike.
const REPEATED = new Set([
  'Period',
  'AdaptationSet',
  'Representation',
  'BaseURL',
  'S',
  'SegmentURL',
  'SegmentTemplate',
  'SegmentList',
  'SegmentBase',
  'SegmentTimeline',
  'Initialization',
  'RepresentationIndex',
]);

const PREDEFINED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** XML's Char production (XML 1.0 §2.2): what a character reference may name. */
function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

/** A text or attribute value with its entities and character references read; anything else stays as written. */
export function decodeXmlText(value: string): string {
  return value.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_whole, ref: string) => {
    if (!ref.startsWith('#')) return PREDEFINED[ref]!;
    const cp = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : Number(ref.slice(1));
    if (!isXmlChar(cp)) throw new Error(`the character reference &${ref}; names no XML character`);
    return String.fromCodePoint(cp);
  });
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  // xlink:href reads as @href; DASH has no other href attribute.
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  // Texts and attribute values arrive trimmed (every Unicode space, as String.trim): nothing below trims again.
  trimValues: true,
  // Only the five predefined entities and character references (XML 1.0 §4.1, §4.6): a DOCTYPE (the only
  // way to define others) is refused before parsing. The parser's own decoding leaves character references
  // as written, so values are decoded here, in one pass (an escaped `&amp;#38;` stays the text `&#38;`).
  processEntities: false,
  tagValueProcessor: (_name: string, value: string) => decodeXmlText(value),
  attributeValueProcessor: (_name: string, value: string) => decodeXmlText(value),
  // Stryker disable next-line BooleanLiteral: a kept declaration is a sibling of MPD, which nothing reads
  ignoreDeclaration: true,
  // Stryker disable next-line BooleanLiteral: a kept processing instruction is a child no rule reads
  ignorePiTags: true,
  maxNestedTags: 32,
  isArray: (name) => REPEATED.has(name),
});

const RESOLVE_TO_ZERO = 'urn:mpeg:dash:resolve-to-zero:2013';

function fail(code: 'NOT_A_PLAYLIST' | 'MANIFEST_UNSUPPORTED' | 'TOO_MANY_FILES', url: string, why: string): never {
  throw new PlaylistError(code, `${url}: ${why}`, url);
}

function parse(text: string, url: string): XmlNode {
  if (text.includes('\u0000')) fail('NOT_A_PLAYLIST', url, 'not a DASH manifest: the body is binary');
  // No DOCTYPE, so no entity can be declared, expanded or fetched (billion laughs, XXE).
  if (/<!(DOCTYPE|ENTITY)/i.test(text))
    fail('NOT_A_PLAYLIST', url, 'the DASH manifest has a DOCTYPE or ENTITY declaration, which FLAnts never reads');
  let doc: unknown;
  try {
    doc = parser.parse(text, true);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    fail('NOT_A_PLAYLIST', url, `neither an HLS playlist nor a well-formed DASH manifest (${why.slice(0, 200)})`);
  }
  const mpd = (doc as XmlNode | undefined)?.MPD;
  if (mpd === undefined || Array.isArray(mpd))
    fail('NOT_A_PLAYLIST', url, 'an XML document whose root is not one MPD element: not a DASH manifest');
  return node(mpd);
}

/** An element with neither attributes nor children parses as "" (or its text): read it as an empty element. */
function node(v: unknown): XmlNode {
  return typeof v === 'object' && v !== null ? (v as XmlNode) : {};
}

function children(n: XmlNode | undefined, name: string): XmlNode[] {
  const v = n?.[name];
  return Array.isArray(v) ? v.map(node) : [];
}

function first(n: XmlNode | undefined, name: string): XmlNode | undefined {
  return children(n, name)[0];
}

function attr(n: XmlNode | undefined, name: string): string | undefined {
  const v = n?.[`@${name}`];
  return typeof v === 'string' ? v : undefined;
}

function textOf(v: unknown): string {
  if (typeof v === 'string') return v;
  const t = node(v)['#text'];
  return typeof t === 'string' ? t : '';
}

/** The Period, AdaptationSet and Representation around one Representation, outermost first. */
type Levels = readonly [XmlNode, XmlNode, XmlNode];

const SEGMENT_INFO = ['SegmentTemplate', 'SegmentList', 'SegmentBase'] as const;
type SegmentInfoType = (typeof SEGMENT_INFO)[number];

/**
 * The segment information that applies to a Representation (5.3.9.1): the type the innermost level
 * declares; its attributes inherited level by level (the inner one wins), its child elements from
 * the innermost level that has them.
 */
function segmentInfo(levels: Levels): { type: SegmentInfoType; attrs: Map<string, string>; at: XmlNode[] } | undefined {
  for (const level of [...levels].reverse()) {
    const type = SEGMENT_INFO.find((t) => first(level, t) !== undefined);
    if (!type) continue;
    const at = levels.map((l) => first(l, type)).filter((e): e is XmlNode => e !== undefined);
    const attrs = new Map<string, string>();
    for (const e of at)
      for (const [k, v] of Object.entries(e)) if (k.startsWith('@') && typeof v === 'string') attrs.set(k.slice(1), v);
    return { type, attrs, at: at.reverse() };
  }
  return undefined;
}

/** The innermost of these elements' children called `name`. */
function innermost(at: readonly XmlNode[], name: string): XmlNode | undefined {
  for (const e of at) {
    const c = first(e, name);
    if (c) return c;
  }
  return undefined;
}

function inherited(levels: Levels, name: string): string | undefined {
  for (const level of [...levels].reverse()) {
    const v = attr(level, name);
    if (v !== undefined) return v;
  }
  return undefined;
}

/** An inherited attribute in lower case, '' when no level sets it. */
function lowerCase(levels: Levels, name: string): string {
  // Stryker disable next-line StringLiteral: any stand-in for a missing attribute that names no text type reads the same
  return inherited(levels, name)?.toLowerCase() ?? '';
}

/** Subtitles: a text adaptation set, a text/TTML MIME type, or WebVTT/TTML in MP4 (wvtt, stpp). */
function isText(levels: Levels): boolean {
  const contentType = lowerCase(levels, 'contentType');
  const mime = lowerCase(levels, 'mimeType');
  const codecs = lowerCase(levels, 'codecs');
  return (
    contentType === 'text' ||
    mime.startsWith('text/') ||
    mime === 'application/ttml+xml' ||
    /(^|,)\s*(wvtt|stpp)/.test(codecs)
  );
}

/**
 * Lists the references of one MPD in document order. A dynamic MPD is reported not `ended` (the
 * crawler waits for it like a growing HLS playlist). Throws PlaylistError for what FLAnts refuses.
 */
export function scanMpd(text: string, ctx: MpdScanContext): PlaylistScan {
  const where = ctx.baseUrl.href;
  try {
    return scan(text, ctx);
  } catch (err) {
    if (err instanceof DashRuleError) throw new PlaylistError(err.code, `${where}: ${err.message}`, where);
    throw err;
  }
}

function scan(text: string, ctx: MpdScanContext): PlaylistScan {
  const where = ctx.baseUrl.href;
  const mpd = parse(text, where);
  const allowHost = ctx.allowHost ?? (() => true);
  const maxPeriods = ctx.maxPeriods ?? DEFAULT_MAX_PERIODS;
  const maxSegments = ctx.maxSegments ?? DEFAULT_MAX_SEGMENTS;
  const maxReferences = ctx.maxReferences ?? DEFAULT_MAX_REFERENCES;
  const dynamic = attr(mpd, 'type') === 'dynamic';
  const references: Reference[] = [];

  const resolve = (raw: string, base: URL, what: string): URL => {
    try {
      return new URL(raw, base);
    } catch {
      return fail('NOT_A_PLAYLIST', where, `${what} "${raw.slice(0, 200)}" is not a valid URI`);
    }
  };
  /** The BaseURL a level sets: the first allowed one of several, resolved against the level above. */
  const baseOf = (level: XmlNode, parent: URL, what: string): { url: URL; own: boolean } => {
    const raw = level.BaseURL;
    const listed = (Array.isArray(raw) ? raw : []).map(textOf);
    if (listed.length === 0) return { url: parent, own: false };
    const urls = listed.map((b) => resolve(b, parent, `${what} BaseURL`));
    const allowed = urls.find((u) => allowHost(u));
    if (!allowed)
      throw new PlaylistError(
        'HOST_NOT_ALLOWED',
        `${where}: no BaseURL of the ${what} is on a host in ORIGIN_ALLOWED_HOSTS (${urls.map((u) => u.href).join(', ')})`,
        urls[0]!.href,
      );
    return { url: allowed, own: true };
  };
  const add = (raw: string, base: URL, kind: FileKind, tag: string, range?: string): void => {
    if (raw === '') return;
    if (references.length >= maxReferences)
      fail(
        'TOO_MANY_FILES',
        where,
        `the manifest names more than ${maxReferences} files, repeats included (HLS_MAX_FILES)`,
      );
    const url = resolve(raw, base, tag);
    const ref: Reference = { uri: url.href, url, kind, tag, line: 0 };
    if (range !== undefined) ref.range = rangeOf(range);
    references.push(ref);
  };
  /** xlink:href on an element: resolve-to-zero removes it; anything else would need another document. */
  const xlinked = (e: XmlNode, what: string): boolean => {
    const href = attr(e, 'href');
    if (href === undefined) return false;
    if (href === RESOLVE_TO_ZERO) return true;
    return fail(
      'MANIFEST_UNSUPPORTED',
      where,
      `the ${what} has xlink:href="${href.slice(0, 200)}": remote elements are not followed; serve the manifest with the element resolved in place`,
    );
  };

  const mpdDuration = attr(mpd, 'mediaPresentationDuration');
  const presentationEnd = mpdDuration === undefined ? undefined : parseDuration(mpdDuration);
  const root = baseOf(mpd, ctx.baseUrl, 'MPD').url;
  const periods = children(mpd, 'Period');
  if (periods.length > maxPeriods)
    fail(
      'TOO_MANY_FILES',
      where,
      `the manifest has ${periods.length} Periods, more than ${maxPeriods} (DASH_MAX_PERIODS)`,
    );
  // Period starts (5.3.2.1): @start, else the previous Period's start plus its duration, else 0 for the first.
  const starts: Array<number | undefined> = [];
  periods.forEach((p, i) => {
    const s = attr(p, 'start');
    const prev = starts[i - 1];
    const prevDuration = attr(periods[i - 1], 'duration');
    starts.push(
      s !== undefined
        ? parseDuration(s)
        : i === 0
          ? 0
          : prev !== undefined && prevDuration !== undefined
            ? prev + parseDuration(prevDuration)
            : undefined,
    );
  });

  periods.forEach((period, pi) => {
    if (xlinked(period, `Period #${pi + 1}`)) return;
    const start = starts[pi];
    const own = attr(period, 'duration');
    const nextStart = starts[pi + 1];
    const seconds =
      own !== undefined
        ? parseDuration(own)
        : start !== undefined && nextStart !== undefined
          ? nextStart - start
          : start !== undefined && pi === periods.length - 1 && presentationEnd !== undefined
            ? presentationEnd - start
            : undefined;
    const pBase = baseOf(period, root, `Period #${pi + 1}`);
    children(period, 'AdaptationSet').forEach((set, ai) => {
      if (xlinked(set, `AdaptationSet #${ai + 1} of Period #${pi + 1}`)) return;
      const aBase = baseOf(set, pBase.url, `AdaptationSet #${ai + 1} of Period #${pi + 1}`);
      children(set, 'Representation').forEach((rep, ri) => {
        const what = `Representation "${attr(rep, 'id') ?? `#${ri + 1}`}" of Period #${pi + 1}`;
        const rBase = baseOf(rep, aBase.url, what);
        const levels: Levels = [period, set, rep];
        const media: FileKind = isText(levels) ? 'subtitle' : 'segment';
        const base = rBase.url;
        const values: TemplateValues = { RepresentationID: attr(rep, 'id') };
        const bandwidth = attr(rep, 'bandwidth');
        if (bandwidth !== undefined) values.Bandwidth = parseUnsigned(bandwidth, `${what} bandwidth`);
        const info = segmentInfo(levels);
        const hasOwnBase = pBase.own || aBase.own || rBase.own;
        if (!info) {
          // A single-file Representation: its BaseURL is the file.
          if (hasOwnBase) add(base.href, base, media, 'BaseURL');
          return;
        }
        const a = (name: string): string | undefined => info.attrs.get(name);
        const init = innermost(info.at, 'Initialization');
        const index = innermost(info.at, 'RepresentationIndex');
        const withRange = (e: XmlNode | undefined, kind: FileKind, tag: string): void => {
          const src = attr(e, 'sourceURL');
          // Without sourceURL the range is in the Representation's own file, listed as its media.
          if (src !== undefined) add(src, base, kind, tag, attr(e, 'range'));
        };
        switch (info.type) {
          case 'SegmentBase':
            withRange(init, 'init', 'Initialization');
            withRange(index, 'data', 'RepresentationIndex');
            add(base.href, base, media, 'BaseURL');
            return;
          case 'SegmentList': {
            withRange(init, 'init', 'Initialization');
            withRange(index, 'data', 'RepresentationIndex');
            if (init && attr(init, 'sourceURL') === undefined)
              add(base.href, base, 'init', 'Initialization', attr(init, 'range'));
            const list = info.at.find((e) => children(e, 'SegmentURL').length > 0);
            const urls = children(list, 'SegmentURL');
            if (urls.length > maxSegments)
              fail(
                'TOO_MANY_FILES',
                where,
                `${what} lists ${urls.length} segments, more than ${maxSegments} (DASH_MAX_SEGMENTS)`,
              );
            for (const u of urls) {
              add(attr(u, 'media') ?? base.href, base, media, 'SegmentURL', attr(u, 'mediaRange'));
              const idx = attr(u, 'index');
              if (idx !== undefined) add(idx, base, 'data', 'SegmentURL@index', attr(u, 'indexRange'));
            }
            return;
          }
          case 'SegmentTemplate': {
            const timescale = Number(a('timescale') ?? '1');
            if (!(timescale > 0))
              fail('NOT_A_PLAYLIST', where, `${what} has timescale="${a('timescale')}": it must be positive`);
            const startNumber = parseUnsigned(a('startNumber') ?? '1', `${what} startNumber`);
            const initTemplate = a('initialization');
            if (initTemplate !== undefined)
              add(expandTemplate(initTemplate, values), base, 'init', 'SegmentTemplate@initialization');
            else withRange(init, 'init', 'Initialization');
            const switching = a('bitstreamSwitching');
            if (switching !== undefined && switching !== 'true' && switching !== 'false')
              add(expandTemplate(switching, values), base, 'init', 'SegmentTemplate@bitstreamSwitching');
            const indexTemplate = a('index');
            if (indexTemplate !== undefined)
              add(expandTemplate(indexTemplate, values), base, 'data', 'SegmentTemplate@index');
            const template = a('media');
            if (template === undefined) return;
            const timeline = innermost(info.at, 'SegmentTimeline');
            if (timeline) {
              const entries: TimelineEntry[] = children(timeline, 'S').map((s, k) => {
                const t = attr(s, 't');
                const r = attr(s, 'r');
                const e: TimelineEntry = { d: parseUnsigned(attr(s, 'd') ?? '', `${what} S #${k + 1} d`) };
                if (t !== undefined) e.t = parseUnsigned(t, `${what} S #${k + 1} t`);
                if (r !== undefined) {
                  if (!/^\s*-?\d+\s*$/.test(r)) fail('NOT_A_PLAYLIST', where, `${what} S #${k + 1} has r="${r}"`);
                  e.r = BigInt(r);
                }
                return e;
              });
              const pto = parseUnsigned(a('presentationTimeOffset') ?? '0', `${what} presentationTimeOffset`);
              const end = seconds === undefined ? undefined : pto + BigInt(Math.round(seconds * timescale));
              for (const seg of timelineSegments(entries, { startNumber, end, max: maxSegments }))
                add(
                  expandTemplate(template, { ...values, Number: seg.number, Time: seg.time }),
                  base,
                  media,
                  'SegmentTemplate@media',
                );
              return;
            }
            const duration = a('duration');
            if (duration === undefined) {
              // No duration and no timeline: one segment, which may only be addressed without $Number$/$Time$.
              add(expandTemplate(template, values), base, media, 'SegmentTemplate@media');
              return;
            }
            if (seconds === undefined)
              fail(
                'MANIFEST_UNSUPPORTED',
                where,
                `${what} has a SegmentTemplate@duration but the Period has no known duration (no Period@duration, next Period@start or MPD@mediaPresentationDuration), so its segments cannot be counted${dynamic ? ' (a live manifest: copy it once the origin publishes it as static)' : ''}`,
              );
            const endNumber = a('endNumber');
            const count = templateSegmentCount({
              periodSeconds: seconds,
              segmentDuration: Number(duration),
              timescale,
              startNumber: Number(startNumber),
              endNumber: endNumber === undefined ? undefined : Number(parseUnsigned(endNumber, `${what} endNumber`)),
              max: maxSegments,
            });
            for (let k = 0; k < count; k++)
              add(
                expandTemplate(template, { ...values, Number: startNumber + BigInt(k) }),
                base,
                media,
                'SegmentTemplate@media',
              );
            return;
          }
        }
      });
    });
  });
  return { type: 'media', references, variables: new Map(), imported: new Map(), ended: !dynamic };
}
