import { parseAttributes } from '../hls/attributes.ts';
import { readLines } from '../hls/lines.ts';

/** One `length[@offset]` byte range (RFC 8216 §4.3.2.2). */
interface RangeSpec {
  length: number;
  offset: number | undefined;
}

function parseRange(raw: string | undefined): RangeSpec | undefined {
  const m = /^\s*(\d+)(?:@(\d+))?\s*$/.exec(raw ?? '');
  if (!m) return undefined;
  return { length: Number(m[1]), offset: m[2] === undefined ? undefined : Number(m[2]) };
}

function resolve(uri: string, base: URL): string | undefined {
  // A URI with variables needs EXT-X-DEFINE substitution: leave that file to a size probe.
  if (uri.includes('{$')) return undefined;
  try {
    const url = new URL(uri, base);
    url.hash = '';
    return url.href;
  } catch {
    return undefined;
  }
}

/**
 * Reads the sizes a media playlist gives for byte-ranged files: for every URL referenced with
 * EXT-X-BYTERANGE (or an EXT-X-MAP BYTERANGE), the end of its furthest range. That end is where
 * the referenced media stops; a packager may leave a few trailing bytes (an index box) after it,
 * so this is a floor that saves one size request per byte-ranged file. Pure; keys are absolute
 * URLs resolved against `baseUrl` (the playlist's URL after redirects), as the enumeration does.
 */
export function byteRangeEnds(text: string, baseUrl: URL): Map<string, number> {
  const ends = new Map<string, number>();
  const note = (href: string | undefined, start: number, length: number) => {
    if (href === undefined) return;
    ends.set(href, Math.max(ends.get(href) ?? 0, start + length));
  };
  let pending: RangeSpec | undefined;
  // Without "@offset", a segment's range starts where the previous segment's range ended (same resource).
  let previous: { href: string | undefined; end: number } | undefined;
  for (const line of readLines(text)) {
    if (line.type === 'uri') {
      if (pending) {
        const href = resolve(line.uri, baseUrl);
        const start = pending.offset ?? (previous && previous.href === href ? previous.end : 0);
        note(href, start, pending.length);
        previous = { href, end: start + pending.length };
      } else {
        previous = undefined;
      }
      pending = undefined;
      continue;
    }
    if (line.name === 'EXT-X-BYTERANGE') {
      pending = parseRange(line.value);
    } else if (line.name === 'EXT-X-MAP') {
      const attrs = parseAttributes(line.value);
      const uri = attrs.get('URI')?.value;
      const range = parseRange(attrs.get('BYTERANGE')?.value);
      // An EXT-X-MAP byte range must carry its offset; without one it starts at 0.
      if (uri !== undefined && range) note(resolve(uri, baseUrl), range.offset ?? 0, range.length);
    }
  }
  return ends;
}
