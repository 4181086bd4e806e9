// The connection's guard: names resolved, and refused when any address they resolve to is not public.
import { lookup as dnsLookup } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { blockedRange } from '../../domain/origin/addresses.ts';
import { BlockedAddressError } from './http-errors.ts';

/** One address a name resolves to. */
export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Name resolution, as `dns.lookup(name, { all: true })` does it. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** The system resolver (getaddrinfo, as every other program on the host resolves). */
export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))),
  );

/**
 * A `lookup` for net/tls.connect that resolves, refuses the connection if any address is
 * non-public, and hands over exactly the addresses it checked: the socket connects to what was
 * checked, so a second answer (DNS rebinding) cannot slip in between. IP literals never reach a
 * lookup; the allow-list decides those.
 */
export function guardedLookup(resolve: Resolver): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname)
      .then((all) => {
        const wanted =
          options.family === 4 || options.family === 6 ? all.filter((a) => a.family === options.family) : all;
        if (wanted.length === 0)
          throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
        for (const a of wanted) {
          const range = blockedRange(a.address);
          if (range) throw new BlockedAddressError(hostname, a.address, range);
        }
        if (options.all) callback(null, wanted);
        else callback(null, wanted[0]!.address, wanted[0]!.family);
      })
      .catch((err: NodeJS.ErrnoException) => callback(err, '', 0));
  };
}
