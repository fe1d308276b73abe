/**
 * @carecircle/net: outbound connections to addresses that others name (a client's `jwks_uri`, a subscriber's
 * endpoint). Which addresses are public, and a lookup that refuses the rest.
 */
export { checkedLookup, FORBIDDEN_ADDRESS, type Resolver } from './checked-lookup';
export { bareHost, classifyAddress, classifyHost, isAllowedKind, type AddressKind, type AddressRules } from './network-address';
