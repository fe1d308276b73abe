/**
 * Who may see and do what (issue 3), end to end: real SMART tokens (signed client assertions, the login form with
 * PKCE) against the FHIR API, real PostgreSQL and Redis. Each rule has a test that fails if the rule breaks.
 */
import { createHmac, createPublicKey } from 'node:crypto';
import type { Bundle, Observation, OperationOutcome, Patient, Resource } from '@medplum/fhirtypes';
import { issueAccessToken, SUPPORTED_PURPOSES_OF_USE, type AccessTokenSubject } from '@carecircle/auth';
import { buildObservation, buildOrganization, buildPatient, buildPractitioner } from '@carecircle/testing';
import { buildSharingConsent } from '@carecircle/consent';
import { PURPOSES_OF_USE as HEADER_PURPOSES } from './purpose-of-use';
import { createAsAdmin, logInUser, registerApp, registerSystemClient } from '../smart-test-clients';
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

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeHeader(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()) as Record<string, unknown>;
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
  const drA = await createAsAdmin(t, buildPractitioner());
  tokens.practitionerA = (await logInUser(t, appId, { fhirUser: drA, organization: orgA }, 'user/*.cruds')).access_token;
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

  test('_revinclude of a type outside the scopes is 403, and never shows another practice’s resources', async () => {
    const b = await registerSystemClient(t, pb1.managingOrganization?.reference as string, 'system/Patient.rs');
    const res = await as(await b.token()).get('Patient?_revinclude=Observation:subject');
    expect(res.status).toBe(403);
    expect((res.body as OperationOutcome).resourceType).toBe('OperationOutcome');
    const wide = await as(tokens.practiceBReadOnly).get('Patient?_revinclude=Observation:subject');
    expect(refs(wide.body as Bundle)).toEqual([`Observation/${obsPb1.id}`, `Patient/${pb1.id}`].sort());
  });

  test('a transaction with one entry outside the scopes is 403 and writes nothing', async () => {
    const count = async () => ((await as(tokens.practiceA).get(`Observation?subject=Patient/${pb1.id}&_summary=count`)).body as Bundle).total;
    const countPb1 = async () => ((await fhirClient(t, t.adminToken).get(`Observation?subject=Patient/${pb1.id}&_summary=count`)).body as Bundle).total;
    expect(await count()).toBe(0); // practice A cannot see practice B's client at all
    const before = await countPb1();
    const res = await as(tokens.practiceBReadOnly).post('', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { request: { method: 'GET', url: `Patient/${pb1.id}` } },
        { resource: buildObservation(pb1.id as string), request: { method: 'POST', url: 'Observation' } },
      ],
    });
    expect(res.status).toBe(403);
    expect((res.body as OperationOutcome).resourceType).toBe('OperationOutcome');
    expect(await countPb1()).toBe(before);
  });

  test('_include naming a type outside the scopes is 403; an _include naming none adds only types in scope', async () => {
    const b = await registerSystemClient(t, pb1.managingOrganization?.reference as string, 'system/Observation.rs');
    const token = await b.token();
    const named = await as(token).get('Observation?_include=Observation:subject:Patient');
    expect(named.status).toBe(403);
    const res = await as(token).get('Observation?_include=Observation:subject');
    expect(res.status).toBe(200);
    expect(refs(res.body as Bundle)).toContain(`Observation/${obsPb1.id}`);
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

  test('forged and tampered tokens answer 401', async () => {
    const [header, payload, signature] = tokens.partnerC.split('.');
    const claims = JSON.parse(Buffer.from(payload as string, 'base64url').toString()) as Record<string, unknown>;
    const tampered = `${header}.${base64url({ ...claims, organization: pa1.managingOrganization?.reference })}.${signature}`;
    const unsigned = `${base64url({ alg: 'none', typ: 'JWT' })}.${payload}.`;
    const unsignedWithKid = `${base64url({ ...decodeHeader(tokens.partnerC), alg: 'none' })}.${payload}.`;
    // Algorithm confusion: HS256 keyed with the server's published public key (PEM and JWK text alike).
    const jwks = (await t.http.get('/.well-known/jwks.json').expect(200)).body as { keys: Record<string, unknown>[] };
    const publicJwk = jwks.keys.find((k) => k.kid === decodeHeader(tokens.partnerC).kid) as Record<string, unknown>;
    const publicPem = createPublicKey({ key: publicJwk as never, format: 'jwk' }).export({ format: 'pem', type: 'spki' }).toString();
    const hsHead = `${base64url({ alg: 'HS256', typ: 'JWT', kid: publicJwk.kid })}.${payload}`;
    const hsPem = `${hsHead}.${createHmac('sha256', publicPem).update(hsHead).digest('base64url')}`;
    const hsJwk = `${hsHead}.${createHmac('sha256', JSON.stringify(publicJwk)).update(hsHead).digest('base64url')}`;
    for (const token of [tampered, unsigned, unsignedWithKid, hsPem, hsJwk, 'garbage']) {
      const res = await as(token).get(`Patient/${pa1.id}`);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    }
  });

  test('correctly signed tokens that are expired, for another audience or from another issuer answer 401', async () => {
    const claims = JSON.parse(Buffer.from(tokens.partnerC.split('.')[1] as string, 'base64url').toString()) as AccessTokenSubject;
    const subject: AccessTokenSubject = { sub: claims.sub, client_id: claims.client_id, scope: claims.scope, organization: claims.organization as string };
    const fresh = await issueAccessToken(t.services, subject, 300);
    expect((await as(fresh.accessToken).get('Organization')).status).toBe(200);
    // Signed by the server's own key, exactly as the token endpoint signs, but expired two minutes ago (past the skew).
    const expired = await issueAccessToken(t.services, subject, -120);
    const otherAudience = await issueAccessToken({ ...t.services, config: { ...t.services.config, fhirBaseUrl: 'https://other.example/fhir/R4' } }, subject, 300);
    const otherIssuer = await issueAccessToken({ ...t.services, config: { ...t.services.config, baseUrl: 'https://other.example' } }, subject, 300);
    for (const token of [expired, otherAudience, otherIssuer]) {
      const res = await as(token.accessToken).get('Organization');
      expect(res.status).toBe(401);
      expect((res.body as OperationOutcome).resourceType).toBe('OperationOutcome');
    }
  });
});

