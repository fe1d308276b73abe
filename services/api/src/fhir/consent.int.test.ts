/**
 * Consent-gated disclosure (issue 4), end to end over HTTP with real tokens, PostgreSQL and Redis: a partner sees
 * exactly what the client's consents permit, through every read path, before, during and after consent; every
 * disclosure and denial is audited; revocation works on the very next request. Psychotherapy notes never leave the
 * practice; consents naming practitioners and their roles match those practitioners; the explanations
 * ($disclosure-check, the $summary preview) say what the recipient's own token gets. (The randomised property test
 * over every read path is consent-property.int.test.ts.)
 */
import type {
  AuditEvent,
  Bundle,
  CarePlan,
  Communication,
  Consent,
  DocumentReference,
  Goal,
  Organization,
  Parameters as FhirParameters,
  Patient,
  Practitioner,
  PractitionerRole,
  Provenance,
  Resource,
} from '@medplum/fhirtypes';
import type { SharingConsentFacts } from '@carecircle/consent';
import { buildSharingConsent, SHARE_CATEGORIES, SHARE_CATEGORY_SYSTEM, type ShareCategory } from '@carecircle/consent';
import { sql } from '@carecircle/store';
import { buildObservation, buildOrganization, buildPatient, buildPractitioner } from '@carecircle/testing';
import { logInUser, registerApp, registerSystemClient } from '../smart-test-clients';
import { createdAs, createTestApp, fhirClient, type TestApp } from '../test-harness';

let t: TestApp;
let admin: string;
let practice: string;
let obgyn: string;
let urology: string;
let practiceToken: string;
let obgynToken: string;
let urologyToken: string;
let obgynDoctorToken: string;
let clientToken: string;
let client: Patient;
let otherClient: Patient;
let appId: string;

function tagged<T extends Resource>(resource: T, category: ShareCategory): T {
  return { ...resource, meta: { ...resource.meta, tag: [{ system: SHARE_CATEGORY_SYSTEM, code: category }] } };
}

function as(token: string, headers: Record<string, string> = {}) {
  return fhirClient(t, token, headers);
}

const created = <T extends Resource>(token: string, resource: T): Promise<T> => createdAs(t, token, resource);

/** Every match of a search, following next links to the end. */
async function searchAll(token: string, query: string, headers: Record<string, string> = {}): Promise<Resource[]> {
  const found: Resource[] = [];
  let path: string | undefined = query;
  while (path) {
    const res = await as(token, headers).get(path);
    expect(res.status).toBe(200);
    const bundle = res.body as Bundle;
    found.push(...(bundle.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource as Resource));
    path = bundle.link?.find((l) => l.relation === 'next')?.url?.replace(`${t.services.config.fhirBaseUrl}/`, '');
  }
  return found;
}

const ref = (r: Resource) => `${r.resourceType}/${r.id}`;
const SIGNED = { sourceAttachment: { contentType: 'application/pdf', title: 'Signed release', data: 'JVBERi0=' } };

/** A new client of the practice. */
async function newClient(family: string): Promise<Patient> {
  return created(practiceToken, buildPatient({ name: [{ family }] }));
}

/** A consent the practice records on the client's signed request. */
async function recordConsent(facts: Omit<SharingConsentFacts, 'custodian'>): Promise<Consent> {
  return created(practiceToken, { ...buildSharingConsent({ custodian: practice, ...facts }), ...SIGNED });
}

/** A user token for `fhirUser` (a new account), with `scope`. */
async function userToken(fhirUser: string, organization: string | undefined, scope: string): Promise<string> {
  return (await logInUser(t, appId, { fhirUser, ...(organization ? { organization } : {}) }, scope)).access_token;
}

/** The AuditEvents of `patient` written by the request with X-Request-Id `requestId`. */
async function auditOf(patient: Patient, requestId: string): Promise<AuditEvent[]> {
  const events = (await searchAll(practiceToken, `AuditEvent?patient=${ref(patient)}&_count=500`)) as AuditEvent[];
  return events.filter((e) => e.source?.site === requestId);
}

let requests = 0;
/** A fresh X-Request-Id, to find what one request wrote to the audit trail. */
function requestIdHeader(): Record<string, string> {
  return { 'X-Request-Id': `consent-test-${++requests}-${Date.now()}` };
}

beforeAll(async () => {
  t = await createTestApp();
  admin = t.adminToken;
  practice = `Organization/${(await created(admin, buildOrganization({ name: 'Riverside Sex Therapy' }))).id}`;
  obgyn = `Organization/${(await created(admin, buildOrganization({ name: 'Eastside OB-GYN' }))).id}`;
  urology = `Organization/${(await created(admin, buildOrganization({ name: 'Northside Urology' }))).id}`;
  const doctor = await created(admin, buildPractitioner());
  practiceToken = await (await registerSystemClient(t, practice, 'system/*.cruds')).token();
  obgynToken = await (await registerSystemClient(t, obgyn, 'system/*.rs')).token();
  urologyToken = await (await registerSystemClient(t, urology, 'system/*.rs')).token();
  client = await created(practiceToken, buildPatient());
  otherClient = await created(practiceToken, buildPatient({ name: [{ family: 'Other' }] }));
  appId = await registerApp(t, 'launch/patient patient/*.rs patient/Consent.cu user/*.rs');
  obgynDoctorToken = (await logInUser(t, appId, { fhirUser: `Practitioner/${doctor.id}`, organization: obgyn }, 'user/*.rs')).access_token;
  clientToken = (await logInUser(t, appId, { fhirUser: `Patient/${client.id}` }, 'launch/patient patient/*.rs patient/Consent.cu')).access_token;
});
afterAll(async () => {
  await t.close();
});

