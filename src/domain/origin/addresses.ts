/**
 * Which IP addresses a name may never resolve to for FLAnts to fetch from it: anything that is not
 * a public unicast address. An allowed name pointing at 127.0.0.1 would reach the Lambda Runtime
 * API, at 169.254.169.254 the instance metadata service; what they answer would land in S3.
 */
import { isIPv4, isIPv6 } from 'node:net';

interface Range {
  /** Network address as a bigint of `bits` width. */
  net: bigint;
  prefix: number;
  label: string;
}

function v4ToBig(ip: string): bigint {
  return ip.split('.').reduce((n, octet) => (n << 8n) | BigInt(Number(octet)), 0n);
}

/** Parses an IPv6 address (with `::` or an embedded dotted IPv4 tail; no brackets, no zone id) into 128 bits. */
function v6ToBig(ip: string): bigint {
  let text = ip;
  // A valid address carries dotted IPv4 only as its last 32 bits.
  const tail = /(\d+\.\d+\.\d+\.\d+)/.exec(text);
  if (tail) {
    const v4 = v4ToBig(tail[1]!);
    text = `${text.slice(0, -tail[1]!.length)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = rest ? rest.split(':') : [];
  // Without "::" the eight groups are all in `left`, and nothing is filled in.
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

const v4 = (cidr: string, label: string): Range => {
  const [net, prefix] = cidr.split('/') as [string, string];
  return { net: v4ToBig(net), prefix: Number(prefix), label };
};
const v6 = (cidr: string, label: string): Range => {
  const [net, prefix] = cidr.split('/') as [string, string];
  return { net: v6ToBig(net), prefix: Number(prefix), label };
};

const V4_BLOCKED: readonly Range[] = [
  v4('0.0.0.0/8', 'unspecified ("this network")'),
  v4('10.0.0.0/8', 'private (RFC 1918)'),
  v4('100.64.0.0/10', 'carrier-grade NAT (RFC 6598)'),
  v4('127.0.0.0/8', 'loopback'),
  v4('169.254.0.0/16', 'link-local (instance metadata lives here)'),
  v4('172.16.0.0/12', 'private (RFC 1918)'),
  v4('192.0.0.0/24', 'IETF protocol assignments'),
  v4('192.0.2.0/24', 'documentation'),
  v4('192.168.0.0/16', 'private (RFC 1918)'),
  v4('198.18.0.0/15', 'benchmarking'),
  v4('198.51.100.0/24', 'documentation'),
  v4('203.0.113.0/24', 'documentation'),
  v4('224.0.0.0/4', 'multicast'),
  v4('240.0.0.0/4', 'reserved (and broadcast)'),
];

const V6_BLOCKED: readonly Range[] = [
  v6('::/128', 'unspecified'),
  v6('::1/128', 'loopback'),
  v6('64:ff9b:1::/48', 'local-use NAT64'),
  v6('100::/64', 'discard-only'),
  v6('2001::/32', 'Teredo'),
  v6('2001:db8::/32', 'documentation'),
  v6('fc00::/7', 'unique-local'),
  v6('fe80::/10', 'link-local'),
  v6('fec0::/10', 'site-local'),
  v6('ff00::/8', 'multicast'),
];

function inRange(value: bigint, bits: number, r: Range): boolean {
  const shift = BigInt(bits - r.prefix);
  return value >> shift === r.net >> shift;
}

/** IPv6 forms that carry an IPv4 address: mapped, compatible, NAT64, 6to4. */
function embeddedV4(value: bigint): bigint | undefined {
  const low32 = value & 0xffffffffn;
  if (value >> 32n === 0xffffn) return low32; // ::ffff:a.b.c.d
  // ::a.b.c.d (deprecated, still routed by some stacks); "::" and "::1" are in V6_BLOCKED already.
  if (value >> 32n === 0n) return low32;
  if (value >> 32n === v6ToBig('64:ff9b::') >> 32n) return low32; // NAT64 well-known prefix
  if (value >> 112n === 0x2002n) return (value >> 80n) & 0xffffffffn; // 6to4
  return undefined;
}

function v4Label(value: bigint): string | undefined {
  return V4_BLOCKED.find((r) => inRange(value, 32, r))?.label;
}

/**
 * The kind of non-public range `address` lies in (e.g. "loopback"), or undefined for a public
 * unicast address. Anything that is not an IP address at all is refused too.
 */
export function blockedRange(address: string): string | undefined {
  if (isIPv4(address)) return v4Label(v4ToBig(address));
  // A URL's host has brackets, a resolver's link-local answer a zone id ("fe80::1%eth0"): neither is the address.
  const bare = address.replace(/^\[|\]$/g, '').split('%')[0]!;
  if (!isIPv6(bare)) return 'not an IP address';
  const value = v6ToBig(bare);
  const label = V6_BLOCKED.find((r) => inRange(value, 128, r))?.label;
  if (label) return label;
  const inner = embeddedV4(value);
  if (inner !== undefined) {
    const l = v4Label(inner);
    if (l) return `${l}, embedded in IPv6`;
  }
  return undefined;
}