describe('system-level history with real caller policies', () => {
  const historyRefs = async (token: string): Promise<string[]> => {
    const res = await as(token).get('_history?_count=1000');
    expect(res.status).toBe(200);
    return [...new Set(((res.body as Bundle).entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`))];
  };

  test('a practice sees its own clients’ versions and never another practice’s', async () => {
    const seen = await historyRefs(tokens.practiceA);
    expect(seen).toEqual(expect.arrayContaining([`Patient/${pa1.id}`, `Patient/${pa2.id}`, `Observation/${obsPa1.id}`]));
    expect(seen).not.toContain(`Patient/${pb1.id}`);
    expect(seen).not.toContain(`Observation/${obsPb1.id}`);
  });

  test('another practice sees its own and not practice A’s, only in the types its scopes allow', async () => {
    const seen = await historyRefs(tokens.practiceBReadOnly);
    expect(seen).toEqual(expect.arrayContaining([`Patient/${pb1.id}`, `Observation/${obsPb1.id}`]));
    expect(seen.every((r) => r.startsWith('Patient/') || r.startsWith('Observation/'))).toBe(true);
    for (const other of [`Patient/${pa1.id}`, `Patient/${pa2.id}`, `Observation/${obsPa1.id}`, `Observation/${notePa1.id}`]) {
      expect(seen).not.toContain(other);
    }
  });

  test('a client sees only the own record, without psychotherapy notes', async () => {
    const seen = await historyRefs(tokens.clientPa1);
    const clinical = seen.filter((r) => r.startsWith('Patient/') || r.startsWith('Observation/'));
    expect(clinical).toContain(`Patient/${pa1.id}`);
    expect(clinical).toContain(`Observation/${obsPa1.id}`);
    expect(clinical).not.toContain(`Observation/${notePa1.id}`);
    expect(clinical.every((r) => r === `Patient/${pa1.id}` || r.startsWith('Observation/'))).toBe(true);
    expect(clinical).not.toContain(`Patient/${pa2.id}`);
    expect(clinical).not.toContain(`Observation/${obsPb1.id}`);
  });
});

describe('purpose of use from the token', () => {
  let partner: string;
  let partnerClient: Awaited<ReturnType<typeof registerSystemClient>>;
  let sharedObservation: Observation;

  beforeAll(async () => {
    partner = await createAsAdmin(t, buildOrganization({ name: 'Care management partner' }));
    partnerClient = await registerSystemClient(t, partner, 'system/*.rs');
    sharedObservation = await asAdmin(buildObservation(pa2.id as string));
    await asAdmin(
      buildSharingConsent({
        patient: `Patient/${pa2.id}`,
        custodian: pa2.managingOrganization?.reference as string,
        recipients: [partner],
        categories: ['progress'],
        purposes: ['CAREMGT'],
      }),
    );
  });

  test('the token endpoint and the X-Purpose-Of-Use header accept the same purposes', () => {
    expect([...SUPPORTED_PURPOSES_OF_USE].sort()).toEqual([...HEADER_PURPOSES].sort());
  });

  test('a token issued for CAREMGT sees what a CAREMGT-only consent shares, without any header', async () => {
    const token = await partnerClient.token('system/*.rs', { purpose_of_use: 'CAREMGT' });
    expect((await as(token).get(`Observation/${sharedObservation.id}`)).status).toBe(200);
  });

  test('a token issued for TREAT does not, and cannot switch to CAREMGT with the header (403)', async () => {
    const token = await partnerClient.token('system/*.rs', { purpose_of_use: 'TREAT' });
    expect((await as(token).get(`Observation/${sharedObservation.id}`)).status).toBe(404);
    const switched = await fhirClient(t, token, { 'X-Purpose-Of-Use': 'CAREMGT' }).get(`Observation/${sharedObservation.id}`);
    expect(switched.status).toBe(403);
    expect((switched.body as OperationOutcome).resourceType).toBe('OperationOutcome');
  });

  test('a token with several purposes acts for the first unless the header picks another of them', async () => {
    const token = await partnerClient.token('system/*.rs', { purpose_of_use: 'TREAT CAREMGT' });
    expect((await as(token).get(`Observation/${sharedObservation.id}`)).status).toBe(404);
    expect((await fhirClient(t, token, { 'X-Purpose-Of-Use': 'CAREMGT' }).get(`Observation/${sharedObservation.id}`)).status).toBe(200);
    expect((await fhirClient(t, token, { 'X-Purpose-Of-Use': 'HPAYMT' }).get(`Observation/${sharedObservation.id}`)).status).toBe(403);
  });

  test('a token without purposes accepts any supported header purpose, TREAT when none; an unknown one is 400', async () => {
    const token = await partnerClient.token();
    expect((await as(token).get(`Observation/${sharedObservation.id}`)).status).toBe(404);
    expect((await fhirClient(t, token, { 'X-Purpose-Of-Use': 'CAREMGT' }).get(`Observation/${sharedObservation.id}`)).status).toBe(200);
    expect((await fhirClient(t, token, { 'X-Purpose-Of-Use': 'MARKETING' }).get(`Observation/${sharedObservation.id}`)).status).toBe(400);
  });
});

describe('the access log names the caller', () => {
  test('kind, client id and organization for a system; no names, no patient ids', async () => {
    await as(tokens.practiceA).get(`Patient/${pa1.id}`).set('X-Request-Id', 'caller-in-log');
    const line = t.logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.requestId === 'caller-in-log');
    expect(line).toMatchObject({ caller: 'system', organization: pa1.managingOrganization?.reference, status: 200 });
    expect(typeof line?.clientId).toBe('string');
    expect(JSON.stringify(line)).not.toContain(pa1.id as string);
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