describe('labels', () => {
  test('the server fills in the share category and its security labels', async () => {
    const goal = await created<Goal>(practiceToken, { resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'Reduce pain with penetration' }, subject: { reference: ref(client) } });
    expect(goal.meta?.tag).toEqual([expect.objectContaining({ system: SHARE_CATEGORY_SYSTEM, code: 'treatment-goals' })]);
    expect(goal.meta?.security).toEqual([expect.objectContaining({ code: 'R' })]);
    const trauma = await created(practiceToken, tagged(buildObservation(client.id as string), 'trauma-history'));
    expect(trauma.meta?.security?.map((c) => c.code)).toEqual(['V', 'SDV']);
  });

  test('a writer cannot lower a label', async () => {
    const trauma = await created(practiceToken, tagged(buildObservation(client.id as string), 'trauma-history'));
    const lower = [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'N' }];
    const res = await as(practiceToken).put(`Observation/${trauma.id}`, { ...trauma, meta: { tag: trauma.meta?.tag, security: lower } });
    expect(res.status).toBe(200);
    expect((res.body as Resource).meta?.security?.map((c) => c.code)).toEqual(['V', 'SDV']);
  });
});

describe('writing consents', () => {
  const consentFor = (overrides: Partial<SharingConsentFacts> = {}) =>
    buildSharingConsent({ patient: ref(client), custodian: practice, recipients: [obgyn], categories: ['treatment-goals'], ...overrides });

  // Overrides are functions: the organizations exist only once beforeAll has run.
  test.each<[string, () => Partial<SharingConsentFacts>, number]>([
    ['an unknown recipient', () => ({ recipients: ['Organization/does-not-exist'] }), 422],
    ['a period ending before it starts', () => ({ period: { start: '2026-05-01', end: '2026-04-01' } }), 400],
    ['psychotherapy notes', () => ({ categories: ['psychotherapy-notes'] }), 422],
    ['the wrong custodian', () => ({ custodian: obgyn }), 422],
  ])('refuses %s', async (_name, overrides, status) => {
    const res = await as(clientToken).post('Consent', consentFor(overrides()));
    expect({ status: res.status, issue: res.body.issue?.[0]?.details?.text }).toEqual({ status, issue: expect.any(String) });
    expect(res.body.resourceType).toBe('OperationOutcome');
  });

  test('an unknown category is refused', async () => {
    const consent = consentFor();
    consent.provision!.code = [{ coding: [{ system: SHARE_CATEGORY_SYSTEM, code: 'everything' }] }];
    expect((await as(clientToken).post('Consent', consent)).status).toBe(400);
  });

  test('the practice records a consent only with the signed request attached; partners cannot write consents', async () => {
    expect((await as(practiceToken).post('Consent', consentFor())).status).toBe(400);
    const signed = { ...consentFor(), sourceAttachment: { contentType: 'application/pdf', title: 'Signed release', data: 'JVBERi0=' } };
    const recorded = await as(practiceToken).post('Consent', signed);
    expect(recorded.status).toBe(201);
    expect([403, 404]).toContain((await as(obgynToken).post('Consent', consentFor())).status);
    // A partner that may create resources at all is refused for who it is (403), before anything about the form.
    const writingPartner = await (await registerSystemClient(t, obgyn, 'system/*.cruds')).token();
    expect((await as(writingPartner).post('Consent', consentFor())).status).toBe(403);
    expect((await as(writingPartner).post('Consent', { ...consentFor(), ...SIGNED })).status).toBe(403);
    // Revoked again at once (on the client's request), so the disclosure tests below start from no consent.
    expect((await as(practiceToken).put(`Consent/${recorded.body.id}`, { ...recorded.body, status: 'inactive' })).status).toBe(200);
  });
});

