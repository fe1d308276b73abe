/**
 * HTTP hygiene over the real app: CORS only for configured origins, security headers on every answer, no framework
 * fingerprint.
 */
import { createTestApp, type TestApp } from '../test-harness';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ CORS_ORIGINS: 'https://app.carecircle.example' });
});
afterAll(async () => {
  await t.close();
});

test('CORS answers only configured origins', async () => {
  const allowed = await t.http.options('/fhir/R4/Patient').set('Origin', 'https://app.carecircle.example').set('Access-Control-Request-Method', 'GET');
  expect(allowed.status).toBe(204);
  expect(allowed.headers['access-control-allow-origin']).toBe('https://app.carecircle.example');
  const other = await t.http.get('/fhir/R4/metadata').set('Origin', 'https://evil.example');
  expect(other.headers['access-control-allow-origin']).toBeUndefined();
});

test('security headers on every response, errors included; no X-Powered-By', async () => {
  for (const res of [await t.http.get('/fhir/R4/metadata'), await t.http.get('/fhir/R4/Patient'), await t.http.get('/nowhere')]) {
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-powered-by']).toBeUndefined();
  }
});
