/** A tag line, split at its first colon: `#EXT-X-MAP:URI="a"` → name `EXT-X-MAP`, value `URI="a"`. */
export interface TagLine {
  type: 'tag';
  name: string;
  value: string | undefined;
  /** 1-based line number, for error messages. */
  line: number;
}

/** A line that is neither blank nor starts with "#": a URI. */
export interface UriLine {
  type: 'uri';
  uri: string;
  line: number;
}

export type PlaylistLine = TagLine | UriLine;

/** Splits playlist text into tags and URI lines; tolerates a BOM, CRLF or CR, blank lines, comments and padding. */
export function readLines(text: string): PlaylistLine[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const out: PlaylistLine[] = [];
  const raw = body.split(/\r\n|\r|\n/);
  for (let i = 0; i < raw.length; i++) {
    const line = raw[i]!.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      // Only "#EXT" starts a tag; any other "#" line is a comment (RFC 8216 §4.1).
      if (!line.startsWith('#EXT')) continue;
      const colon = line.indexOf(':');
      out.push(
        colon < 0
          ? { type: 'tag', name: line.slice(1).trim(), value: undefined, line: i + 1 }
          : { type: 'tag', name: line.slice(1, colon).trim(), value: line.slice(colon + 1).trim(), line: i + 1 },
      );
      continue;
    }
    out.push({ type: 'uri', uri: line, line: i + 1 });
  }
  return out;
}