describe('disclosure before, during and after consent', () => {
  let goal: Resource;
  let trauma: Resource;
  let progress: Resource;
  let note: Resource;
  let consent: Consent;

  beforeAll(async () => {
    goal = await created(practiceToken, { resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'Sensate focus stage 2' }, subject: { reference: ref(client) } });
    trauma = await created(practiceToken, tagged(buildObservation(client.id as string), 'trauma-history'));
    progress = await created(practiceToken, tagged(buildObservation(client.id as string), 'progress'));
    note = await created(practiceToken, tagged({ resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { contentType: 'text/plain', data: 'c2Vzc2lvbg==' } }], subject: { reference: ref(client) } }, 'psychotherapy-notes'));
  });

  test('before: the partner sees nothing', async () => {
    expect((await as(obgynToken).get(`Patient/${client.id}`)).status).toBe(404);
    expect((await as(obgynToken).get(`Goal/${goal.id}`)).status).toBe(404);
    expect(await searchAll(obgynToken, 'Observation')).toEqual([]);
    expect((await as(obgynToken).get(`Patient/${client.id}/$summary`)).status).toBe(404);
  });

  test('during: exactly the consented categories, through read, search, include, history and batch', async () => {
    consent = await created(clientToken, buildSharingConsent({ patient: ref(client), custodian: practice, recipients: [obgyn], categories: ['treatment-goals', 'trauma-history'] }));

    expect((await as(obgynToken).get(`Patient/${client.id}`)).status).toBe(200);
    expect((await as(obgynToken).get(`Patient/${otherClient.id}`)).status).toBe(404);
    expect((await as(obgynToken).get(`Goal/${goal.id}`)).status).toBe(200);
    expect((await as(obgynToken).get(`Observation/${trauma.id}`)).status).toBe(200);
    expect((await as(obgynToken).get(`Observation/${progress.id}`)).status).toBe(404);
    expect((await as(obgynToken).get(`DocumentReference/${note.id}`)).status).toBe(404);
    // The recipient reads the consent that names it (it knows what it may see); another clinic does not.
    expect((await as(obgynToken).get(`Consent/${consent.id}`)).status).toBe(200);
    expect((await as(urologyToken).get(`Consent/${consent.id}`)).status).toBe(404);
    expect((await searchAll(obgynToken, `Consent?actor=${obgyn}`)).map(ref)).toContain(ref(consent));
    expect(await searchAll(urologyToken, `Consent?patient=${ref(client)}`)).toEqual([]);

    const observations = await searchAll(obgynToken, `Observation?subject=${ref(client)}&_count=1`);
    expect(observations.map(ref).sort()).toEqual(
      (await searchAll(practiceToken, `Observation?subject=${ref(client)}&_tag=${SHARE_CATEGORY_SYSTEM}|trauma-history&_count=100`)).map(ref).sort(),
    );
    const count = (await as(obgynToken).get(`Observation?subject=${ref(client)}&_summary=count`)).body as Bundle;
    expect(count.total).toBe(observations.length);

    const withPatient = (await as(obgynToken).get(`Patient?_id=${client.id}&_revinclude=Observation:subject&_revinclude=DocumentReference:subject`)).body as Bundle;
    const included = (withPatient.entry ?? []).filter((e) => e.search?.mode === 'include').map((e) => ref(e.resource as Resource));
    expect(included).toContain(ref(trauma));
    expect(included).not.toContain(ref(progress));
    expect(included).not.toContain(ref(note));

    expect((await as(obgynToken).get(`Observation/${progress.id}/_history`)).status).toBe(404);
    const batch = await as(obgynToken).post('', { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: `Observation/${trauma.id}` } }, { request: { method: 'GET', url: `Observation/${progress.id}` } }] });
    expect((batch.body as Bundle).entry?.map((e) => e.response?.status)).toEqual(['200 OK', '404']);
  });

  test('during: a practitioner of the named organization matches through it; another clinic and another purpose do not', async () => {
    expect((await as(obgynDoctorToken).get(`Goal/${goal.id}`)).status).toBe(200);
    expect((await as(urologyToken).get(`Goal/${goal.id}`)).status).toBe(404);
    expect((await as(obgynToken, { 'X-Purpose-Of-Use': 'HPAYMT' }).get(`Goal/${goal.id}`)).status).toBe(404);
    expect((await as(obgynToken, { 'X-Purpose-Of-Use': 'NONSENSE' }).get(`Goal/${goal.id}`)).status).toBe(400);
  });

  test('during: the scoped summary has one section per permitted category; the custodian previews any recipient', async () => {
    const summary = (await as(obgynToken).get(`Patient/${client.id}/$summary`)).body as Bundle;
    expect(summary.type).toBe('document');
    const composition = summary.entry?.[0]?.resource as { resourceType: string; section: { code?: { coding?: { code?: string }[] }; text?: { div: string } }[] };
    expect(composition.resourceType).toBe('Composition');
    expect(composition.section.map((s) => s.code?.coding?.[0]?.code).sort()).toEqual(['trauma-history', 'treatment-goals']);
    expect(composition.section.every((s) => s.text?.div.startsWith('<div'))).toBe(true);
    const entries = summary.entry?.map((e) => e.resource?.resourceType);
    expect(entries).not.toContain('DocumentReference');

    const preview = (await as(practiceToken).get(`Patient/${client.id}/$summary?recipient=${obgyn}`)).body as Bundle;
    expect((preview.entry?.[0]?.resource as { section: unknown[] }).section).toHaveLength(2);
    const none = (await as(practiceToken).get(`Patient/${client.id}/$summary?recipient=${urology}`)).body as Bundle;
    expect(none.entry?.some((e) => e.resource?.resourceType === 'Patient')).toBe(false);
    expect((await as(obgynToken).get(`Patient/${client.id}/$summary?recipient=${urology}`)).status).toBe(403);
  });

  test('during: $disclosure-check explains the decision to the custodian and the client, not to partners', async () => {
    const permit = (await as(practiceToken).get(`Patient/${client.id}/$disclosure-check?recipient=${obgyn}&category=trauma-history`)).body as FhirParameters;
    expect(permit.parameter?.find((p) => p.name === 'permit')?.valueBoolean).toBe(true);
    expect(permit.parameter?.filter((p) => p.name === 'consent').map((p) => p.valueReference?.reference)).toContain(`Consent/${consent.id}`);
    const deny = (await as(clientToken).get(`Patient/${client.id}/$disclosure-check?recipient=${obgyn}&category=progress`)).body as FhirParameters;
    expect(deny.parameter?.find((p) => p.name === 'permit')?.valueBoolean).toBe(false);
    expect((await as(obgynToken).get(`Patient/${client.id}/$disclosure-check?recipient=${obgyn}&category=progress`)).status).toBe(403);
    expect((await as(practiceToken).get(`Patient/${client.id}/$disclosure-check?recipient=nobody&category=progress`)).status).toBe(400);
  });

  test('the client sees who saw what; partners cannot read the audit trail', async () => {
    const events = (await searchAll(clientToken, `AuditEvent?patient=${ref(client)}&_count=200`)) as AuditEvent[];
    const disclosed = events.filter((e) => e.outcome === '0').flatMap((e) => e.entity?.map((x) => x.what?.reference) ?? []);
    expect(disclosed.some((r) => r?.startsWith(`Observation/${trauma.id}/_history/`))).toBe(true);
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.agent?.some((a) => a.requestor && /^(Organization|Practitioner)\//.test(a.who?.reference ?? '')))).toBe(true);
    expect(events.some((e) => e.outcome === '0' && e.agent?.some((a) => a.who?.reference === obgyn))).toBe(true);
    const denied = events.filter((e) => e.outcome === '4').flatMap((e) => e.entity?.map((x) => x.what?.reference) ?? []);
    expect(denied).toContain(`Observation/${progress.id}`);
    expect(await searchAll(obgynToken, 'AuditEvent')).toEqual([]);
  });

  test('after: revocation takes effect on the very next request', async () => {
    const revoke = await as(clientToken).put(`Consent/${consent.id}`, { ...consent, status: 'inactive' });
    expect(revoke.status).toBe(200);
    expect((await as(obgynToken).get(`Goal/${goal.id}`)).status).toBe(404);
    expect((await as(obgynToken).get(`Patient/${client.id}`)).status).toBe(404);
    expect(await searchAll(obgynToken, `Observation?subject=${ref(client)}`)).toEqual([]);
    // The revoked consent stays readable to the recipient it named, so it learns of the revocation.
    const seen = await as(obgynToken).get(`Consent/${consent.id}`);
    expect({ status: seen.status, consentStatus: (seen.body as Consent).status }).toEqual({ status: 200, consentStatus: 'inactive' });
  });
});


