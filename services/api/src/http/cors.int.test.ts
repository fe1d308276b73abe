/**
 * CORS over the real app: preflights allow every header a FHIR browser app sends (purpose of use, conditional
 * headers, Prefer), and `Vary: Origin` is on every response once CORS is configured, for any origin or none.
 */
import { createTestApp, type TestApp } from '../test-harness';

const APP_ORIGIN = 'https://app.carecircle.example';
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ CORS_ORIGINS: APP_ORIGIN });
});
afterAll(async () => {
  await t.close();
});

test('a preflight allows the purpose-of-use, conditional and Prefer headers', async () => {
  const res = await t.http
    .options('/fhir/R4/Patient')
    .set('Origin', APP_ORIGIN)
    .set('Access-Control-Request-Method', 'PUT')
    .set('Access-Control-Request-Headers', 'authorization, x-purpose-of-use, if-match, if-none-exist, prefer');
  expect(res.status).toBe(204);
  const allowed = String(res.headers['access-control-allow-headers']).toLowerCase().split(/\s*,\s*/);
  expect(allowed).toEqual(expect.arrayContaining(['authorization', 'x-purpose-of-use', 'if-match', 'if-none-exist', 'if-none-match', 'prefer', 'content-type']));
  expect(res.headers.vary).toMatch(/\bOrigin\b/);
});

test.each<[string, string | undefined]>([
  ['an allowed origin', APP_ORIGIN],
  ['another origin', 'https://evil.example'],
  ['no origin', undefined],
])('Vary: Origin is sent for %s', async (_name, origin) => {
  const req = t.http.get('/fhir/R4/metadata');
  const res = await (origin ? req.set('Origin', origin) : req);
  expect(res.headers.vary).toMatch(/\bOrigin\b/);
  expect(res.headers['access-control-allow-origin']).toBe(origin === APP_ORIGIN ? APP_ORIGIN : undefined);
});

test('without CORS_ORIGINS nothing CORS-related is added', async () => {
  const plain = await createTestApp();
  try {
    const res = await plain.http.get('/fhir/R4/metadata').set('Origin', APP_ORIGIN);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers.vary ?? '').not.toMatch(/\bOrigin\b/);
  } finally {
    await plain.close();
  }
});
