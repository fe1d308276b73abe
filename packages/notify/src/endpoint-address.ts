/**
 * Where a subscriber's endpoint may point (server-side request forgery): a rest-hook endpoint is a URL a partner
 * chooses and the worker POSTs to, so without limits a subscription could make the server probe its own network
 * (cloud metadata at 169.254.169.254, Redis on 127.0.0.1:6379, anything on 10/8 ...) and read the answer off the
 * subscription's status. Only public unicast addresses are reachable; loopback too where development allows it
 * (`NOTIFY_ALLOW_LOOPBACK_HTTP`), never private, link-local, metadata, multicast or reserved ranges.
 *
 * Checked twice: when a Subscription is written (IP literals and names that are loopback by definition) and when the
 * worker connects (every address the name resolves to, and the connection goes to the address that was checked, so a
 * name that re-binds between check and connect gains nothing; see the worker's webhook-client.ts).
 */
import { BlockList, isIP } from 'node:net';

/** What kind of address an IP is, as far as outbound notifications are concerned. */
export type AddressKind = 'public' | 'loopback' | 'private' | 'link-local' | 'unspecified' | 'multicast' | 'reserved';

/** Whether loopback endpoints are allowed (development and tests only). */
export interface AddressRules {
  allowLoopback?: boolean;
}

function blockList(ranges: readonly (readonly [string, number, 'ipv4' | 'ipv6'])[]): BlockList {
  const list = new BlockList();
  for (const [network, prefix, family] of ranges) {
    list.addSubnet(network, prefix, family);
  }
  return list;
}

// Node's BlockList also matches IPv4-mapped IPv6 addresses (::ffff:10.0.0.1) against IPv4 subnets.
const RANGES: readonly (readonly [Exclude<AddressKind, 'public'>, BlockList])[] = [
  ['loopback', blockList([['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']])],
  ['unspecified', blockList([['0.0.0.0', 8, 'ipv4'], ['::', 128, 'ipv6']])],
  [
    'link-local',
    // 169.254.169.254 (and fd00:ec2::254, in fc00::/7 below) is where clouds serve instance metadata and credentials.
    blockList([['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6']]),
  ],
  [
    'private',
    blockList([
      ['10.0.0.0', 8, 'ipv4'],
      ['172.16.0.0', 12, 'ipv4'],
      ['192.168.0.0', 16, 'ipv4'],
      // Carrier-grade NAT; also where some clouds serve metadata (100.100.100.200).
      ['100.64.0.0', 10, 'ipv4'],
      ['fc00::', 7, 'ipv6'],
      // Deprecated site-local.
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
      // NAT64 and 6to4 embed IPv4 addresses that could be anything, the ranges above included.
      ['64:ff9b::', 96, 'ipv6'],
      ['64:ff9b:1::', 48, 'ipv6'],
      ['2002::', 16, 'ipv6'],
      ['100::', 64, 'ipv6'],
    ]),
  ],
];

/** The kind of `address` (an IPv4 or IPv6 literal, brackets allowed); undefined when it is not an IP address. */
export function classifyAddress(address: string): AddressKind | undefined {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const family = isIP(bare);
  if (family === 0) {
    return undefined;
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const [kind, list] of RANGES) {
    if (list.check(bare, type)) {
      return kind;
    }
  }
  return 'public';
}

/** True when the worker may connect to IP `address` under `rules`. */
export function isAllowedAddress(address: string, rules: AddressRules = {}): boolean {
  const kind = classifyAddress(address);
  return kind === 'public' || (kind === 'loopback' && rules.allowLoopback === true);
}

/** Host names that are loopback or metadata by definition, whatever a resolver says. */
const LOOPBACK_NAME = /^(localhost|localhost\.localdomain)\.?$|\.localhost\.?$/i;
const METADATA_NAME = /^(metadata|metadata\.google\.internal|instance-data(\.ec2\.internal)?)\.?$/i;

/**
 * The kind of a URL's host as far as it can be told without resolving it: the kind of an IP literal, `loopback` for
 * localhost names, `link-local` for cloud metadata names; undefined for other names (checked when connecting).
 */
export function classifyHost(hostname: string): AddressKind | undefined {
  const kind = classifyAddress(hostname);
  if (kind !== undefined) {
    return kind;
  }
  if (LOOPBACK_NAME.test(hostname)) {
    return 'loopback';
  }
  if (METADATA_NAME.test(hostname)) {
    return 'link-local';
  }
  return undefined;
}
