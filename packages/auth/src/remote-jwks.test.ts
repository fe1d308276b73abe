import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { findJwksUriProblem, MIN_FETCH_INTERVAL_MS, RemoteJwksCache } from './remote-jwks';

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

describe('RemoteJwksCache: fetches bounded per URI, failures cached', () => {
  const development = { allowLoopback: true };
  let server: Server;
  let hits = 0;
  let status = 503;
  let uri = '';

  beforeAll(async () => {
    server = createServer((_req, res) => {
      hits++;
      res.statusCode = status;
      res.setHeader('content-type', 'application/json');
      res.end(status === 200 ? JSON.stringify({ keys: [{ kty: 'EC', kid: 'known', crv: 'P-384', x: 'x', y: 'y' }] }) : '');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  test('a failing URI is fetched once per interval, however many unknown kids are asked for', async () => {
    const cache = new RemoteJwksCache();
    const start = 1_000_000;
    hits = 0;
    status = 503;
    for (let i = 0; i < 5; i++) {
      expect(await cache.get(uri, `kid-${i}`, development, start + i * 1000)).toBeUndefined();
    }
    expect(hits).toBe(1);
    await cache.get(uri, 'kid-x', development, start + MIN_FETCH_INTERVAL_MS);
    expect(hits).toBe(2);
  });

  test('a working URI is refetched for an unknown kid at most once per interval, and kept for a known one', async () => {
    const cache = new RemoteJwksCache();
    const start = 5_000_000;
    hits = 0;
    status = 200;
    expect((await cache.get(uri, 'known', development, start))?.keys[0]?.kid).toBe('known');
    for (let i = 0; i < 5; i++) {
      await cache.get(uri, `forged-${i}`, development, start + 1 + i);
    }
    expect(hits).toBe(1);
    await cache.get(uri, 'forged', development, start + MIN_FETCH_INTERVAL_MS);
    expect(hits).toBe(2);
    await cache.get(uri, 'known', development, start + MIN_FETCH_INTERVAL_MS + 60_000);
    expect(hits).toBe(2);
  });
});
