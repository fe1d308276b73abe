/**
 * Who may see and do what (issue 3), end to end: real SMART tokens (signed client assertions, the login form with
 * PKCE) against the FHIR API, real PostgreSQL and Redis. Each rule has a test that fails if the rule breaks.
 */
import type { Bundle, Observation, Patient, Resource } from '@medplum/fhirtypes';
import { buildObservation, buildOrganization, buildPatient } from '@carecircle/testing';
import { buildSharingConsent } from '@carecircle/consent';
import { logInUser, registerApp, registerSystemClient } from '../smart-test-clients';
import { createTestApp, fhirClient, type TestApp } from '../test-harness';

const PSYCHOTHERAPY_NOTES = { system: 'https://carecircle.dev/fhir/CodeSystem/share-category', code: 'psychotherapy-notes' };

let t: TestApp;
const tokens: Record<'practiceA' | 'practiceBReadOnly' | 'partnerC' | 'practitionerA' | 'clientPa1', string> = {
  practiceA: '',
  practiceBReadOnly: '',
  partnerC: '',
  practitionerA: '',
  clientPa1: '',
};
let pa1: Patient;
let pa2: Patient;
let pb1: Patient;
let obsPa1: Observation;
let notePa1: Observation;
let obsPb1: Observation;
let partnerOrganization: string;

async function asAdmin<T extends Resource>(resource: T): Promise<T> {
  const res = await fhirClient(t, t.adminToken).post(resource.resourceType, resource);
  expect(res.status).toBe(201);
  return res.body as T;
}

function as(token: string) {
  return fhirClient(t, token);
}