describe('psychotherapy notes never leave the practice', () => {
  let pnClient: Patient;
  let pnClientToken: string;
  let note: DocumentReference;
  let plan: CarePlan;

  const noteOf = (patient: Patient, category: ShareCategory = 'psychotherapy-notes'): DocumentReference =>
    tagged({ resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { contentType: 'text/plain', data: 'c2Vzc2lvbg==' } }], subject: { reference: ref(patient) } }, category);

  beforeAll(async () => {
    pnClient = await newClient('Notes');
    pnClientToken = await userToken(ref(pnClient), undefined, 'launch/patient patient/*.rs patient/Consent.cu');
    await recordConsent({
      patient: ref(pnClient),
      recipients: [obgyn],
      categories: SHARE_CATEGORIES.filter((c) => c !== 'psychotherapy-notes'),
    });
    note = await created(practiceToken, noteOf(pnClient));
    plan = await created<CarePlan>(practiceToken, { resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: ref(pnClient) } });
  });

  test('a note cannot be re-filed out of psychotherapy notes, by PUT or PATCH; an update without a category keeps it a note', async () => {
    const put = await as(practiceToken).put(`DocumentReference/${note.id}`, { ...note, meta: { tag: [{ system: SHARE_CATEGORY_SYSTEM, code: 'progress' }] } });
    expect(put.status).toBe(422);
    const patch = await t.http
      .patch(`/fhir/R4/DocumentReference/${note.id}`)
      .set('Authorization', `Bearer ${practiceToken}`)
      .set('Content-Type', 'application/json-patch+json')
      .send(JSON.stringify([{ op: 'replace', path: '/meta/tag', value: [{ system: SHARE_CATEGORY_SYSTEM, code: 'progress' }] }]));
    expect(patch.status).toBe(422);
    const untagged = await as(practiceToken).put(`DocumentReference/${note.id}`, { ...note, meta: undefined, description: 'edited' });
    expect(untagged.status).toBe(200);
    expect((untagged.body as Resource).meta?.tag?.map((c) => c.code)).toEqual(['psychotherapy-notes']);
    expect((untagged.body as Resource).meta?.security?.map((c) => c.code)).toEqual(['V', 'PSYTHPN']);
    expect((await as(obgynToken).get(`DocumentReference/${note.id}`)).status).toBe(404);
    expect((await as(pnClientToken).get(`DocumentReference/${note.id}`)).status).toBe(404);
  });

  test('no writer lowers a category: trauma history cannot become progress', async () => {
    const trauma = await created(practiceToken, tagged(buildObservation(pnClient.id as string), 'trauma-history'));
    const res = await as(practiceToken).put(`Observation/${trauma.id}`, { ...trauma, meta: { tag: [{ system: SHARE_CATEGORY_SYSTEM, code: 'progress' }] } });
    expect(res.status).toBe(422);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });

  test('a version labelled PSYTHPN is never disclosed, whatever category it claims (data labelled before the rule)', async () => {
    const legacy = await created(practiceToken, noteOf(pnClient, 'progress'));
    expect((await as(obgynToken).get(`DocumentReference/${legacy.id}`)).status).toBe(200);
    await t.services.db.query(sql`
      UPDATE resource_version SET content = jsonb_set(content, '{meta,security}',
        '[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"V"},{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSYTHPN"}]')
      WHERE resource_type = 'DocumentReference' AND id = ${legacy.id as string}`);
    for (const token of [obgynToken, pnClientToken]) {
      expect((await as(token).get(`DocumentReference/${legacy.id}`)).status).toBe(404);
      expect((await as(token).get(`DocumentReference/${legacy.id}/_history/1`)).status).toBe(404);
      expect((await searchAll(token, `DocumentReference?subject=${ref(pnClient)}`)).map(ref)).not.toContain(ref(legacy));
    }
  });

  test('the earlier versions of a resource that became a note are notes too', async () => {
    const v1 = await created(practiceToken, noteOf(pnClient, 'progress'));
    expect((await as(obgynToken).get(`DocumentReference/${v1.id}/_history/1`)).status).toBe(200);
    expect((await as(practiceToken).put(`DocumentReference/${v1.id}`, { ...v1, meta: { tag: [{ system: SHARE_CATEGORY_SYSTEM, code: 'psychotherapy-notes' }] } })).status).toBe(200);
    for (const token of [obgynToken, pnClientToken]) {
      expect((await as(token).get(`DocumentReference/${v1.id}/_history/1`)).status).toBe(404);
      expect((await as(token).get(`DocumentReference/${v1.id}/_history`)).status).toBe(404);
      const typeHistory = (await as(token).get('DocumentReference/_history?_count=1000')).body as Bundle;
      expect((typeHistory.entry ?? []).map((e) => e.fullUrl ?? '').filter((u) => u.includes(v1.id as string))).toEqual([]);
    }
  });

  test('the client never sees a note: read, vread, search, count, revinclude, history, batch, $summary', async () => {
    const c = as(pnClientToken);
    expect((await c.get(`DocumentReference/${note.id}`)).status).toBe(404);
    expect((await c.get(`DocumentReference/${note.id}/_history/1`)).status).toBe(404);
    expect((await c.get(`DocumentReference/${note.id}/_history`)).status).toBe(404);
    expect((await searchAll(pnClientToken, 'DocumentReference')).map(ref)).not.toContain(ref(note));
    const visibleNotes = (await searchAll(practiceToken, `DocumentReference?subject=${ref(pnClient)}&_tag=${SHARE_CATEGORY_SYSTEM}|psychotherapy-notes`)).length;
    expect(visibleNotes).toBeGreaterThan(0);
    const all = (await searchAll(practiceToken, `DocumentReference?subject=${ref(pnClient)}`)).length;
    expect(((await c.get('DocumentReference?_summary=count')).body as Bundle).total).toBe(all - visibleNotes - 1 /* the legacy one */);
    const withNotes = (await c.get(`Patient?_id=${pnClient.id}&_revinclude=DocumentReference:subject`)).body as Bundle;
    expect(withNotes.entry?.map((e) => ref(e.resource as Resource))).not.toContain(ref(note));
    const history = (await c.get('_history?_count=1000')).body as Bundle;
    expect(history.entry?.some((e) => e.fullUrl?.includes(note.id as string))).toBe(false);
    const batch = (await c.post('', { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: `DocumentReference/${note.id}` } }] })).body as Bundle;
    expect(batch.entry?.[0]?.response?.status).toBe('404');
    const summary = (await c.get(`Patient/${pnClient.id}/$summary`)).body as Bundle;
    expect(summary.entry?.map((e) => ref(e.resource as Resource))).not.toContain(ref(note));
  });

  test('a Provenance the practice writes about a note is a note, whatever it is tagged', async () => {
    const provenance = await created<Provenance>(practiceToken, {
      resourceType: 'Provenance',
      meta: { tag: [{ system: SHARE_CATEGORY_SYSTEM, code: 'progress' }] },
      target: [{ reference: `DocumentReference/${note.id}` }, { reference: ref(pnClient) }],
      recorded: new Date().toISOString(),
      agent: [{ who: { reference: practice } }],
    });
    expect(provenance.meta?.tag?.map((c) => c.code)).toEqual(['psychotherapy-notes']);
    expect((await as(obgynToken).get(`Provenance/${provenance.id}`)).status).toBe(404);
    expect((await as(pnClientToken).get(`Provenance/${provenance.id}`)).status).toBe(404);
  });

  test('nothing shareable may point at a note: a CarePlan or Communication referencing one is 422, another note may', async () => {
    const planWithNote: CarePlan = {
      resourceType: 'CarePlan',
      status: 'active',
      intent: 'plan',
      subject: { reference: ref(pnClient) },
      supportingInfo: [{ reference: `DocumentReference/${note.id}`, display: 'Session 4 notes' }],
    };
    for (const token of [practiceToken, admin]) {
      const res = await as(token).post('CarePlan', planWithNote);
      expect(res.status).toBe(422);
      expect(JSON.stringify(res.body)).toContain('psychotherapy note');
    }
    const update = await as(practiceToken).put(`CarePlan/${plan.id}`, { ...plan, activity: [{ reference: { reference: `DocumentReference/${note.id}` } }] });
    expect(update.status).toBe(422);
    const message: Communication = {
      resourceType: 'Communication',
      status: 'completed',
      subject: { reference: ref(pnClient) },
      payload: [{ contentReference: { reference: `DocumentReference/${note.id}` } }],
    };
    expect((await as(practiceToken).post('Communication', message)).status).toBe(422);
    // A note may reference a note; a record of the note (Provenance) takes its labels instead.
    expect((await as(practiceToken).post('DocumentReference', { ...noteOf(pnClient), relatesTo: [{ code: 'appends', target: { reference: `DocumentReference/${note.id}` } }] })).status).toBe(201);
    expect((await as(practiceToken).post('Communication', tagged(message, 'psychotherapy-notes'))).status).toBe(201);
  });

  test('a note is not pointed at by an absolute URL either, and nothing referenced by a shareable resource becomes a note', async () => {
    const absolute = `${t.services.config.fhirBaseUrl}/DocumentReference/${note.id}`;
    const plan: CarePlan = { resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: ref(pnClient) }, supportingInfo: [{ reference: absolute }] };
    expect((await as(practiceToken).post('CarePlan', plan)).status).toBe(422);

    const session = await created(practiceToken, noteOf(pnClient, 'progress'));
    const pointing = await created<CarePlan>(practiceToken, {
      resourceType: 'CarePlan',
      status: 'active',
      intent: 'plan',
      subject: { reference: ref(pnClient) },
      supportingInfo: [{ reference: ref(session), display: 'Session 4' }],
    });
    const refile = () => as(practiceToken).put(`DocumentReference/${session.id}`, tagged({ ...session, meta: undefined }, 'psychotherapy-notes'));
    const refused = await refile();
    expect(refused.status).toBe(422);
    expect(JSON.stringify(refused.body)).toContain(`CarePlan/${pointing.id}`);
    // Once the reference is gone, the practice may file it as a note.
    expect((await as(practiceToken).put(`CarePlan/${pointing.id}`, { ...pointing, supportingInfo: undefined })).status).toBe(200);
    expect((await refile()).status).toBe(200);
  });

  test('only a record about a client can be a note: a directory resource labelled PSYTHPN is 400, so references to the directory need no look-up', async () => {
    const labelled = (resource: Organization | Practitioner): Organization | Practitioner => ({
      ...resource,
      meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'PSYTHPN' }] },
    });
    for (const [type, resource] of [['Organization', buildOrganization({ name: 'Notes Clinic' })], ['Practitioner', buildPractitioner()]] as const) {
      const refused = await as(admin).post(type, labelled(resource));
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', expression: [`${type}.meta.security`] }] });
      expect(JSON.stringify(refused.body)).toContain('cannot be a psychotherapy note');
    }
    // The practice's own Organization stays what a client's Patient names, and a Patient naming it is stored.
    const own = await as(practiceToken).post('Patient', { resourceType: 'Patient', name: [{ family: 'Directory' }] });
    expect(own.status).toBe(201);
    expect((own.body as Patient).managingOrganization?.reference).toBe(practice);
  });

  test('a partner naming a note it cannot see learns nothing: its write is judged as if the note did not exist', async () => {
    const partner = await (await registerSystemClient(t, obgyn, 'system/*.cruds')).token();
    const report = (about: string): Communication => ({
      resourceType: 'Communication',
      status: 'completed',
      subject: { reference: ref(pnClient) },
      about: [{ reference: ref(plan) }],
      sender: { reference: obgyn },
      payload: [{ contentString: 'Attended' }, { contentReference: { reference: about } }],
    });
    const toNote = await as(partner).post('Communication', report(`DocumentReference/${note.id}`));
    const toNothing = await as(partner).post('Communication', report('DocumentReference/no-such-document'));
    expect(toNote.status).toBe(toNothing.status);
    expect(JSON.stringify(toNote.body)).not.toContain('psychotherapy');
  });

  test('only the custodian uses psychotherapy-notes: a partner cannot file its progress report as a note', async () => {
    const partner = await (await registerSystemClient(t, obgyn, 'system/*.cruds')).token();
    const report = (category?: ShareCategory): Communication => ({
      resourceType: 'Communication',
      status: 'completed',
      subject: { reference: ref(pnClient) },
      about: [{ reference: ref(plan) }],
      sender: { reference: obgyn },
      payload: [{ contentString: 'Attended two sessions' }],
      ...(category ? { meta: { tag: [{ system: SHARE_CATEGORY_SYSTEM, code: category }] } } : {}),
    });
    expect((await as(partner).post('Communication', report('psychotherapy-notes'))).status).toBe(403);
    expect((await as(partner).post('Communication', report())).status).toBe(201);
  });
});

