import { createHmac } from 'node:crypto';
import { getStatus, OperationOutcomeError } from '@medplum/core';
import { decodePageToken, encodePageToken, PAGE_TOKEN_LIFETIME_SECONDS, type PageTokenBinding } from './page-token';

const key = Buffer.alloc(32, 7);
const binding: PageTokenBinding = { key, principal: 'system:client-a|TREAT', scope: 'search:Patient', params: new URLSearchParams('name=ann&_count=2') };
const issuedAt = 1_800_000_000;
const at = (seconds: number) => new Date(seconds * 1000);
const token = { snapshot: '100:105:101,103', offset: 40, count: 20, issuedAt };

/** The status `decode` throws with. */
function statusOf(decode: () => unknown): number {
  try {
    decode();
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return getStatus(err.outcome);
    }
    throw err;
  }
  throw new Error('decoded');
}

/** A token signed the way the server signs, over any payload: shows that checks after the signature still hold. */
function signed(payload: object): string {
  const text = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const mac = createHmac('sha256', key)
    .update(JSON.stringify([text, binding.scope, binding.principal, [...binding.params].sort()]))
    .digest('base64url');
  return `${text}.${mac}`;
}

describe('page tokens', () => {
  test('round-trip snapshot, offset, count and issue time', () => {
    const text = encodePageToken(token, binding);
    expect(text).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(decodePageToken(text, binding, at(issuedAt + 60))).toEqual(token);
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
    expect(statusOf(() => decodePageToken(text, { ...binding, ...change }, at(issuedAt)))).toBe(400);
  });

  test('an altered offset or snapshot breaks the signature (400)', () => {
    const text = encodePageToken(token, binding);
    const [payload = '', mac = ''] = text.split('.');
    const altered = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    altered.s = '1:2:';
    const forged = `${Buffer.from(JSON.stringify(altered)).toString('base64url')}.${mac}`;
    expect(statusOf(() => decodePageToken(forged, binding, at(issuedAt)))).toBe(400);
  });

  test('expires an hour after the first page (410), and refuses one issued in the future', () => {
    const text = encodePageToken(token, binding);
    expect(decodePageToken(text, binding, at(issuedAt + PAGE_TOKEN_LIFETIME_SECONDS))).toEqual(token);
    expect(statusOf(() => decodePageToken(text, binding, at(issuedAt + PAGE_TOKEN_LIFETIME_SECONDS + 1)))).toBe(410);
    expect(statusOf(() => decodePageToken(text, binding, at(issuedAt - 3600)))).toBe(400);
  });

  test.each([
    ['not base64url', '***'],
    ['unsigned (the old format)', Buffer.from(JSON.stringify({ v: 1, s: '5:9:', o: 0, c: 1 })).toString('base64url')],
    ['not JSON', signed({}).replace(/^[^.]+/, Buffer.from('nope').toString('base64url'))],
    ['xmin above xmax', signed({ v: 2, s: '9:5:', o: 0, c: 1, t: issuedAt })],
    ['xip outside range', signed({ v: 2, s: '5:9:9', o: 0, c: 1, t: issuedAt })],
    ['zero count', signed({ v: 2, s: '5:9:', o: 0, c: 0, t: issuedAt })],
    ['huge count', signed({ v: 2, s: '5:9:', o: 0, c: 5000, t: issuedAt })],
    ['string offset', signed({ v: 2, s: '5:9:', o: '0', c: 1, t: issuedAt })],
    ['no issue time', signed({ v: 2, s: '5:9:', o: 0, c: 1 })],
  ])('rejects %s with a 400', (_name, text) => {
    expect(statusOf(() => decodePageToken(text, binding, at(issuedAt)))).toBe(400);
  });
});