function refs(bundle: Bundle): string[] {
  return (bundle.entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`).sort();
}

beforeAll(async () => {
  t = await createTestApp();
  const [a, b, c] = [
    await asAdmin(buildOrganization({ id: undefined, name: 'Practice A' })),
    await asAdmin(buildOrganization({ name: 'Practice B' })),
    await asAdmin(buildOrganization({ name: 'Partner Clinic C' })),
  ];
  const orgA = `Organization/${a.id}`;
  partnerOrganization = `Organization/${c.id}`;
  const orgB = `Organization/${b.id}`;
  pa1 = await asAdmin(buildPatient({ managingOrganization: { reference: orgA } }));
  pa2 = await asAdmin(buildPatient({ managingOrganization: { reference: orgA } }));
  pb1 = await asAdmin(buildPatient({ managingOrganization: { reference: orgB } }));
  obsPa1 = await asAdmin(buildObservation(pa1.id as string));
  notePa1 = await asAdmin(buildObservation(pa1.id as string, { meta: { tag: [PSYCHOTHERAPY_NOTES] } }));
  obsPb1 = await asAdmin(buildObservation(pb1.id as string));

  tokens.practiceA = await (await registerSystemClient(t, orgA, 'system/*.cruds')).token();
  tokens.practiceBReadOnly = await (await registerSystemClient(t, orgB, 'system/Patient.rs system/Observation.rs')).token();
  tokens.partnerC = await (await registerSystemClient(t, `Organization/${c.id}`, 'system/*.rs')).token();
  const appId = await registerApp(t, 'launch/patient patient/*.rs patient/Consent.cu user/*.cruds');
  tokens.practitionerA = (await logInUser(t, appId, { fhirUser: 'Practitioner/dr-a', organization: orgA }, 'user/*.cruds')).access_token;
  const clientLogin = await logInUser(t, appId, { fhirUser: `Patient/${pa1.id}` }, 'launch/patient patient/*.rs patient/Consent.cu');
  expect(clientLogin.patient).toBe(pa1.id);
  tokens.clientPa1 = clientLogin.access_token;
});
afterAll(async () => {
  await t.close();
});

describe('a practice (custodian) system', () => {
  test('reads its own clients and nothing of another practice’s: 404, as if absent', async () => {
    expect((await as(tokens.practiceA).get(`Patient/${pa1.id}`)).status).toBe(200);
    expect((await as(tokens.practiceA).get(`Patient/${pb1.id}`)).status).toBe(404);
    expect((await as(tokens.practiceA).get(`Observation/${obsPb1.id}`)).status).toBe(404);
    expect((await as(tokens.practiceA).get(`Patient/${pb1.id}/_history`)).status).toBe(404);
    expect((await as(tokens.practiceA).get(`Patient/${pb1.id}/_history/1`)).status).toBe(404);
  });

  test('searches, counts, includes and history never show another practice’s clients', async () => {
    const patients = (await as(tokens.practiceA).get('Patient?_count=100')).body as Bundle;
    expect(refs(patients)).toEqual([`Patient/${pa1.id}`, `Patient/${pa2.id}`].sort());
    expect(patients.total).toBe(2);
    const observations = (await as(tokens.practiceA).get('Observation?_include=Observation:subject')).body as Bundle;
    expect(refs(observations)).toEqual([`Observation/${obsPa1.id}`, `Observation/${notePa1.id}`, `Patient/${pa1.id}`].sort());
    const revinclude = (await as(tokens.practiceA).get(`Patient?_revinclude=Observation:subject`)).body as Bundle;
    expect(refs(revinclude)).not.toContain(`Observation/${obsPb1.id}`);
    const history = (await as(tokens.practiceA).get('Observation/_history?_count=100')).body as Bundle;
    expect(history.entry?.map((e) => e.resource?.id)).not.toContain(obsPb1.id);
  });

  test('writes for its own clients, but not for another practice’s', async () => {
    expect((await as(tokens.practiceA).post('Observation', buildObservation(pa1.id as string))).status).toBe(201);
    expect([403, 404]).toContain((await as(tokens.practiceA).post('Observation', buildObservation(pb1.id as string))).status);
    expect((await as(tokens.practiceA).put(`Patient/${pb1.id}`, { ...pb1, gender: 'male' })).status).toBe(404);
  });

  test('a new client it creates is its own', async () => {
    const res = await as(tokens.practiceA).post('Patient', buildPatient({ managingOrganization: undefined }));
    expect(res.status).toBe(201);
    expect((res.body as Patient).managingOrganization?.reference).toBe(pa1.managingOrganization?.reference);
  });

  test('batch and transaction entries are held to the same rules', async () => {
    const batch = await as(tokens.practiceA).post('', {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [{ request: { method: 'GET', url: `Patient/${pa1.id}` } }, { request: { method: 'GET', url: `Patient/${pb1.id}` } }],
    });
    expect(batch.status).toBe(200);
    expect((batch.body as Bundle).entry?.map((e) => e.response?.status)).toEqual(['200 OK', '404']);

    const before = ((await as(tokens.practiceA).get(`Observation?subject=Patient/${pa1.id}&_summary=count`)).body as Bundle).total;
    const transaction = await as(tokens.practiceA).post('', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: buildObservation(pa1.id as string), request: { method: 'POST', url: 'Observation' } },
        { resource: buildObservation(pb1.id as string), request: { method: 'POST', url: 'Observation' } },
      ],
    });
    expect([403, 404]).toContain(transaction.status);
    const after = ((await as(tokens.practiceA).get(`Observation?subject=Patient/${pa1.id}&_summary=count`)).body as Bundle).total;
    expect(after).toBe(before);
  });
});

describe('scopes', () => {
  test('an interaction outside the granted scopes answers 403, in a request or inside a batch', async () => {
    expect((await as(tokens.practiceBReadOnly).get(`Patient/${pb1.id}`)).status).toBe(200);
    expect((await as(tokens.practiceBReadOnly).post('Observation', buildObservation(pb1.id as string))).status).toBe(403);
    expect((await as(tokens.practiceBReadOnly).get('Task')).status).toBe(403);
    const batch = await as(tokens.practiceBReadOnly).post('', {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [{ resource: buildObservation(pb1.id as string), request: { method: 'POST', url: 'Observation' } }],
    });
    expect((batch.body as Bundle).entry?.[0]?.response?.status).toBe('403');
  });

  test('asking for more than was registered grants only the intersection', async () => {
    const b = await registerSystemClient(t, pb1.managingOrganization?.reference as string, 'system/Patient.rs');
    const token = await b.token('system/Patient.rs system/Observation.cruds');
    expect((await as(token).get(`Patient/${pb1.id}`)).status).toBe(200);
    expect((await as(token).get('Observation')).status).toBe(403);
    expect((await as(token).post('Patient', buildPatient())).status).toBe(403);
  });

  test('_include of a type outside the scopes adds nothing', async () => {
    const b = await registerSystemClient(t, pb1.managingOrganization?.reference as string, 'system/Observation.rs');
    const token = await b.token();
    const res = await as(token).get('Observation?_include=Observation:subject');
    expect(res.status).toBe(200);
    expect(refs(res.body as Bundle).some((r) => r.startsWith('Patient/'))).toBe(false);
  });
});

describe('everyone else', () => {
  test('a partner clinic without consent sees nothing of a client', async () => {
    expect((await as(tokens.partnerC).get(`Patient/${pa1.id}`)).status).toBe(404);
    expect((await as(tokens.partnerC).get(`Observation/${obsPa1.id}`)).status).toBe(404);
    const search = (await as(tokens.partnerC).get('Patient?_total=accurate')).body as Bundle;
    expect(search.total).toBe(0);
    expect(search.entry).toBeUndefined();
  });

  test('directory resources are readable by any authenticated caller with scope', async () => {
    const res = await as(tokens.partnerC).get('Organization?_count=100');
    expect(res.status).toBe(200);
    expect((res.body as Bundle).total).toBeGreaterThanOrEqual(3);
  });

  test('forged, tampered and expired tokens answer 401', async () => {
    const [header, payload, signature] = tokens.partnerC.split('.');
    const claims = JSON.parse(Buffer.from(payload as string, 'base64url').toString()) as Record<string, unknown>;
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, organization: pa1.managingOrganization?.reference })).toString('base64url')}.${signature}`;
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    const expired = `${header}.${Buffer.from(JSON.stringify({ ...claims, exp: 1 })).toString('base64url')}.${signature}`;
    for (const token of [tampered, unsigned, expired, 'garbage']) {
      const res = await as(token).get(`Patient/${pa1.id}`);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    }
  });
});

