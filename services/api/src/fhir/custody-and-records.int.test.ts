/**
 * What follows a client, and what follows a resource, over HTTP with real tokens, PostgreSQL and Redis:
 *
 * - a client moving to another practice takes neither the old practice's psychotherapy notes (they stay with the
 *   practice that wrote them) nor its consents (a consent recorded with one practice shares nothing the next one holds,
 *   and nothing at all while the client is with another practice);
 * - the records of a resource (its Provenance, the AuditEvents of its disclosures) follow the resource's current
 *   labels: once it is filed as a psychotherapy note, they are as hidden as the note.
 */
import type { AuditEvent, Bundle, CarePlan, Consent, DocumentReference, Patient, Provenance, Resource } from '@medplum/fhirtypes';
import { NOTE_CUSTODIAN_URL } from '@carecircle/fhir';
import { buildSharingConsent, SHARE_CATEGORY_SYSTEM, type ShareCategory } from '@carecircle/consent';
import { buildObservation, buildOrganization, buildPatient } from '@carecircle/testing';
import { logInUser, registerApp, registerSystemClient } from '../smart-test-clients';
import { createdAs, createTestApp, fhirClient, type TestApp } from '../test-harness';

let t: TestApp;
let firstPractice: string;
let nextPractice: string;
let clinic: string;
let firstToken: string;
let nextToken: string;
let clinicToken: string;
let appId: string;

const ref = (r: Resource) => `${r.resourceType}/${r.id}`;
const as = (token: string) => fhirClient(t, token);
const tagged = <T extends Resource>(resource: T, category: ShareCategory): T => ({
  ...resource,
  meta: { ...resource.meta, tag: [{ system: SHARE_CATEGORY_SYSTEM, code: category }] },
});
const SIGNED = { sourceAttachment: { contentType: 'application/pdf', title: 'Signed release', data: 'JVBERi0=' } };

const created = <T extends Resource>(token: string, resource: T): Promise<T> => createdAs(t, token, resource);

const noteOf = (patient: Patient, category: ShareCategory = 'psychotherapy-notes'): DocumentReference =>
  tagged({ resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { contentType: 'text/plain', data: 'bm90ZQ==' } }], subject: { reference: ref(patient) } }, category);

async function ids(token: string, query: string): Promise<string[]> {
  const res = await as(token).get(query);
  expect(res.status).toBe(200);
  return ((res.body as Bundle).entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => ref(e.resource as Resource));
}

beforeAll(async () => {
  t = await createTestApp();
  const admin = t.adminToken;
  firstPractice = `Organization/${(await created(admin, buildOrganization({ name: 'First Practice' }))).id}`;
  nextPractice = `Organization/${(await created(admin, buildOrganization({ name: 'Next Practice' }))).id}`;
  clinic = `Organization/${(await created(admin, buildOrganization({ name: 'Pelvic Floor PT' }))).id}`;
  firstToken = await (await registerSystemClient(t, firstPractice, 'system/*.cruds')).token();
  nextToken = await (await registerSystemClient(t, nextPractice, 'system/*.cruds')).token();
  clinicToken = await (await registerSystemClient(t, clinic, 'system/*.rs')).token();
  appId = await registerApp(t, 'launch/patient patient/*.rs patient/Consent.cu');
});
afterAll(async () => {
  await t.close();
});

