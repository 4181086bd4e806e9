// Gap 1 (issue 10), the pure parts: which addresses a name may resolve to, the lookup that checks
// them on every connection, and which ORIGIN_ALLOWED_HOSTS entries are refused or match what.
import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseAllowedHosts } from '../../src/config.ts';
import { ConfigError } from '../../src/errors.ts';
import { blockedRange } from '../../src/domain/origin/addresses.ts';
import { BlockedAddressError } from '../../src/adapters/origin/http-errors.ts';
import { guardedLookup, type ResolvedAddress } from '../../src/adapters/origin/lookup.ts';
import { isHostAllowed } from '../../src/domain/origin/hosts.ts';

describe('blockedRange', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.254', 'carrier-grade NAT'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fd00:ec2::254', 'unique-local'],
    ['fc12:3456::1', 'unique-local'],
    ['::ffff:127.0.0.1', 'loopback, embedded in IPv6'],
    ['::ffff:7f00:1', 'loopback, embedded in IPv6'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['2002:7f00:1::1', 'loopback, embedded'],
    ['ff02::1', 'multicast'],
    ['localhost', 'not an IP address'],
  ])('refuses %s (%s)', (address, label) => {
    expect(blockedRange(address)).toContain(label);
  });

  it.each([
    '93.184.215.14',
    '8.8.8.8',
    '172.32.0.1',
    '100.128.0.1',
    '169.255.0.1',
    '2606:4700::6810:84e5',
    '::ffff:93.184.215.14',
    '2002:5db8:d70e::1',
  ])('lets public %s through', (address) => {
    expect(blockedRange(address)).toBeUndefined();
  });
});

describe('guardedLookup (what net.connect calls for every new connection)', () => {
  const stub = (table: Record<string, ResolvedAddress[]>) => {
    const asked: string[] = [];
    const resolve = async (host: string) => {
      asked.push(host);
      return table[host] ?? [];
    };
    return { asked, resolve };
  };
  const call = (lookup: ReturnType<typeof guardedLookup>, host: string, all: boolean) =>
    new Promise<{ err: NodeJS.ErrnoException | null; address: string | LookupAddress[] }>((resolve) =>
      lookup(host, { all }, (err, address) => resolve({ err, address })),
    );

  it('refuses a name that resolves to loopback or to the metadata service, in both lookup modes', async () => {
    const { resolve } = stub({
      'cdn.example.com': [{ address: '127.0.0.1', family: 4 }],
      'meta.example.com': [{ address: '169.254.169.254', family: 4 }],
    });
    const lookup = guardedLookup(resolve);
    for (const all of [true, false]) {
      const a = await call(lookup, 'cdn.example.com', all);
      expect(a.err).toBeInstanceOf(BlockedAddressError);
      expect(a.err!.message).toMatch(/cdn\.example\.com resolves to 127\.0\.0\.1, a loopback address/);
      const b = await call(lookup, 'meta.example.com', all);
      expect(b.err!.message).toMatch(/169\.254\.169\.254, a link-local/);
    }
  });

  it('refuses the whole answer when any address is private (no rebinding through a mixed answer)', async () => {
    const { resolve } = stub({
      'mixed.example.com': [
        { address: '93.184.215.14', family: 4 },
        { address: '10.0.0.7', family: 4 },
      ],
    });
    const r = await call(guardedLookup(resolve), 'mixed.example.com', true);
    expect(r.err).toBeInstanceOf(BlockedAddressError);
  });

  it('hands over exactly the public addresses it checked', async () => {
    const { resolve, asked } = stub({
      'cdn.example.com': [
        { address: '93.184.215.14', family: 4 },
        { address: '2606:4700::6810:84e5', family: 6 },
      ],
    });
    const lookup = guardedLookup(resolve);
    expect((await call(lookup, 'cdn.example.com', true)).address).toEqual([
      { address: '93.184.215.14', family: 4 },
      { address: '2606:4700::6810:84e5', family: 6 },
    ]);
    expect((await call(lookup, 'cdn.example.com', false)).address).toBe('93.184.215.14');
    expect(asked).toEqual(['cdn.example.com', 'cdn.example.com']);
  });

  it('reports a name that resolves to nothing as not found', async () => {
    const r = await call(guardedLookup(stub({}).resolve), 'nx.example.com', true);
    expect(r.err?.code).toBe('ENOTFOUND');
  });
});