describe('consents that name a PractitionerRole match that practitioner, at that organization, while the role is active', () => {
  let roleClient: Patient;
  let goal: Goal;
  let role: PractitionerRole;
  let inactiveRole: PractitionerRole;
  let drLeeToken: string;
  let drKimToken: string;
  let roleConsent: Consent;

  beforeAll(async () => {
    roleClient = await newClient('Roles');
    const drLee = await created<Practitioner>(admin, buildPractitioner({ name: [{ family: 'Lee' }] }));
    const drKim = await created<Practitioner>(admin, buildPractitioner({ name: [{ family: 'Kim' }] }));
    role = await created<PractitionerRole>(admin, { resourceType: 'PractitionerRole', active: true, practitioner: { reference: ref(drLee) }, organization: { reference: obgyn } });
    inactiveRole = await created<PractitionerRole>(admin, { resourceType: 'PractitionerRole', active: false, practitioner: { reference: ref(drKim) }, organization: { reference: obgyn } });
    drLeeToken = await userToken(ref(drLee), obgyn, 'user/*.rs');
    drKimToken = await userToken(ref(drKim), obgyn, 'user/*.rs');
    goal = await created<Goal>(practiceToken, { resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'Pelvic floor relaxation' }, subject: { reference: ref(roleClient) } });
    roleConsent = await recordConsent({ patient: ref(roleClient), recipients: [ref(role), ref(inactiveRole)], categories: ['treatment-goals'] });
  });

  test('the practitioner of the role sees what the consent permits; the organization, its systems and its other practitioners do not', async () => {
    expect((await as(drLeeToken).get(`Goal/${goal.id}`)).status).toBe(200);
    expect((await as(drLeeToken).get(`Patient/${roleClient.id}`)).status).toBe(200);
    expect((await as(obgynToken).get(`Goal/${goal.id}`)).status).toBe(404);
    expect((await as(obgynDoctorToken).get(`Goal/${goal.id}`)).status).toBe(404);
    expect((await as(drKimToken).get(`Goal/${goal.id}`)).status).toBe(404);
  });

  test('$disclosure-check answers the same', async () => {
    const permit = async (recipient: string) =>
      ((await as(practiceToken).get(`Patient/${roleClient.id}/$disclosure-check?recipient=${recipient}&category=treatment-goals`)).body as FhirParameters)
        .parameter?.find((p) => p.name === 'permit')?.valueBoolean;
    expect(await permit(ref(role))).toBe(true);
    expect(await permit(ref(inactiveRole))).toBe(false);
    expect(await permit(obgyn)).toBe(false);
  });

  test("the practitioner reads the consent naming its role; the organization's systems do not", async () => {
    expect((await as(drLeeToken).get(`Consent/${roleConsent.id}`)).status).toBe(200);
    expect((await searchAll(drLeeToken, `Consent?patient=${ref(roleClient)}`)).map(ref)).toEqual([ref(roleConsent)]);
    expect((await as(obgynToken).get(`Consent/${roleConsent.id}`)).status).toBe(404);
  });
});

