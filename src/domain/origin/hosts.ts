import { isIPv4, isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';
import { blockedRange } from './addresses.ts';

/** One parsed ORIGIN_ALLOWED_HOSTS entry. */
export interface AllowEntry {
  /** `name`: exactly this DNS name; `wildcard`: any name below `host`; `ip`: this IP literal. */
  kind: 'name' | 'wildcard' | 'ip';
  /** Lower-case ASCII name (the domain below `*.` for wildcards), or the canonical IP literal (IPv6 in brackets). */
  host: string;
  /** The one port allowed; undefined allows 80 and 443 only. */
  port: number | undefined;
}

/** Ports an entry without a port allows: the two a web origin uses. */
export const DEFAULT_PORTS: ReadonlySet<number> = new Set([80, 443]);

/**
 * Second-level labels that, under a two-letter country code, form a public suffix (`co.uk`,
 * `com.au`, `ac.jp`, ...). Not the whole Public Suffix List: enough to refuse the wildcards an
 * operator might write by mistake, which would allow every company in a country.
 */
const PUBLIC_SECOND_LEVEL = new Set([
  'ac',
  'co',
  'com',
  'edu',
  'gob',
  'gov',
  'govt',
  'gv',
  'go',
  'info',
  'ltd',
  'me',
  'mil',
  'ne',
  'net',
  'nhs',
  'nic',
  'or',
  'org',
  'plc',
  'sch',
]);

const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** Why an ORIGIN_ALLOWED_HOSTS entry is refused. */
export class AllowEntryError extends Error {}

function parsePort(text: string | undefined, entry: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9]\d{0,4}$/.test(text) || Number(text) > 65535)
    throw new AllowEntryError(`entry "${entry}" has an invalid port "${text}" (1-65535)`);
  return Number(text);
}

function parseName(name: string, entry: string): string {
  const ascii = domainToASCII(name);
  if (!ascii) throw new AllowEntryError(`entry "${entry}" is not a valid host name`);
  const labels = ascii.split('.');
  if (ascii.length > 253 || labels.some((l) => !LABEL.test(l))) {
    throw new AllowEntryError(
      `entry "${entry}" is not a valid host name (empty label, bad character, a trailing dot or too long)`,
    );
  }
  // A numeric last label makes the WHATWG URL parser read the host as an IPv4 address ("127.1", "0x7f.1").
  if (!/^[a-z]/.test(labels.at(-1)!))
    throw new AllowEntryError(
      `entry "${entry}" ends in a numeric label: write IP addresses in dotted form (127.0.0.1)`,
    );
  return ascii;
}

/** Parses and validates one ORIGIN_ALLOWED_HOSTS entry; throws AllowEntryError saying why it is refused. */
export function parseAllowEntry(raw: string): AllowEntry {
  const entry = raw.trim().toLowerCase();
  // "scheme://" needs no pattern of its own: its "/" is enough.
  if (/[/?#@\s\\]/.test(entry))
    throw new AllowEntryError(`entry "${entry}" must be a host, not a URL (no scheme, path, user or query)`);
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(entry);
  if (bracketed) {
    const ip = bracketed[1]!;
    if (!isIPv6(ip)) throw new AllowEntryError(`entry "${entry}" is not a valid IPv6 address`);
    return ipEntry(new URL(`http://[${ip}]/`).hostname, parsePort(bracketed[2], entry), entry);
  }
  const colon = entry.lastIndexOf(':');
  const host = colon >= 0 ? entry.slice(0, colon) : entry;
  const port = parsePort(colon >= 0 ? entry.slice(colon + 1) : undefined, entry);
  if (host.includes(':'))
    throw new AllowEntryError(`entry "${entry}": write IPv6 addresses in brackets ([2001:db8::1]:8080)`);
  if (/^[\d.]+$/.test(host)) {
    // Node's isIPv4 refuses leading zeros too ("010.0.0.1", octal to some parsers).
    if (!isIPv4(host)) throw new AllowEntryError(`entry "${entry}" is not an IPv4 address in canonical dotted form`);
    return ipEntry(host, port, entry);
  }
  if (host.startsWith('*.')) {
    const base = parseName(host.slice(2), entry);
    const labels = base.split('.');
    if (labels.length < 2)
      throw new AllowEntryError(
        `entry "${entry}" is too broad: a wildcard must sit below a registrable domain (*.example.com), not a top-level domain`,
      );
    if (labels.length === 2 && labels[1]!.length === 2 && PUBLIC_SECOND_LEVEL.has(labels[0]!)) {
      throw new AllowEntryError(
        `entry "${entry}" is too broad: ${base} is a public suffix; name your own domain (*.example.${base})`,
      );
    }
    return { kind: 'wildcard', host: base, port };
  }
  if (host.includes('*'))
    throw new AllowEntryError(
      `entry "${entry}": a wildcard is allowed only as the whole first label ("*.example.com")`,
    );
  return { kind: 'name', host: parseName(host, entry), port };
}

function ipEntry(host: string, port: number | undefined, entry: string): AllowEntry {
  const range = blockedRange(host);
  // Loopback and private literals are explicit allowances (a local origin); these never are an origin.
  if (range && /unspecified|link-local|multicast|reserved/.test(range))
    throw new AllowEntryError(`entry "${entry}" is a ${range} address, never an origin`);
  return { kind: 'ip', host, port };
}

/** Formats an entry back to its canonical text (`host`, `host:port`, `*.domain`). */
export function formatAllowEntry(e: AllowEntry): string {
  return `${e.kind === 'wildcard' ? '*.' : ''}${e.host}${e.port === undefined ? '' : `:${e.port}`}`;
}

const parsed = new Map<string, AllowEntry | undefined>();
function cachedEntry(text: string): AllowEntry | undefined {
  // Stryker disable next-line ConditionalExpression: without the cache each call parses again, to the same entry
  if (!parsed.has(text)) {
    let e: AllowEntry | undefined;
    try {
      e = parseAllowEntry(text);
    } catch {
      // An invalid entry allows nothing (`e` stays undefined); config validation names it before we get here.
    }
    parsed.set(text, e);
  }
  return parsed.get(text);
}

/** True when the URL's host is an IP literal rather than a name. */
export function isIpHost(url: URL): boolean {
  return isIPv4(url.hostname) || url.hostname.startsWith('[');
}

function effectivePort(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

/** The entry of `allowed` that lets `url` through, or undefined. */
export function matchingEntry(url: URL, allowed: readonly string[]): AllowEntry | undefined {
  const hostname = url.hostname.toLowerCase();
  const port = effectivePort(url);
  const ip = isIpHost(url);
  for (const text of allowed) {
    const e = cachedEntry(text);
    if (!e) continue;
    if (e.port === undefined ? !DEFAULT_PORTS.has(port) : e.port !== port) continue;
    if (
      e.kind === 'ip'
        ? ip && e.host === hostname
        : e.kind === 'name'
          ? !ip && e.host === hostname
          : !ip && hostname.endsWith(`.${e.host}`)
    )
      return e;
  }
  return undefined;
}

/**
 * Returns true when `url`'s host and port are in the allow-list: an exact name, a name below a
 * `*.domain` wildcard, or an IP literal listed as such; an entry without a port allows 80 and 443 only.
 */
export function isHostAllowed(url: URL, allowed: readonly string[]): boolean {
  return matchingEntry(url, allowed) !== undefined;
}

/** True for the schemes FLAnts fetches; everything else (skd:, data:, ftp:, ...) is never fetched. */
export function isFetchableScheme(url: URL): boolean {
  return url.protocol === 'http:' || url.protocol === 'https:';
}
