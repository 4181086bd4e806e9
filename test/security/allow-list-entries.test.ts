// ORIGIN_ALLOWED_HOSTS is the one list of hosts FLAnts may fetch from: an entry must admit exactly
// what it names and nothing more, and an entry that would admit more than its author meant is refused.
import { describe, expect, it } from 'vitest';
import {
  AllowEntryError,
  isFetchableScheme,
  isHostAllowed,
  matchingEntry,
  parseAllowEntry,
} from '../../src/domain/origin/hosts.ts';

const allowed = (url: string, entries: string[]): boolean => isHostAllowed(new URL(url), entries);

/** The message of the AllowEntryError parsing `raw` throws (any other outcome fails the test). */
function refusal(raw: string): string {
  try {
    parseAllowEntry(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(AllowEntryError);
    return (err as Error).message;
  }
  throw new Error(`expected "${raw}" to be refused`);
}

describe('an allow-list entry admits exactly what it names', () => {
  it('an IP entry admits that IP literal only, never another IP on the same port, nor a name', () => {
    expect(allowed('http://127.0.0.1:8080/x', ['127.0.0.1:8080'])).toBe(true);
    expect(allowed('http://127.0.0.2:8080/x', ['127.0.0.1:8080'])).toBe(false);
    expect(allowed('http://10.0.0.5/x', ['127.0.0.1'])).toBe(false);
    expect(allowed('http://[::2]:9000/x', ['[::1]:9000'])).toBe(false);
    expect(allowed('http://[::ffff:127.0.0.1]:8080/x', ['127.0.0.1:8080'])).toBe(false);
    expect(allowed('http://localhost:8080/x', ['127.0.0.1:8080'])).toBe(false);
  });

  it('a name entry admits that name only, never a sibling, a parent or a child', () => {
    expect(allowed('https://cdn.example.com/x', ['cdn.example.com'])).toBe(true);
    expect(allowed('https://other.example.com/x', ['cdn.example.com'])).toBe(false);
    expect(allowed('https://example.com/x', ['cdn.example.com'])).toBe(false);
    expect(allowed('https://a.cdn.example.com/x', ['cdn.example.com'])).toBe(false);
  });

  it('a name entry never admits an IP literal', () => {
    expect(allowed('http://127.0.0.1/x', ['cdn.example.com'])).toBe(false);
    expect(allowed('http://[::1]/x', ['cdn.example.com', '*.example.com'])).toBe(false);
  });

  it("a URL without a port is on its scheme's port: https on 443, http on 80", () => {
    expect(allowed('https://cdn.example.com/x', ['cdn.example.com:443'])).toBe(true);
    expect(allowed('http://cdn.example.com/x', ['cdn.example.com:443'])).toBe(false);
    expect(allowed('http://cdn.example.com/x', ['cdn.example.com:80'])).toBe(true);
    expect(allowed('https://cdn.example.com/x', ['cdn.example.com:80'])).toBe(false);
  });

  it('says which entry admitted a URL, the first that does', () => {
    const url = new URL('https://a.example.com/x');
    expect(matchingEntry(url, ['cdn.example.com', '*.example.com', 'a.example.com'])).toEqual({
      kind: 'wildcard',
      host: 'example.com',
      port: undefined,
    });
    expect(matchingEntry(url, ['cdn.example.com'])).toBeUndefined();
  });

  it('an invalid entry admits nothing, and does not stop the entries after it', () => {
    expect(allowed('https://cdn.example.com/x', ['https://cdn.example.com'])).toBe(false);
    expect(allowed('https://cdn.example.com/x', ['*.com', 'cdn.example.com'])).toBe(true);
  });

  it('reads an entry trimmed and in lower case, whatever the list gave', () => {
    expect(parseAllowEntry('  CDN.Example.COM:8443 ')).toEqual({ kind: 'name', host: 'cdn.example.com', port: 8443 });
    expect(refusal(' HTTP://CDN.example.com ')).toBe(
      'entry "http://cdn.example.com" must be a host, not a URL (no scheme, path, user or query)',
    );
  });
});

describe('entries refused because they would admit more than meant, or nothing clear', () => {
  const PUBLIC_SECOND_LEVEL = [
    'ac', 'co', 'com', 'edu', 'gob', 'gov', 'govt', 'gv', 'go', 'info', 'ltd',
    'me', 'mil', 'ne', 'net', 'nhs', 'nic', 'or', 'org', 'plc', 'sch',
  ]; // prettier-ignore

  it.each(PUBLIC_SECOND_LEVEL)('refuses a wildcard over the public suffix %s.<country>', (label) => {
    expect(refusal(`*.${label}.uk`)).toMatch(/is a public suffix/);
    expect(refusal(`*.${label}.jp`)).toMatch(/is a public suffix/);
  });

  it('allows a wildcard below a real domain that merely looks like a public suffix', () => {
    expect(parseAllowEntry('*.co.com')).toEqual({ kind: 'wildcard', host: 'co.com', port: undefined });
    expect(parseAllowEntry('*.example.uk')).toMatchObject({ kind: 'wildcard', host: 'example.uk' });
    expect(parseAllowEntry('*.ac.jp.example.com')).toMatchObject({ kind: 'wildcard', host: 'ac.jp.example.com' });
  });

  it('refuses a label that starts or ends with "-" or is over 63 characters', () => {
    expect(refusal('-cdn.example.com')).toMatch(/not a valid host name \(empty label/);
    expect(refusal('cdn-.example.com')).toMatch(/not a valid host name \(empty label/);
    expect(refusal(`${'a'.repeat(64)}.example.com`)).toMatch(/not a valid host name \(empty label/);
    expect(parseAllowEntry(`${'a'.repeat(63)}.example.com`)).toMatchObject({ kind: 'name' });
  });

  it('refuses a name over 253 characters', () => {
    const label = 'a'.repeat(60);
    const name = (length: number) => `${[label, label, label, label, label].join('.').slice(0, length - 4)}.com`;
    expect(name(253)).toHaveLength(253);
    expect(parseAllowEntry(name(253))).toMatchObject({ kind: 'name', host: name(253) });
    expect(refusal(name(254))).toMatch(/too long/);
  });

  it('refuses a name IDNA cannot convert, saying so', () => {
    expect(refusal('xn--zz.example.com')).toBe('entry "xn--zz.example.com" is not a valid host name');
    expect(refusal(':8080')).toBe('entry ":8080" is not a valid host name');
    // Only a port: the port is read (and refused) before the empty name.
    expect(refusal(':0')).toMatch(/invalid port "0"/);
  });

  it('refuses a name whose last label the URL parser would read as a number (an IP address)', () => {
    expect(refusal('cdn.example.1a')).toMatch(/ends in a numeric label/);
    expect(refusal('*.example.9z')).toMatch(/ends in a numeric label/);
    expect(refusal('cdn.example.0x7f')).toMatch(/not a valid host name|numeric label/);
  });

  it('accepts ports 1 to 65535 written plainly, nothing else', () => {
    expect(parseAllowEntry('cdn.example.com:65535')).toMatchObject({ port: 65535 });
    expect(parseAllowEntry('cdn.example.com:1')).toMatchObject({ port: 1 });
    for (const port of ['65536', '080', '80a', '8o', '', '-1', '1e3'])
      expect(refusal(`cdn.example.com:${port}`)).toMatch(/invalid port/);
  });

  it('refuses IPv4 addresses not in canonical dotted form (leading zeros read as octal by some parsers)', () => {
    for (const ip of ['010.0.0.1', '1.2.3.04', '127.000.0.1'])
      expect(refusal(ip)).toMatch(/not an IPv4 address in canonical dotted form/);
  });

  it('reads brackets only around a whole entry: IPv6 with an optional port', () => {
    expect(parseAllowEntry('[::1]:9000')).toEqual({ kind: 'ip', host: '[::1]', port: 9000 });
    expect(refusal('[zz::1]')).toBe('entry "[zz::1]" is not a valid IPv6 address');
    expect(refusal('cdn[::1]:80')).toMatch(/write IPv6 addresses in brackets/);
    expect(refusal('[::1]x')).toMatch(/invalid port/);
  });
});

describe('isFetchableScheme', () => {
  it('fetches http and https only', () => {
    expect(isFetchableScheme(new URL('http://cdn.example.com/a'))).toBe(true);
    expect(isFetchableScheme(new URL('https://cdn.example.com/a'))).toBe(true);
    for (const url of ['skd://key', 'data:text/plain,x', 'ftp://cdn.example.com/a', 'file:///etc/passwd'])
      expect(isFetchableScheme(new URL(url))).toBe(false);
  });
});
