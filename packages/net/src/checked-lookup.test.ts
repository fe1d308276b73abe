import type { LookupAddress } from 'node:dns';
import { checkedLookup, FORBIDDEN_ADDRESS, type Resolver } from './checked-lookup';
import { classifyAddress } from './network-address';

type Answer = { err: NodeJS.ErrnoException | null; address: unknown; family: unknown };

function lookup(allowLoopback: boolean, hostname: string, resolve?: Resolver, options: { all?: boolean } = {}): Promise<Answer> {
  return new Promise((done) => {
    checkedLookup({ allowLoopback }, resolve)(hostname, options, (err, address, family) => done({ err, address, family }));
  });
}

/** A resolver that answers `addresses` for every name. */
const resolverOf =
  (addresses: LookupAddress[]): Resolver =>
  (_hostname, _options, callback) =>
    callback(null, addresses);

test('a name resolving to loopback is refused before any connection unless loopback is allowed', async () => {
  const refused = await lookup(false, 'localhost');
  expect(refused.err?.code).toBe(FORBIDDEN_ADDRESS);
  const allowed = await lookup(true, 'localhost');
  expect(allowed.err).toBeNull();
  expect(classifyAddress(allowed.address as string)).toBe('loopback');
});

test('a name is refused when any one of its addresses is refused, in any notation', async () => {
  for (const addresses of [
    [{ address: '127.0.0.1', family: 4 }],
    [{ address: '93.184.215.14', family: 4 }, { address: '127.0.0.1', family: 4 }],
    [{ address: '::ffff:127.0.0.1', family: 6 }],
    [{ address: '::ffff:a9fe:a9fe', family: 6 }],
    [{ address: '10.0.0.1', family: 4 }],
  ]) {
    expect((await lookup(false, 'rebinding.test', resolverOf(addresses))).err?.code).toBe(FORBIDDEN_ADDRESS);
  }
  expect((await lookup(true, 'rebinding.test', resolverOf([{ address: '169.254.169.254', family: 4 }]))).err?.code).toBe(FORBIDDEN_ADDRESS);
});

test('a name resolving to nothing is refused; resolver errors pass through', async () => {
  expect((await lookup(false, 'empty.test', resolverOf([]))).err?.code).toBe(FORBIDDEN_ADDRESS);
  const failing: Resolver = (_hostname, _options, callback) => callback(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }), []);
  expect((await lookup(false, 'missing.test', failing)).err?.code).toBe('ENOTFOUND');
});

test('the socket gets only the checked addresses: the first, or all of them when it asks for all', async () => {
  const addresses = [
    { address: '93.184.215.14', family: 4 },
    { address: '2606:4700::1111', family: 6 },
  ];
  expect(await lookup(false, 'partner.test', resolverOf(addresses))).toEqual({ err: null, address: '93.184.215.14', family: 4 });
  expect((await lookup(false, 'partner.test', resolverOf(addresses), { all: true })).address).toEqual(addresses);
});