describe('$disclosure-check and the $summary preview say exactly what the recipient\'s token gets', () => {
  let agreeClient: Patient;
  const byCategory = new Map<ShareCategory, Resource>();
  const recipients: Array<{ reference: string; token: string }> = [];

  beforeAll(async () => {
    agreeClient = await newClient('Agree');
    for (const category of SHARE_CATEGORIES.filter((c) => c !== 'psychotherapy-notes' && c !== 'demographics')) {
      byCategory.set(category, await created(practiceToken, tagged(buildObservation(agreeClient.id as string), category)));
    }
    const drAgree = await created<Practitioner>(admin, buildPractitioner({ name: [{ family: 'Agree' }] }));
    const drRole = await created<Practitioner>(admin, buildPractitioner({ name: [{ family: 'Role' }] }));
    const roleAtUrology = await created<PractitionerRole>(admin, { resourceType: 'PractitionerRole', practitioner: { reference: ref(drRole) }, organization: { reference: urology } });
    await recordConsent({ patient: ref(agreeClient), recipients: [obgyn], categories: ['treatment-goals', 'progress'] });
    await recordConsent({ patient: ref(agreeClient), recipients: [ref(drAgree)], categories: ['mental-health'] });
    await recordConsent({ patient: ref(agreeClient), recipients: [ref(roleAtUrology)], categories: ['sexual-history'] });
    await recordConsent({ patient: ref(agreeClient), recipients: [urology], categories: ['medications'], purposes: ['HPAYMT'] });
    await recordConsent({ patient: ref(agreeClient), recipients: [obgyn], categories: ['care-plan'], period: { end: '2020-01-01' } });
    recipients.push(
      { reference: obgyn, token: obgynToken },
      { reference: urology, token: urologyToken },
      { reference: ref(drAgree), token: await userToken(ref(drAgree), obgyn, 'user/*.rs') },
      { reference: ref(roleAtUrology), token: await userToken(ref(drRole), urology, 'user/*.rs') },
      { reference: ref(drRole), token: await userToken(ref(drRole), urology, 'user/*.rs') },
    );
  });

  test.each(['TREAT', 'HPAYMT'])('for every recipient and category, purpose %s', async (purpose) => {
    for (const { reference, token } of recipients) {
      for (const category of SHARE_CATEGORIES.filter((c) => c !== 'psychotherapy-notes')) {
        const check = (await as(practiceToken).get(`Patient/${agreeClient.id}/$disclosure-check?recipient=${reference}&category=${category}&purpose=${purpose}`)).body as FhirParameters;
        const permit = check.parameter?.find((p) => p.name === 'permit')?.valueBoolean;
        const resource = category === 'demographics' ? agreeClient : (byCategory.get(category) as Resource);
        const status = (await as(token, { 'X-Purpose-Of-Use': purpose }).get(ref(resource))).status;
        expect({ reference, category, purpose, permit }).toEqual({ reference, category, purpose, permit: status === 200 });
      }
    }
  });

  test('the preview shows each recipient the sections its own $summary has', async () => {
    const sections = (bundle: Bundle) =>
      ((bundle.entry?.[0]?.resource as { section?: { code?: { coding?: { code?: string }[] } }[] }).section ?? [])
        .map((s) => s.code?.coding?.[0]?.code)
        .filter(Boolean)
        .sort();
    for (const { reference, token } of recipients) {
      const preview = (await as(practiceToken).get(`Patient/${agreeClient.id}/$summary?recipient=${reference}`)).body as Bundle;
      const own = await as(token).get(`Patient/${agreeClient.id}/$summary`);
      expect({ reference, sections: sections(preview) }).toEqual({ reference, sections: own.status === 200 ? sections(own.body as Bundle) : [] });
    }
  });

  test('the preview never shows the asker what its own scopes keep from it', async () => {
    const narrow = await (await registerSystemClient(t, practice, 'system/Patient.r system/Observation.u')).token();
    const preview = await as(narrow).get(`Patient/${agreeClient.id}/$summary?recipient=${obgyn}`);
    expect(preview.status).toBe(200);
    expect((preview.body as Bundle).entry?.map((e) => e.resource?.resourceType)).toEqual(['Composition', 'Patient']);
    const full = (await as(practiceToken).get(`Patient/${agreeClient.id}/$summary?recipient=${obgyn}`)).body as Bundle;
    expect(full.entry?.some((e) => e.resource?.resourceType === 'Observation')).toBe(true);
  });
});

