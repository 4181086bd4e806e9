/** One attribute of a tag's attribute list; `quoted` says it was a quoted-string (variables apply only there). */
export interface AttributeValue {
  value: string;
  quoted: boolean;
}

/**
 * Parses an attribute list such as `TYPE=AUDIO,URI="a,b.m3u8"` into upper-cased names. Lenient on purpose:
 * real packagers write spaces after commas, trailing commas and unterminated quotes, and players cope.
 */
export function parseAttributes(text: string | undefined): Map<string, AttributeValue> {
  const out = new Map<string, AttributeValue>();
  if (!text) return out;
  const n = text.length;
  let i = 0;
  // Separators and spaces before a name need no loop of their own: a leading comma makes a bare token, spaces are trimmed.
  while (i < n) {
    const eq = text.indexOf('=', i);
    const comma = text.indexOf(',', i);
    if (eq < 0 || (comma >= 0 && comma < eq)) {
      // A bare token without "=": not an attribute, skip it.
      i = comma < 0 ? n : comma + 1;
      continue;
    }
    const name = text.slice(i, eq).trim().toUpperCase();
    i = eq + 1;
    while (text[i] === ' ' || text[i] === '\t') i++;
    if (text[i] === '"') {
      let end = text.indexOf('"', i + 1);
      if (end < 0) end = n;
      out.set(name, { value: text.slice(i + 1, end), quoted: true });
      const next = text.indexOf(',', end);
      i = next < 0 ? n : next + 1;
    } else {
      let end = text.indexOf(',', i);
      if (end < 0) end = n;
      out.set(name, { value: text.slice(i, end).trim(), quoted: false });
      i = end + 1;
    }
  }
  return out;
}
