import { OperationOutcomeError } from '@medplum/core';
import { decodePageToken, encodePageToken } from './page-token';

describe('page tokens', () => {
  test('round-trip snapshot, offset and count', () => {
    const token = { snapshot: '100:105:101,103', offset: 40, count: 20 };
    expect(decodePageToken(encodePageToken(token))).toEqual(token);
    expect(encodePageToken(token)).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  test.each([
    ['not base64url', '***'],
    ['not JSON', Buffer.from('nope').toString('base64url')],
    ['xmin above xmax', Buffer.from(JSON.stringify({ v: 1, s: '9:5:', o: 0, c: 1 })).toString('base64url')],
    ['xip outside range', Buffer.from(JSON.stringify({ v: 1, s: '5:9:9', o: 0, c: 1 })).toString('base64url')],
    ['zero count', Buffer.from(JSON.stringify({ v: 1, s: '5:9:', o: 0, c: 0 })).toString('base64url')],
    ['huge count', Buffer.from(JSON.stringify({ v: 1, s: '5:9:', o: 0, c: 5000 })).toString('base64url')],
    ['string offset', Buffer.from(JSON.stringify({ v: 1, s: '5:9:', o: '0', c: 1 })).toString('base64url')],
  ])('rejects %s with a 400', (_name, text) => {
    expect(() => decodePageToken(text)).toThrow(OperationOutcomeError);
  });
});
