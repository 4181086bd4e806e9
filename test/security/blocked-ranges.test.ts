// Every special-purpose range is blocked, from its first address to its last and not one address
// beyond, under its own name; and every IPv6 form that carries an IPv4 address is read through.
import { describe, expect, it } from 'vitest';

// Imported in each test rather than at the top: a range table that fails to build then fails these
// tests, where a failed import of the whole file would count as no test at all (to Stryker's runner too).
const blockedRange = async (address: string): Promise<string | undefined> =>
  (await import('../../src/domain/origin/addresses.ts')).blockedRange(address);

describe('IPv4 special-purpose ranges', () => {
  it.each([
    ['0.0.0.0/8', '0.0.0.0', '0.255.255.255', '1.0.0.0', 'unspecified ("this network")'],
    ['10.0.0.0/8', '10.0.0.0', '10.255.255.255', '11.0.0.0', 'private (RFC 1918)'],
    ['100.64.0.0/10', '100.64.0.0', '100.127.255.255', '100.128.0.0', 'carrier-grade NAT (RFC 6598)'],
    ['127.0.0.0/8', '127.0.0.0', '127.255.255.255', '128.0.0.0', 'loopback'],
    ['169.254.0.0/16', '169.254.0.0', '169.254.255.255', '169.255.0.0', 'link-local (instance metadata lives here)'],
    ['172.16.0.0/12', '172.16.0.0', '172.31.255.255', '172.32.0.0', 'private (RFC 1918)'],
    ['192.0.0.0/24', '192.0.0.0', '192.0.0.255', '192.0.1.0', 'IETF protocol assignments'],
    ['192.0.2.0/24', '192.0.2.0', '192.0.2.255', '192.0.3.0', 'documentation'],
    ['192.168.0.0/16', '192.168.0.0', '192.168.255.255', '192.169.0.0', 'private (RFC 1918)'],
    ['198.18.0.0/15', '198.18.0.0', '198.19.255.255', '198.20.0.0', 'benchmarking'],
    ['198.51.100.0/24', '198.51.100.0', '198.51.100.255', '198.51.101.0', 'documentation'],
    ['203.0.113.0/24', '203.0.113.0', '203.0.113.255', '203.0.114.0', 'documentation'],
    ['224.0.0.0/4', '224.0.0.0', '239.255.255.255', undefined, 'multicast'],
    ['240.0.0.0/4', '240.0.0.0', '255.255.255.255', undefined, 'reserved (and broadcast)'],
  ])('blocks %s from %s to %s (and not %s) as %s', async (_range, first, last, after, label) => {
    expect(await blockedRange(first)).toBe(label);
    expect(await blockedRange(last)).toBe(label);
    if (after !== undefined) expect(await blockedRange(after)).not.toBe(label);
  });
});

describe('IPv6 special-purpose ranges', () => {
  it.each([
    ['::/128', '::', undefined, 'unspecified'],
    ['::1/128', '::1', undefined, 'loopback'],
    ['64:ff9b:1::/48', '64:ff9b:1::', '64:ff9b:1:ffff:ffff:ffff:ffff:ffff', 'local-use NAT64'],
    ['100::/64', '100::', '100::ffff:ffff:ffff:ffff', 'discard-only'],
    ['2001::/32', '2001::', '2001:0:ffff:ffff:ffff:ffff:ffff:ffff', 'Teredo'],
    ['2001:db8::/32', '2001:db8::', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', 'documentation'],
    ['fc00::/7', 'fc00::', 'fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'unique-local'],
    ['fe80::/10', 'fe80::', 'febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'link-local'],
    ['fec0::/10', 'fec0::', 'feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'site-local'],
    ['ff00::/8', 'ff00::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'multicast'],
  ])('blocks %s from %s to %s as %s', async (_range, first, last, label) => {
    expect(await blockedRange(first)).toBe(label);
    if (last !== undefined) expect(await blockedRange(last)).toBe(label);
  });

  it('lets the public neighbours of those ranges through', async () => {
    for (const address of ['64:ff9b:2::1', '100:0:0:1::', '2001:1::1', '2001:db9::1', 'fbff::1', '2606:4700::1'])
      expect(await blockedRange(address)).toBeUndefined();
  });
});

describe('IPv6 forms that carry an IPv4 address', () => {
  it.each([
    ['::ffff:127.0.0.1', 'loopback, embedded in IPv6'],
    ['::ffff:192.168.1.10', 'private (RFC 1918), embedded in IPv6'],
    ['::127.0.0.1', 'loopback, embedded in IPv6'],
    ['::0.0.0.2', 'unspecified ("this network"), embedded in IPv6'],
    ['::a9fe:a9fe', 'link-local (instance metadata lives here), embedded in IPv6'],
    ['64:ff9b::10.0.0.1', 'private (RFC 1918), embedded in IPv6'],
    ['2002:c0a8:101::1', 'private (RFC 1918), embedded in IPv6'],
  ])('reads %s as %s', async (address, label) => {
    expect(await blockedRange(address)).toBe(label);
  });

  it('lets them through when the IPv4 address inside is public', async () => {
    for (const address of ['::ffff:8.8.8.8', '::8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'])
      expect(await blockedRange(address)).toBeUndefined();
  });

  it('reads no IPv4 address into an address that is not one of those forms', async () => {
    // Bits 80-111 of this one would read as 10.0.0.0 if it were taken for 6to4.
    expect(await blockedRange('2606:a00::1')).toBeUndefined();
    // Its low 32 bits would read as 127.0.0.1 if any prefix were taken for NAT64.
    expect(await blockedRange('64:ff9a::7f00:1')).toBeUndefined();
  });
});

describe('written forms', () => {
  it('reads a URL host in brackets and a link-local answer with a zone id', async () => {
    expect(await blockedRange('[::1]')).toBe('loopback');
    expect(await blockedRange('[2001:db8::1]')).toBe('documentation');
    expect(await blockedRange('fe80::1%eth_0')).toBe('link-local');
    expect(await blockedRange('::ffff:127.0.0.1%eth0')).toBe('loopback, embedded in IPv6');
  });

  it('refuses anything else as not an IP address', async () => {
    for (const address of ['[[::1]', '[::1]]', 'cdn.example.com', '', '%eth0', '1.2.3', '::g'])
      expect(await blockedRange(address)).toBe('not an IP address');
  });
});