describe('a client moving to another practice', () => {
  let client: Patient;
  let note: DocumentReference;
  let shared: DocumentReference;
  let noteRecord: Provenance;

  beforeAll(async () => {
    client = await created(firstToken, buildPatient({ name: [{ family: 'Mover' }] }));
    note = await created(firstToken, noteOf(client));
    shared = await created(firstToken, noteOf(client, 'progress'));
    await created<Consent>(firstToken, {
      ...buildSharingConsent({ patient: ref(client), custodian: firstPractice, recipients: [clinic], categories: ['progress', 'demographics'] }),
      ...SIGNED,
    });
    expect((await as(clinicToken).get(`DocumentReference/${shared.id}`)).status).toBe(200);
    noteRecord = await created<Provenance>(firstToken, {
      resourceType: 'Provenance',
      target: [{ reference: `DocumentReference/${note.id}` }, { reference: ref(client) }],
      recorded: new Date().toISOString(),
      agent: [{ who: { reference: firstPractice } }],
    });
    // The operator records the move.
    const moved = await as(t.adminToken).put(`Patient/${client.id}`, { ...client, managingOrganization: { reference: nextPractice } });
    expect(moved.status).toBe(200);
  });

  test('the new practice gets the record but not the first practice’s psychotherapy notes', async () => {
    expect((await as(nextToken).get(`Patient/${client.id}`)).status).toBe(200);
    expect((await as(nextToken).get(`DocumentReference/${shared.id}`)).status).toBe(200);
    for (const path of [`DocumentReference/${note.id}`, `DocumentReference/${note.id}/_history/1`, `DocumentReference/${note.id}/_history`]) {
      expect((await as(nextToken).get(path)).status).toBe(404);
    }
    expect(await ids(nextToken, `DocumentReference?subject=${ref(client)}`)).toEqual([ref(shared)]);
    // Nor the records of them.
    expect((await as(nextToken).get(`Provenance/${noteRecord.id}`)).status).toBe(404);
    expect(await ids(nextToken, `Provenance?patient=${ref(client)}`)).not.toContain(ref(noteRecord));
    expect(await ids(t.adminToken, `Provenance?target=DocumentReference/${note.id}`)).toEqual([ref(noteRecord)]);
  });

  test('a practice may not describe what it cannot see: a Provenance naming a hidden resource is refused like one naming nothing', async () => {
    const own = await created(nextToken, buildPatient({ name: [{ family: 'Own' }] }));
    const provenanceOf = (target: string): Provenance => ({
      resourceType: 'Provenance',
      target: [{ reference: target }, { reference: ref(own) }],
      recorded: new Date().toISOString(),
      agent: [{ who: { reference: nextPractice } }],
    });
    const firstOnly = await created(firstToken, buildPatient({ name: [{ family: 'FirstOnly' }] }));
    const hidden = await created(firstToken, tagged(buildObservation(firstOnly.id as string), 'trauma-history'));
    expect((await as(nextToken).get(`Observation/${hidden.id}`)).status).toBe(404);
    const toHidden = await as(nextToken).post('Provenance', provenanceOf(`Observation/${hidden.id}`));
    const toNothing = await as(nextToken).post('Provenance', provenanceOf('Observation/no-such-observation'));
    expect(toHidden.status).toBe(422);
    expect(toNothing.status).toBe(422);
    expect(JSON.stringify(toHidden.body)).toBe(JSON.stringify(toNothing.body));
    const ownRecord = await created(nextToken, tagged(buildObservation(own.id as string), 'progress'));
    expect((await as(nextToken).post('Provenance', provenanceOf(`Observation/${ownRecord.id}`))).status).toBe(201);
  });

  test('a note carries the practice that holds it, which no writer can change', async () => {
    expect(note.meta?.extension).toEqual([{ url: NOTE_CUSTODIAN_URL, valueReference: { reference: firstPractice } }]);
    const forged = await created(nextToken, { ...noteOf(client), meta: { ...noteOf(client).meta, extension: [{ url: NOTE_CUSTODIAN_URL, valueReference: { reference: firstPractice } }] } });
    expect(forged.meta?.extension).toEqual([{ url: NOTE_CUSTODIAN_URL, valueReference: { reference: nextPractice } }]);
    expect((await as(firstToken).get(`DocumentReference/${forged.id}`)).status).toBe(404);
    expect(shared.meta?.extension).toBeUndefined();
  });

  test('the new practice’s own notes are its own', async () => {
    const own = await created(nextToken, noteOf(client));
    expect((await as(nextToken).get(`DocumentReference/${own.id}`)).status).toBe(200);
    expect((await as(firstToken).get(`DocumentReference/${own.id}`)).status).toBe(404);
  });

  test('a consent recorded with the first practice shares nothing while the client is with another', async () => {
    const check = async () =>
      ((await as(nextToken).get(`Patient/${client.id}/$disclosure-check?recipient=${clinic}&category=progress`)).body as {
        parameter: { name: string; valueBoolean?: boolean }[];
      }).parameter.find((p) => p.name === 'permit')?.valueBoolean;
    expect(await check()).toBe(false);
    const progress = await created(nextToken, tagged(buildObservation(client.id as string), 'progress'));
    expect((await as(clinicToken).get(`Observation/${progress.id}`)).status).toBe(404);
    expect((await as(clinicToken).get(`DocumentReference/${shared.id}`)).status).toBe(404);
    expect((await as(clinicToken).get(`Patient/${client.id}`)).status).toBe(404);
    // The client consents anew with the new practice: sharing resumes, for what that consent lists.
    await created<Consent>(nextToken, {
      ...buildSharingConsent({ patient: ref(client), custodian: nextPractice, recipients: [clinic], categories: ['progress'] }),
      ...SIGNED,
    });
    expect((await as(clinicToken).get(`Observation/${progress.id}`)).status).toBe(200);
    expect(await check()).toBe(true);
  });
});

