import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { thrownStatus } from '@carecircle/testing';
import { decodePageToken, encodePageToken, PAGE_TOKEN_LIFETIME_SECONDS, type PageTokenBinding } from './page-token';

const key = Buffer.alloc(32, 7);
const binding: PageTokenBinding = { key, principal: 'system:client-a|TREAT', scope: 'search:Patient', params: new URLSearchParams('name=ann&_count=2') };
const issuedAt = 1_800_000_000;
const at = (seconds: number) => new Date(seconds * 1000);
const token = { snapshot: '100:105:101,103', offset: 40, count: 20, issuedAt };

/** A token sealed the way the server seals, over any payload: shows that checks after decryption still hold. */
function sealed(payload: object | string): string {
  const salt = randomBytes(16);
  const derived = Buffer.from(hkdfSync('sha256', key, salt, 'carecircle page-token v3 aes-256-gcm', 44));
  const cipher = createCipheriv('aes-256-gcm', derived.subarray(0, 32), derived.subarray(32), { authTagLength: 16 });
  cipher.setAAD(Buffer.from(JSON.stringify([binding.scope, binding.principal, [...binding.params].sort()])));
  const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return Buffer.concat([salt, cipher.update(text, 'utf8'), cipher.final(), cipher.getAuthTag()]).toString('base64url');
}

describe('page tokens', () => {
  test('round-trip snapshot, offset, count and issue time', () => {
    const text = encodePageToken(token, binding);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodePageToken(text, binding, at(issuedAt + 60))).toEqual(token);
  });

  test('say nothing: the snapshot, offset and count are not in the token, and equal pages seal differently', () => {
    const text = encodePageToken(token, binding);
    const bytes = Buffer.from(text, 'base64url').toString('latin1');
    expect(bytes).not.toContain('100:105');
    expect(bytes).not.toContain('"o"');
    expect(encodePageToken(token, binding)).not.toBe(text);
  });

  test('the order of the parameters and the token itself do not matter', () => {
    const text = encodePageToken(token, binding);
    const reordered = { ...binding, params: new URLSearchParams(`_count=2&_page=${text}&name=ann`) };
    expect(decodePageToken(text, reordered, at(issuedAt))).toEqual(token);
  });

  test.each<[string, Partial<PageTokenBinding>]>([
    ['another caller', { principal: 'system:client-b|TREAT' }],
    ['another purpose of use', { principal: 'system:client-a|HRESCH' }],
    ['another search', { params: new URLSearchParams('name=bob&_count=2') }],
    ['another resource type', { scope: 'search:Observation' }],
    ['another key (another deployment)', { key: Buffer.alloc(32, 8) }],
  ])('is refused (400) for %s', (_name, change) => {
    const text = encodePageToken(token, binding);
    expect(thrownStatus(() => decodePageToken(text, { ...binding, ...change }, at(issuedAt)))).toBe(400);
  });

  test('an altered token is refused (400), whichever byte changed', () => {
    const bytes = Buffer.from(encodePageToken(token, binding), 'base64url');
    for (const at_ of [0, 20, bytes.length - 1]) {
      const altered = Buffer.from(bytes);
      altered[at_] = (altered[at_] ?? 0) ^ 1;
      expect(thrownStatus(() => decodePageToken(altered.toString('base64url'), binding, at(issuedAt)))).toBe(400);
    }
  });

  test('expires an hour after the first page (410), and refuses one issued in the future', () => {
    const text = encodePageToken(token, binding);
    expect(decodePageToken(text, binding, at(issuedAt + PAGE_TOKEN_LIFETIME_SECONDS))).toEqual(token);
    expect(thrownStatus(() => decodePageToken(text, binding, at(issuedAt + PAGE_TOKEN_LIFETIME_SECONDS + 1)))).toBe(410);
    expect(thrownStatus(() => decodePageToken(text, binding, at(issuedAt - 3600)))).toBe(400);
  });

  test.each([
    ['not base64url', '***'],
    ['too short to hold anything', 'AAAA'],
    ['unsealed (the v2 format)', `${Buffer.from(JSON.stringify({ v: 2, s: '5:9:', o: 0, c: 1, t: issuedAt })).toString('base64url')}.${'A'.repeat(43)}`],
    ['unsealed JSON', Buffer.from(JSON.stringify({ v: 3, s: '5:9:', o: 0, c: 1, t: issuedAt }).padEnd(80)).toString('base64url')],
    ['not JSON', sealed('nope')],
    ['an older version', sealed({ v: 2, s: '5:9:', o: 0, c: 1, t: issuedAt })],
    ['xmin above xmax', sealed({ v: 3, s: '9:5:', o: 0, c: 1, t: issuedAt })],
    ['xip outside range', sealed({ v: 3, s: '5:9:9', o: 0, c: 1, t: issuedAt })],
    ['zero count', sealed({ v: 3, s: '5:9:', o: 0, c: 0, t: issuedAt })],
    ['huge count', sealed({ v: 3, s: '5:9:', o: 0, c: 5000, t: issuedAt })],
    ['string offset', sealed({ v: 3, s: '5:9:', o: '0', c: 1, t: issuedAt })],
    ['no issue time', sealed({ v: 3, s: '5:9:', o: 0, c: 1 })],
  ])('rejects %s with a 400', (_name, text) => {
    expect(thrownStatus(() => decodePageToken(text, binding, at(issuedAt)))).toBe(400);
  });

  test('a well-formed payload sealed like the server does decodes (the helper above is faithful)', () => {
    expect(decodePageToken(sealed({ v: 3, s: '5:9:', o: 0, c: 1, t: issuedAt }), binding, at(issuedAt))).toEqual({
      snapshot: '5:9:',
      offset: 0,
      count: 1,
      issuedAt,
    });
  });
});