describe('a client (patient login)', () => {
  test('reads the own record but not another client’s', async () => {
    expect((await as(tokens.clientPa1).get(`Patient/${pa1.id}`)).status).toBe(200);
    expect((await as(tokens.clientPa1).get(`Patient/${pa2.id}`)).status).toBe(404);
    expect((await as(tokens.clientPa1).get(`Patient/${pb1.id}`)).status).toBe(404);
    const patients = (await as(tokens.clientPa1).get('Patient')).body as Bundle;
    expect(refs(patients)).toEqual([`Patient/${pa1.id}`]);
  });

  test('never sees psychotherapy notes, even the own', async () => {
    const observations = (await as(tokens.clientPa1).get('Observation')).body as Bundle;
    expect(refs(observations)).toContain(`Observation/${obsPa1.id}`);
    expect(refs(observations)).not.toContain(`Observation/${notePa1.id}`);
    expect((await as(tokens.clientPa1).get(`Observation/${notePa1.id}`)).status).toBe(404);
    expect((await as(tokens.practiceA).get(`Observation/${notePa1.id}`)).status).toBe(200);
  });

  test('creates the own sharing consent, not one for someone else, and writes nothing else', async () => {
    const consent = (patient: string) =>
      buildSharingConsent({
        patient,
        custodian: pa1.managingOrganization?.reference as string,
        recipients: [partnerOrganization],
        categories: ['treatment-goals'],
      });
    expect((await as(tokens.clientPa1).post('Consent', consent(`Patient/${pa1.id}`))).status).toBe(201);
    expect((await as(tokens.clientPa1).post('Consent', consent(`Patient/${pa2.id}`))).status).toBe(403);
    expect((await as(tokens.clientPa1).post('Observation', buildObservation(pa1.id as string))).status).toBe(403);
  });
});

describe('a practitioner (user login)', () => {
  test('works within the practice’s clients', async () => {
    expect((await as(tokens.practitionerA).get(`Patient/${pa1.id}`)).status).toBe(200);
    expect((await as(tokens.practitionerA).get(`Patient/${pb1.id}`)).status).toBe(404);
    expect((await as(tokens.practitionerA).post('Observation', buildObservation(pa2.id as string))).status).toBe(201);
  });
});