describe('the records of a resource follow its current labels', () => {
  test('once a resource is filed as a psychotherapy note, its Provenance and disclosure AuditEvents are hidden like it', async () => {
    const client = await created(firstToken, buildPatient({ name: [{ family: 'Records' }] }));
    const clientToken = (await logInUser(t, appId, { fhirUser: ref(client) }, 'launch/patient patient/*.rs patient/Consent.cu')).access_token;
    await created<Consent>(firstToken, {
      ...buildSharingConsent({ patient: ref(client), custodian: firstPractice, recipients: [clinic], categories: ['progress', 'care-plan'] }),
      ...SIGNED,
    });
    const document = await created(firstToken, noteOf(client, 'progress'));
    const plan = await created<CarePlan>(firstToken, tagged({ resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: ref(client) } }, 'care-plan'));
    const provenance = await created<Provenance>(firstToken, {
      resourceType: 'Provenance',
      target: [{ reference: ref(plan) }, { reference: ref(client) }],
      recorded: new Date().toISOString(),
      agent: [{ who: { reference: firstPractice } }],
    });
    // The clinic reads both (disclosures, audited to the client).
    expect((await as(clinicToken).get(`DocumentReference/${document.id}`)).status).toBe(200);
    expect((await as(clinicToken).get(`CarePlan/${plan.id}`)).status).toBe(200);
    const auditedEntity = `DocumentReference/${document.id}`;
    const auditsAbout = async (token: string) =>
      ((await as(token).get(`AuditEvent?patient=${ref(client)}&_count=1000`)).body as Bundle).entry
        ?.map((e) => e.resource as AuditEvent)
        .filter((a) => a.entity?.some((e) => e.what?.reference?.startsWith(auditedEntity) || e.what?.reference?.startsWith(ref(plan)))) ?? [];
    expect((await auditsAbout(clientToken)).length).toBeGreaterThan(0);
    expect(await ids(clinicToken, `Provenance?target=${ref(plan)}`)).toContain(ref(provenance));

    // The practice files both as psychotherapy notes.
    for (const resource of [document, plan] as Resource[]) {
      const res = await as(firstToken).put(`${ref(resource)}`, tagged({ ...resource, meta: undefined }, 'psychotherapy-notes'));
      expect(res.status).toBe(200);
    }
    expect(await auditsAbout(clientToken)).toEqual([]);
    expect(await ids(clientToken, `AuditEvent?entity=${auditedEntity}`)).toEqual([]);
    for (const token of [clientToken, clinicToken]) {
      expect(await ids(token, `Provenance?target=${ref(plan)}`)).toEqual([]);
      expect((await as(token).get(`Provenance/${provenance.id}`)).status).toBe(404);
    }
    // The practice still sees all of it.
    expect(await ids(firstToken, `Provenance?target=${ref(plan)}`)).toContain(ref(provenance));
    expect((await auditsAbout(firstToken)).length).toBeGreaterThan(0);
  });
});