describe('consents carry one fixed category and are never hidden from their client', () => {
  test.each<[string, ShareCategory | undefined, number]>([
    ['tagged psychotherapy notes', 'psychotherapy-notes', 400],
    ['tagged progress', 'progress', 400],
    ['untagged', undefined, 201],
  ])('a consent %s', async (_name, category, status) => {
    const consent = buildSharingConsent({ patient: ref(client), custodian: practice, recipients: [urology], categories: ['progress'] });
    const res = await as(clientToken).post('Consent', category ? tagged(consent, category) : consent);
    expect(res.status).toBe(status);
    if (status === 201) {
      const stored = res.body as Consent;
      expect(stored.meta?.tag?.map((c) => c.code)).toEqual(['demographics']);
      expect((await as(clientToken).get(`Consent/${stored.id}`)).status).toBe(200);
      expect((await as(clientToken).put(`Consent/${stored.id}`, { ...stored, status: 'inactive' })).status).toBe(200);
    }
  });

  test.each<[string, (c: Consent) => void]>([
    ['a purpose that is not a supported v3-ActReason code', (c) => (c.provision!.purpose = [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'FOO' }])],
    ['TREAT in another code system', (c) => (c.provision!.purpose = [{ system: 'http://example.org/purpose', code: 'TREAT' }])],
  ])('%s is refused (422): such a consent could never be honoured', async (_name, spoil) => {
    const consent = buildSharingConsent({ patient: ref(client), custodian: practice, recipients: [urology], categories: ['progress'] });
    spoil(consent);
    const res = await as(clientToken).post('Consent', consent);
    expect({ status: res.status, type: res.body.resourceType }).toEqual({ status: 422, type: 'OperationOutcome' });
  });
});

