/**
 * Where the server may connect on a client's behalf (server-side request forgery): a system client's `jwks_uri` is a
 * URL the client chooses and the token endpoint fetches, so without limits a registration could make the server probe
 * its own network (cloud metadata at 169.254.169.254, Redis on 127.0.0.1:6379, anything on 10/8 ...). Only public
 * unicast addresses are reachable, loopback too where development allows it; never private, link-local, metadata,
 * multicast or reserved ranges. The same ranges as the worker's notification endpoints (@carecircle/notify).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** What kind of address an IP is, as far as outbound requests are concerned. */
export type AddressKind = 'public' | 'loopback' | 'private' | 'link-local' | 'unspecified' | 'multicast' | 'reserved';

/** Whether loopback is reachable (development and tests only). */
export interface AddressRules {
  readonly allowLoopback: boolean;
}

function blockList(ranges: readonly (readonly [string, number, 'ipv4' | 'ipv6'])[]): BlockList {
  const list = new BlockList();
  for (const [network, prefix, family] of ranges) {
    list.addSubnet(network, prefix, family);
  }
  return list;
}

// Node's BlockList also matches IPv4-mapped IPv6 addresses (::ffff:10.0.0.1) against the IPv4 subnets.
const RANGES: readonly (readonly [Exclude<AddressKind, 'public'>, BlockList])[] = [
  ['loopback', blockList([['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']])],
  ['unspecified', blockList([['0.0.0.0', 8, 'ipv4'], ['::', 128, 'ipv6']])],
  // 169.254.169.254 is where clouds serve instance metadata and credentials.
  ['link-local', blockList([['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6']])],
  [
    'private',
    blockList([
      ['10.0.0.0', 8, 'ipv4'],
      ['172.16.0.0', 12, 'ipv4'],
      ['192.168.0.0', 16, 'ipv4'],
      ['100.64.0.0', 10, 'ipv4'],
      ['fc00::', 7, 'ipv6'],
      ['fec0::', 10, 'ipv6'],
    ]),
  ],
  ['multicast', blockList([['224.0.0.0', 4, 'ipv4'], ['ff00::', 8, 'ipv6']])],
  [
    'reserved',
    blockList([
      ['192.0.0.0', 24, 'ipv4'],
      ['192.0.2.0', 24, 'ipv4'],
      ['198.18.0.0', 15, 'ipv4'],
      ['198.51.100.0', 24, 'ipv4'],
      ['203.0.113.0', 24, 'ipv4'],
      ['240.0.0.0', 4, 'ipv4'],
      ['2001:db8::', 32, 'ipv6'],
      // NAT64 and 6to4 embed IPv4 addresses that could be any of the ranges above.
      ['64:ff9b::', 96, 'ipv6'],
      ['64:ff9b:1::', 48, 'ipv6'],
      ['2002::', 16, 'ipv6'],
      ['100::', 64, 'ipv6'],
    ]),
  ],
];

/** `[::1]` -> `::1`: URL hostnames keep IPv6 brackets. */
export function bareHost(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

/** The kind of an IP literal (brackets allowed); undefined when `address` is not an IP address. */
export function classifyAddress(address: string): AddressKind | undefined {
  const bare = bareHost(address);
  const family = isIP(bare);
  if (family === 0) {
    return undefined;
  }
  for (const [kind, list] of RANGES) {
    if (list.check(bare, family === 4 ? 'ipv4' : 'ipv6')) {
      return kind;
    }
  }
  return 'public';
}

const LOOPBACK_NAME = /^(localhost|localhost\.localdomain)\.?$|\.localhost\.?$/i;
const METADATA_NAME = /^(metadata|metadata\.google\.internal|instance-data(\.ec2\.internal)?)\.?$/i;

/**
 * The kind of a URL's host as far as it can be told without resolving it: an IP literal's kind, `loopback` for
 * localhost names, `link-local` for cloud metadata names; undefined for other names (checked when connecting).
 */
export function classifyHost(hostname: string): AddressKind | undefined {
  return classifyAddress(hostname) ?? (LOOPBACK_NAME.test(hostname) ? 'loopback' : METADATA_NAME.test(hostname) ? 'link-local' : undefined);
}

/** True when the server may connect to `kind` under `rules`. */
export function isAllowedKind(kind: AddressKind, rules: AddressRules): boolean {
  return kind === 'public' || (kind === 'loopback' && rules.allowLoopback);
}

/** The error a connection to a refused address fails with. */
export const FORBIDDEN_ADDRESS = 'ERR_FORBIDDEN_ADDRESS';

/**
 * A resolver for sockets: resolves every address of the name and fails the connection unless each one is allowed,
 * then answers with those checked addresses only, so the socket connects where the check looked (a name that
 * re-binds between a check and the connect gains nothing).
 */
export function checkedLookup(rules: AddressRules): LookupFunction {
  return function lookupChecked(hostname, options, callback) {
    dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (err, addresses: LookupAddress[]) => {
      if (err) {
        callback(err, '', 0);
        return;
      }
      if (addresses.length === 0 || addresses.some((a) => !isAllowedKind(classifyAddress(a.address) ?? 'reserved', rules))) {
        callback(Object.assign(new Error('The host resolves to an address the server may not connect to'), { code: FORBIDDEN_ADDRESS }), '', 0);
        return;
      }
      if (options.all) {
        (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
        return;
      }
      const [first] = addresses as [LookupAddress];
      callback(null, first.address, first.family);
    });
  };
}