describe('ORIGIN_ALLOWED_HOSTS entries', () => {
  const refused = (raw: string): string => {
    try {
      loadConfig({ ORIGIN_ALLOWED_HOSTS: raw });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain('ORIGIN_ALLOWED_HOSTS');
      return (err as Error).message;
    }
    throw new Error(`expected "${raw}" to be refused`);
  };

  it.each([
    ['*.com', /too broad/],
    ['*..', /not a valid host name/],
    ['*', /not a valid host name|wildcard/],
    ['*.co.uk', /public suffix/],
    ['*.com.au', /public suffix/],
    ['a.*.example.com', /whole first label/],
    ['*example.com', /whole first label/],
    ['http://cdn.example.com', /not a URL/],
    ['cdn.example.com/path', /not a URL/],
    ['user@cdn.example.com', /not a URL/],
    ['127.1', /canonical dotted form/],
    ['2130706433', /canonical dotted form/],
    ['0x7f.0.0.1', /numeric label/],
    ['127.000.0.1', /canonical dotted form/],
    ['*.0.0.1', /numeric label/],
    ['0.0.0.0', /unspecified/],
    ['169.254.169.254', /link-local/],
    ['[::]', /unspecified/],
    ['[fe80::1]', /link-local/],
    ['cdn.example.com:0', /invalid port/],
    ['cdn.example.com:70000', /invalid port/],
    ['cdn.example.com.', /trailing dot|not a valid host name/],
    ['::1', /brackets/],
    ['cdn_.exa mple.com', /not a URL/],
  ])('refuses %s', (raw, why) => {
    expect(refused(raw)).toMatch(why);
  });

  it('accepts names, wildcards, ports and IP literals, in canonical form', () => {
    expect(
      parseAllowedHosts(' CDN.example.com ,*.Example.com:8443, 127.0.0.1:8080,[::1]:9000, bücher.example, 10.0.0.5'),
    ).toEqual([
      'cdn.example.com',
      '*.example.com:8443',
      '127.0.0.1:8080',
      '[::1]:9000',
      'xn--bcher-kva.example',
      '10.0.0.5',
    ]);
  });

  const allowed = (url: string, entries: string[]) => isHostAllowed(new URL(url), parseAllowedHosts(entries.join(',')));

  it('an entry without a port allows 80 and 443 only', () => {
    expect(allowed('https://cdn.example.com/a', ['cdn.example.com'])).toBe(true);
    expect(allowed('http://cdn.example.com/a', ['cdn.example.com'])).toBe(true);
    expect(allowed('http://cdn.example.com:443/a', ['cdn.example.com'])).toBe(true);
    expect(allowed('http://cdn.example.com:22/a', ['cdn.example.com'])).toBe(false);
    expect(allowed('https://cdn.example.com:8443/a', ['cdn.example.com'])).toBe(false);
    expect(allowed('https://a.example.com:6379/a', ['*.example.com'])).toBe(false);
    expect(allowed('http://127.0.0.1:9000/a', ['127.0.0.1'])).toBe(false);
  });

  it('an entry with a port allows that port only', () => {
    expect(allowed('https://cdn.example.com:8443/a', ['cdn.example.com:8443'])).toBe(true);
    expect(allowed('https://cdn.example.com/a', ['cdn.example.com:8443'])).toBe(false);
  });

  it('wildcards match names strictly below the domain, never the domain, look-alikes or IP literals', () => {
    expect(allowed('https://a.example.com/x', ['*.example.com'])).toBe(true);
    expect(allowed('https://a.b.example.com/x', ['*.example.com'])).toBe(true);
    expect(allowed('https://example.com/x', ['*.example.com'])).toBe(false);
    expect(allowed('https://evilexample.com/x', ['*.example.com'])).toBe(false);
    expect(allowed('https://a.example.com.evil.net/x', ['*.example.com'])).toBe(false);
  });

  it('IP literals match only an IP entry, in any notation the URL parser folds to it', () => {
    expect(allowed('http://127.0.0.1:8080/x', ['127.0.0.1:8080'])).toBe(true);
    expect(allowed('http://2130706433:8080/x', ['127.0.0.1:8080'])).toBe(true);
    expect(allowed('http://0x7f.0.0.1:8080/x', ['127.0.0.1:8080'])).toBe(true);
    expect(allowed('http://[0:0::1]:9000/x', ['[::1]:9000'])).toBe(true);
    expect(allowed('http://127.0.0.1:8080/x', ['localhost:8080'])).toBe(false);
  });
});
