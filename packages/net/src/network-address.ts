/**
 * Which addresses the server may connect to when someone else names them (server-side request forgery): a client's
 * `jwks_uri` the token endpoint fetches, a subscriber's rest-hook endpoint the worker POSTs to. Without limits such a
 * URL could make the server probe its own network (cloud metadata at 169.254.169.254, Redis on 127.0.0.1:6379,
 * anything on 10/8 ...) and read the answer off a token response or a subscription's status. Only public unicast
 * addresses are reachable, loopback too where the caller's rules allow it (development and tests); never private,
 * link-local, metadata, multicast or reserved ranges.
 *
 * Checked twice by every caller: when the URL is accepted ({@link classifyHost}: IP literals and names that are
 * loopback or metadata by definition) and when connecting (every address the name resolves to, see checked-lookup.ts).
 * Any notation counts: Node's BlockList matches IPv4-mapped IPv6 (`::ffff:127.0.0.1`, `::ffff:7f00:1`) against the
 * IPv4 ranges, and the URL parser turns hex, octal and integer IPv4 hosts (`0x7f.1`, `2130706433`) into dotted
 * decimal before a hostname reaches us.
 */
import { BlockList, isIP } from 'node:net';

/** What kind of address an IP is, as far as outbound connections are concerned. */
export type AddressKind = 'public' | 'loopback' | 'private' | 'link-local' | 'unspecified' | 'multicast' | 'reserved';

/** What a caller allows beyond public addresses. */
export interface AddressRules {
  /** Loopback (127.0.0.0/8, ::1, localhost names) is reachable: development and tests only, never production. */
  readonly allowLoopback: boolean;
}

function blockList(ranges: readonly (readonly [string, number, 'ipv4' | 'ipv6'])[]): BlockList {
  const list = new BlockList();
  for (const [network, prefix, family] of ranges) {
    list.addSubnet(network, prefix, family);
  }
  return list;
}

// Checked in this order; Node's BlockList also matches IPv4-mapped IPv6 addresses against the IPv4 subnets.
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
    // The IANA special-purpose registries (iana-ipv4-special-registry, iana-ipv6-special-registry): every block that is
    // not plain global unicast, or that reaches other addresses through a relay or translator, is refused whole.
    blockList([
      ['192.0.0.0', 24, 'ipv4'],
      ['192.0.2.0', 24, 'ipv4'],
      // The deprecated 6to4 relay anycast (RFC 7526): a relay forwards to whatever IPv6 (and so IPv4) it is handed.
      ['192.88.99.0', 24, 'ipv4'],
      ['198.18.0.0', 15, 'ipv4'],
      ['198.51.100.0', 24, 'ipv4'],
      ['203.0.113.0', 24, 'ipv4'],
      ['240.0.0.0', 4, 'ipv4'],
      ['2001:db8::', 32, 'ipv6'],
      ['3fff::', 20, 'ipv6'],
      // NAT64, 6to4 and Teredo embed IPv4 addresses that could be anything, the ranges above included (Teredo,
      // 2001::/32, carries its client's address inverted: 169.254.169.254 hides as 2001:0:...:5601:5601). Teredo sits
      // in 2001::/23, IETF protocol assignments (benchmarking, ORCHID, AMT, PCP anycast): none is a partner's server.
      ['64:ff9b::', 96, 'ipv6'],
      ['64:ff9b:1::', 48, 'ipv6'],
      ['2002::', 16, 'ipv6'],
      ['2001::', 23, 'ipv6'],
      // Discard-only and the dummy prefix (RFC 6666, RFC 9780), and SRv6 segment identifiers (RFC 9602).
      ['100::', 64, 'ipv6'],
      ['100:0:0:1::', 64, 'ipv6'],
      ['5f00::', 16, 'ipv6'],
      // IPv4-compatible (deprecated) and IPv4-translated forms, which BlockList does not match against IPv4 subnets.
      ['::', 96, 'ipv6'],
      ['::ffff:0:0:0', 96, 'ipv6'],
    ]),
  ],
];

/** `[::1]` -> `::1`: URL hostnames keep IPv6 brackets, sockets and resolvers want them off. */
export function bareHost(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

/** The kind of an IPv4 or IPv6 literal (brackets allowed); undefined when `address` is not an IP address. */
export function classifyAddress(address: string): AddressKind | undefined {
  const bare = bareHost(address);
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

/**
 * True when the server may connect to an address of `kind` under `rules`: public always, loopback where the rules
 * allow it, nothing else. Undefined (not an IP address, or a name not resolved yet) is never allowed by itself: a name
 * is reachable only through the addresses it resolves to.
 */
export function isAllowedKind(kind: AddressKind | undefined, rules: AddressRules): boolean {
  return kind === 'public' || (kind === 'loopback' && rules.allowLoopback);
}
