import { checkedLookup, classifyAddress, classifyHost, FORBIDDEN_ADDRESS } from './network-address';
import { findJwksUriProblem } from './remote-jwks';

describe('classifyAddress', () => {
  test.each([
    ['169.254.169.254', 'link-local'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.0.1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['::1', 'loopback'],
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['[::1]', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['8.8.8.8', 'public'],
    ['2606:4700::1111', 'public'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  test('names are not addresses; localhost and metadata names are known without resolving', () => {
    expect(classifyAddress('partner.example')).toBeUndefined();
    expect(classifyHost('partner.example')).toBeUndefined();
    expect(classifyHost('localhost')).toBe('loopback');
    expect(classifyHost('api.localhost')).toBe('loopback');
    expect(classifyHost('metadata.google.internal')).toBe('link-local');
  });
});

describe('findJwksUriProblem', () => {
  const production = { allowLoopback: false };
  const development = { allowLoopback: true };
  test.each<[string, typeof production, boolean]>([
    ['https://partner.example/jwks.json', production, true],
    ['https://8.8.8.8/jwks.json', production, true],
    ['http://partner.example/jwks.json', production, false],
    ['https://127.0.0.1/jwks.json', production, false],
    ['https://localhost/jwks.json', production, false],
    ['http://127.0.0.1:8080/jwks.json', development, true],
    ['http://[::1]:8080/jwks.json', development, true],
    ['http://localhost:8080/jwks.json', development, true],
    ['https://169.254.169.254/jwks.json', development, false],
    ['https://10.0.0.1/jwks.json', development, false],
    ['http://partner.example/jwks.json', development, false],
    ['https://u:p@partner.example/jwks.json', development, false],
    ['https://partner.example/jwks.json#k', development, false],
    ['not a url', development, false],
  ])('%s (loopback allowed: %o) acceptable: %s', (uri, rules, acceptable) => {
    expect(findJwksUriProblem(uri, rules) === undefined).toBe(acceptable);
  });
});

describe('checkedLookup', () => {
  const lookup = (allowLoopback: boolean, hostname: string) =>
    new Promise<{ err: NodeJS.ErrnoException | null; address: unknown }>((resolve) => {
      checkedLookup({ allowLoopback })(hostname, {}, (err, address) => resolve({ err, address }));
    });

  test('a name resolving to loopback is refused before any connection unless loopback is allowed', async () => {
    const refused = await lookup(false, 'localhost');
    expect(refused.err?.code).toBe(FORBIDDEN_ADDRESS);
    const allowed = await lookup(true, 'localhost');
    expect(allowed.err).toBeNull();
    expect(classifyAddress(allowed.address as string)).toBe('loopback');
  });
});