describe('a resource about two clients needs both clients\' consent, and is audited to both', () => {
  let first: Patient;
  let second: Patient;
  let message: Communication;

  beforeAll(async () => {
    first = await newClient('First');
    second = await newClient('Second');
    await recordConsent({ patient: ref(first), recipients: [obgyn], categories: ['progress'] });
    message = await created<Communication>(practiceToken, {
      resourceType: 'Communication',
      status: 'completed',
      subject: { reference: ref(first) },
      recipient: [{ reference: ref(second) }],
      payload: [{ contentString: 'Joint session notes' }],
    });
  });

  test('with one client\'s consent it is hidden on every read path', async () => {
    const o = as(obgynToken);
    expect((await o.get(`Communication/${message.id}`)).status).toBe(404);
    expect((await o.get(`Communication/${message.id}/_history/1`)).status).toBe(404);
    expect(await searchAll(obgynToken, `Communication?subject=${ref(first)}`)).toEqual([]);
    expect(((await o.get(`Communication?subject=${ref(first)}&_summary=count`)).body as Bundle).total).toBe(0);
    const revinclude = (await o.get(`Patient?_id=${first.id}&_revinclude=Communication:subject`)).body as Bundle;
    expect(revinclude.entry?.map((e) => ref(e.resource as Resource))).toEqual([ref(first)]);
    const summary = (await o.get(`Patient/${first.id}/$summary`)).body as Bundle;
    expect(summary.entry?.some((e) => e.resource?.resourceType === 'Communication')).toBe(false);
    const history = (await o.get('Communication/_history?_count=1000')).body as Bundle;
    expect((history.entry ?? []).filter((e) => e.fullUrl?.endsWith(ref(message)))).toEqual([]);
  });

  test('with both it is disclosed, and the disclosure is in both clients\' audit trails', async () => {
    await recordConsent({ patient: ref(second), recipients: [obgyn], categories: ['progress'] });
    const headers = requestIdHeader();
    expect((await as(obgynToken, headers).get(`Communication/${message.id}`)).status).toBe(200);
    for (const patient of [first, second]) {
      const events = await auditOf(patient, headers['X-Request-Id'] as string);
      expect(events.map((e) => ({ outcome: e.outcome, about: e.entity?.map((x) => x.what?.reference?.split('/_history')[0]) }))).toEqual([
        { outcome: '0', about: [ref(patient), ref(message)] },
      ]);
    }
  });
});

describe('audit: the operator, one event per client for $summary, denials of history', () => {
  let audited: Patient;
  let hidden: Resource;

  beforeAll(async () => {
    audited = await newClient('Audited');
    await recordConsent({ patient: ref(audited), recipients: [obgyn], categories: ['treatment-goals', 'progress'] });
    await created(practiceToken, tagged(buildObservation(audited.id as string), 'progress'));
    await created<Goal>(practiceToken, { resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'x' }, subject: { reference: ref(audited) } });
    hidden = await created(practiceToken, tagged(buildObservation(audited.id as string), 'trauma-history'));
  });

  test('every read of client data with the admin token is audited, naming the operator', async () => {
    const headers = requestIdHeader();
    expect((await as(admin, headers).get(ref(hidden))).status).toBe(200);
    const events = await auditOf(audited, headers['X-Request-Id'] as string);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcome: '0', subtype: [{ code: 'read' }] });
    expect(events[0]?.agent).toEqual([expect.objectContaining({ requestor: true, who: expect.objectContaining({ identifier: { system: 'https://carecircle.dev/fhir/operator', value: 'admin' } }) })]);
    expect(events[0]?.entity?.map((e) => e.what?.reference)).toEqual([ref(audited), `${ref(hidden)}/_history/1`]);
  });

  test('a partner\'s $summary is one disclosure: one AuditEvent for the client, listing everything shown', async () => {
    const headers = requestIdHeader();
    const summary = (await as(obgynToken, headers).get(`Patient/${audited.id}/$summary`)).body as Bundle;
    const shown = (summary.entry ?? []).slice(1).map((e) => ref(e.resource as Resource)).sort();
    const events = await auditOf(audited, headers['X-Request-Id'] as string);
    expect(events).toHaveLength(1);
    expect(events[0]?.subtype?.[0]?.code).toBe('operation');
    expect(events[0]?.entity?.slice(1).map((e) => e.what?.reference?.split('/_history')[0]).sort()).toEqual(shown);
  });

  test('the history of a resource a partner may not see answers 404 and files a denial, like a read', async () => {
    const headers = requestIdHeader();
    expect((await as(obgynToken, headers).get(`${ref(hidden)}/_history`)).status).toBe(404);
    const events = await auditOf(audited, headers['X-Request-Id'] as string);
    expect(events.map((e) => ({ outcome: e.outcome, subtype: e.subtype?.[0]?.code, what: e.entity?.[1]?.what?.reference }))).toEqual([
      { outcome: '4', subtype: 'history', what: ref(hidden) },
    ]);
  });
});
