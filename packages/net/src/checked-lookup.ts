/**
 * The second check of a named host (DNS rebinding): a resolver for sockets (`lookup` of node:http, node:https and their
 * agents) that resolves every address of the name and fails the connection unless each one is allowed, then hands the
 * socket those checked addresses only. The connection goes where the check looked, so a name that resolves to a public
 * address for a check and to 127.0.0.1 for the connection gains nothing.
 *
 * IP literals never reach a lookup: callers check them with classifyAddress before connecting.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { classifyAddress, isAllowedKind, type AddressRules } from './network-address';

/** The `code` of the error a connection to a refused address fails with. */
export const FORBIDDEN_ADDRESS = 'ERR_FORBIDDEN_ADDRESS';

/** Resolves a host name to all its addresses (the system resolver by default; tests supply their own). */
export type Resolver = (
  hostname: string,
  options: LookupAllOptions,
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

const systemResolver: Resolver = (hostname, options, callback) => dnsLookup(hostname, options, callback);

/**
 * A socket lookup that connects only to addresses `rules` allow: resolves all addresses of the name with `resolve`
 * and fails with {@link FORBIDDEN_ADDRESS} when there are none or any one of them is refused; otherwise answers with
 * the checked addresses.
 */
export function checkedLookup(rules: AddressRules, resolve: Resolver = systemResolver): LookupFunction {
  return function lookupChecked(hostname, options, callback) {
    const all: LookupAllOptions = { all: true, family: options.family ?? 0, ...(options.hints === undefined ? {} : { hints: options.hints }) };
    resolve(hostname, all, (err, addresses) => {
      if (err) {
        callback(err, '', 0);
        return;
      }
      if (addresses.length === 0 || addresses.some((a) => !isAllowedKind(classifyAddress(a.address), rules))) {
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
