import { classifyAddress, classifyHost, isAllowedKind } from './network-address';

const production = { allowLoopback: false };
const development = { allowLoopback: true };

describe('classifyAddress', () => {
  test.each([
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.254', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['100.100.100.200', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fd00:ec2::254', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:a00:1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['64:ff9b::a00:1', 'reserved'],
    ['2002:a00:1::', 'reserved'],
    ['::127.0.0.1', 'reserved'],
    ['::ffff:0:a9fe:a9fe', 'reserved'],
    ['192.88.99.1', 'reserved'],
    ['::ffff:192.88.99.1', 'reserved'],
    // Teredo embedding 169.254.169.254 (server 65.54.227.120, client address inverted).
    ['2001:0:4136:e378:8000:63bf:5601:5601', 'reserved'],
    ['2001::1', 'reserved'],
    ['2001:1::1', 'reserved'],
    ['2001:1ff:ffff::1', 'reserved'],
    ['2002:a9fe:a9fe::1', 'reserved'],
    ['64:ff9b::a9fe:a9fe', 'reserved'],
    ['64:ff9b:1::a9fe:a9fe', 'reserved'],
    ['3fff::1', 'reserved'],
    ['5f00::1', 'reserved'],
    ['100:0:0:1::1', 'reserved'],
    ['2001:200::1', 'public'],
    ['2001:4860:4860::8888', 'public'],
    ['8.8.8.8', 'public'],
    ['93.184.215.14', 'public'],
    ['172.32.0.1', 'public'],
    ['2606:4700::1111', 'public'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  test('names are not addresses', () => {
    expect(classifyAddress('partner.example')).toBeUndefined();
  });
});

describe('classifyHost', () => {
  test('host names that are loopback or metadata by definition are known without resolving', () => {
    expect(classifyHost('localhost')).toBe('loopback');
    expect(classifyHost('LOCALHOST.')).toBe('loopback');
    expect(classifyHost('api.localhost')).toBe('loopback');
    expect(classifyHost('metadata.google.internal')).toBe('link-local');
    expect(classifyHost('[::1]')).toBe('loopback');
    expect(classifyHost('partner.example')).toBeUndefined();
  });

  test.each([
    ['http://0x7f000001/', 'loopback'],
    ['http://2130706433/', 'loopback'],
    ['http://0177.0.0.1/', 'loopback'],
    ['http://127.1/', 'loopback'],
    ['http://[::ffff:7f00:1]/', 'loopback'],
    ['http://0xa9.0xfe.0xa9.0xfe/', 'link-local'],
    ['http://012.0.0.1/', 'private'],
  ])('the hostname of %s (hex, octal, integer or mapped notation) is %s', (url, kind) => {
    expect(classifyHost(new URL(url).hostname)).toBe(kind);
  });
});

describe('isAllowedKind', () => {
  const allowed = (address: string, rules: typeof production) => isAllowedKind(classifyAddress(address), rules);

  test('only public addresses are allowed, and loopback when development allows it', () => {
    expect(allowed('93.184.215.14', production)).toBe(true);
    expect(allowed('127.0.0.1', production)).toBe(false);
    expect(allowed('127.0.0.1', development)).toBe(true);
    expect(allowed('::1', development)).toBe(true);
    for (const address of ['10.0.0.1', '169.254.169.254', '192.168.0.1', 'fd00::1', '0.0.0.0', 'not-an-ip']) {
      expect(allowed(address, development)).toBe(false);
    }
  });

  test('a name is never allowed by itself, only through the addresses it resolves to', () => {
    expect(isAllowedKind(undefined, development)).toBe(false);
    expect(isAllowedKind(classifyHost('localhost'), production)).toBe(false);
    expect(isAllowedKind(classifyHost('localhost'), development)).toBe(true);
    expect(isAllowedKind(classifyHost('metadata.google.internal'), development)).toBe(false);
  });
});
