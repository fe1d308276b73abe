/**
 * Conditional reads over HTTP: If-None-Match and If-Modified-Since on read and vread answer 304 with the version's
 * ETag and Last-Modified, also when the request carries `Cache-Control: no-cache` as fetch-based clients do; a 304 is
 * still the read it answers, audited like one.
 */
import { buildPatient } from '@carecircle/testing';
import type { AuditEvent, Bundle, Patient } from '@medplum/fhirtypes';
import { createTestApp, fhirClient, type TestApp } from '../test-harness';

let t: TestApp;
let patient: Patient;
let lastModified: string;

beforeAll(async () => {
  t = await createTestApp();
  const created = await fhirClient(t, t.adminToken).post('Patient', buildPatient());
  expect(created.status).toBe(201);
  patient = created.body as Patient;
  lastModified = String(created.headers['last-modified']);
});
afterAll(async () => {
  await t.close();
});

const NO_CACHE = { 'Cache-Control': 'no-cache' };
const later = () => new Date(Date.parse(lastModified) + 60_000).toUTCString();
const earlier = () => new Date(Date.parse(lastModified) - 60_000).toUTCString();

describe.each([
  ['read', () => `Patient/${patient.id}`],
  ['vread', () => `Patient/${patient.id}/_history/1`],
])('%s', (_name, path) => {
  test('If-Modified-Since at or after Last-Modified answers 304 with the ETag and Last-Modified, with Cache-Control: no-cache too', async () => {
    for (const headers of [{}, NO_CACHE, { 'Cache-Control': 'no-cache, no-store, max-age=0' }]) {
      for (const since of [lastModified, later()]) {
        const res = await fhirClient(t, t.adminToken, { ...headers, 'If-Modified-Since': since }).get(path());
        expect(res.status).toBe(304);
        expect(res.text ?? '').toBe('');
        expect(res.headers.etag).toBe('W/"1"');
        expect(res.headers['last-modified']).toBe(lastModified);
      }
    }
  });

  test('If-Modified-Since before Last-Modified, or not an HTTP date, answers 200 with the resource', async () => {
    for (const since of [earlier(), 'yesterday', '2020-01-01T00:00:00Z']) {
      const res = await fhirClient(t, t.adminToken, { ...NO_CACHE, 'If-Modified-Since': since }).get(path());
      expect(res.status).toBe(200);
      expect((res.body as Patient).id).toBe(patient.id);
      expect(res.headers.etag).toBe('W/"1"');
    }
  });

  test('If-None-Match with the ETag (alone, in a list, or *) answers 304 whatever Cache-Control says; another tag 200', async () => {
    for (const tag of ['W/"1"', '"1"', 'W/"7", W/"1"', '*']) {
      const res = await fhirClient(t, t.adminToken, { ...NO_CACHE, 'If-None-Match': tag }).get(path());
      expect(res.status).toBe(304);
      expect(res.headers.etag).toBe('W/"1"');
    }
    const other = await fhirClient(t, t.adminToken, { ...NO_CACHE, 'If-None-Match': 'W/"2"' }).get(path());
    expect(other.status).toBe(200);
  });

  test('If-None-Match wins over If-Modified-Since (RFC 9110 section 13.2.2)', async () => {
    const res = await fhirClient(t, t.adminToken, { ...NO_CACHE, 'If-None-Match': 'W/"2"', 'If-Modified-Since': later() }).get(path());
    expect(res.status).toBe(200);
  });
});

test('a newer version answers 200 to the old ETag and to an If-Modified-Since before its change', async () => {
  const { status } = await fhirClient(t, t.adminToken).put(`Patient/${patient.id}`, { ...patient, gender: 'other' });
  expect(status).toBe(200);
  const byTag = await fhirClient(t, t.adminToken, { ...NO_CACHE, 'If-None-Match': 'W/"1"' }).get(`Patient/${patient.id}`);
  expect(byTag.status).toBe(200);
  expect(byTag.headers.etag).toBe('W/"2"');
  const byDate = await fhirClient(t, t.adminToken, { ...NO_CACHE, 'If-Modified-Since': earlier() }).get(`Patient/${patient.id}`);
  expect(byDate.status).toBe(200);
  // The old version itself has not changed: its vread is still not modified.
  const vread = await fhirClient(t, t.adminToken, { ...NO_CACHE, 'If-None-Match': 'W/"1"' }).get(`Patient/${patient.id}/_history/1`);
  expect(vread.status).toBe(304);
});

test('in a batch, a GET entry with ifModifiedSince answers 304', async () => {
  const batch: Bundle = {
    resourceType: 'Bundle',
    type: 'batch',
    entry: [{ request: { method: 'GET', url: `Patient/${patient.id}/_history/1`, ifModifiedSince: later() } }],
  };
  const res = await fhirClient(t, t.adminToken).post('', batch);
  expect(res.status).toBe(200);
  expect((res.body as Bundle).entry?.[0]?.response?.status).toMatch(/^304/);
});

test('a 304 is audited as the read it answers (it tells the caller its copy is current)', async () => {
  const count = async () => {
    const res = await fhirClient(t, t.adminToken).get(`AuditEvent?patient=Patient/${patient.id}&_count=1000`);
    return ((res.body as Bundle).entry ?? []).filter((e) => (e.resource as AuditEvent).subtype?.some((s) => s.code === 'read')).length;
  };
  const before = await count();
  const res = await fhirClient(t, t.adminToken, { ...NO_CACHE, 'If-Modified-Since': later() }).get(`Patient/${patient.id}`);
  expect(res.status).toBe(304);
  expect(await count()).toBe(before + 1);
});
