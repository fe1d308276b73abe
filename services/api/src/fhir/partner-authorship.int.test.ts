/**
 * A partner reads the consult note it just wrote, end to end over HTTP (issue 10): the practice's client consents to
 * the clinic seeing `care-plan` only (what a referral needs), the practice refers the client, and the clinic accepts
 * the Task, writes its consult note, reads it back and completes the Task with it; the practice sees the note. The note
 * is filed under its referral's share category, and what a partner itself wrote through a partner workflow stays
 * readable to its organization's systems and practitioners on every read path while a consent of the client naming
 * them is in force and the resource's current version is visible to them: not once the practice files it as a
 * psychotherapy note or moves it out of their sight. Another clinic reads none of it.
 */
import { buildSharingConsent, SHARE_CATEGORY_SYSTEM } from '@carecircle/consent';
import { buildOrganization, buildPatient, buildPractitioner } from '@carecircle/testing';
import type { Bundle, Consent, DocumentReference, Patient, ServiceRequest, Task } from '@medplum/fhirtypes';
import type { Response } from 'supertest';
import { logInUser, registerApp, registerSystemClient } from '../smart-test-clients';
import { createTestApp, fhirClient, type TestApp } from '../test-harness';

const REFERRAL = { system: 'http://snomed.info/sct', code: '3457005', display: 'Patient referral' };
const CONSULT_NOTE = { system: 'http://loinc.org', code: '11488-4', display: 'Consult note' };
const SIGNED_FORM = { contentType: 'application/pdf', data: 'JVBERi0=' };

let t: TestApp;
let practice: string;
let clinic: string;
let otherClinic: string;
let therapist: string;
let practiceToken: string;
/** Two backend systems of the clinic: the one that writes, and another of the same organization. */
let clinicToken: string;
let clinicOtherSystemToken: string;
let otherClinicToken: string;
/** A practitioner of the clinic, signed in through an app, and the client, signed in to the same app. */
let clinicianToken: string;
let clientToken: string;
let client: Patient;
let consent: Consent;

function as(token: string) {
  return fhirClient(t, token);
}

function created<T>(res: Response): T {
  expect([res.status, res.body.issue]).toEqual([201, undefined]);
  return res.body as T;
}

function categoryOf(resource: { meta?: { tag?: { system?: string; code?: string }[] } }): string | undefined {
  return resource.meta?.tag?.find((tag) => tag.system === SHARE_CATEGORY_SYSTEM)?.code;
}

async function ids(token: string, query: string): Promise<string[]> {
  const res = await as(token).get(query);
  expect(res.status).toBe(200);
  return ((res.body as Bundle).entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`);
}

async function refer(): Promise<{ request: ServiceRequest; task: Task }> {
  const request = created<ServiceRequest>(
    await as(practiceToken).post('ServiceRequest', {
      resourceType: 'ServiceRequest',
      status: 'active',
      intent: 'order',
      category: [{ coding: [REFERRAL] }],
      code: { text: 'Pelvic floor physical therapy evaluation' },
      subject: { reference: `Patient/${client.id}` },
      requester: { reference: therapist },
      performer: [{ reference: clinic }],
    }),
  );
  const tasks = (await as(clinicToken).get(`Task?focus=ServiceRequest/${request.id}`)).body as Bundle;
  expect(tasks.total).toBe(1);
  return { request, task: tasks.entry?.[0]?.resource as Task };
}

async function move(task: Task, changes: Partial<Task>): Promise<Response> {
  return as(clinicToken).put(`Task/${task.id}`, { ...task, ...changes }).set('If-Match', `W/"${task.meta?.versionId}"`);
}

function consultNote(request: ServiceRequest, category?: string): DocumentReference {
  return {
    resourceType: 'DocumentReference',
    ...(category ? { meta: { tag: [{ system: SHARE_CATEGORY_SYSTEM, code: category }] } } : {}),
    status: 'current',
    type: { coding: [CONSULT_NOTE] },
    subject: { reference: `Patient/${client.id}` },
    author: [{ reference: clinic }],
    content: [{ attachment: { contentType: 'text/plain', data: Buffer.from('Pelvic floor hypertonicity; 6 sessions').toString('base64') } }],
    context: { related: [{ reference: `ServiceRequest/${request.id}` }] },
  };
}

/** The practice files `note` under `category` (categories only go up). */
async function refile(note: DocumentReference, category: string): Promise<void> {
  const current = (await as(practiceToken).get(`DocumentReference/${note.id}`)).body as DocumentReference;
  const res = await as(practiceToken).put(`DocumentReference/${note.id}`, {
    ...current,
    meta: { tag: [{ system: SHARE_CATEGORY_SYSTEM, code: category }] },
  });
  expect([res.status, res.body.issue]).toEqual([200, undefined]);
}

/** Every way the clinic could read `note`: read, vread, history, search, _revinclude and a batch entry. */
async function clinicReads(token: string, note: DocumentReference, request: ServiceRequest): Promise<Record<string, unknown>> {
  const batch = await as(token).post('', {
    resourceType: 'Bundle',
    type: 'batch',
    entry: [{ request: { method: 'GET', url: `DocumentReference/${note.id}` } }],
  });
  return {
    read: (await as(token).get(`DocumentReference/${note.id}`)).status,
    vread: (await as(token).get(`DocumentReference/${note.id}/_history/1`)).status,
    history: (await as(token).get(`DocumentReference/${note.id}/_history`)).status,
    search: (await ids(token, `DocumentReference?patient=Patient/${client.id}`)).includes(`DocumentReference/${note.id}`),
    revinclude: (await ids(token, `ServiceRequest?_id=${request.id}&_revinclude=DocumentReference:related`)).includes(`DocumentReference/${note.id}`),
    batch: (batch.body as Bundle).entry?.[0]?.response?.status?.slice(0, 3),
  };
}

const SEES_ALL = { read: 200, vread: 200, history: 200, search: true, revinclude: true, batch: '200' };
const SEES_NONE = { read: 404, vread: 404, history: 404, search: false, revinclude: false, batch: '404' };

beforeAll(async () => {
  t = await createTestApp();
  const admin = t.adminToken;
  const create = async (resource: object) => (await as(admin).post((resource as { resourceType: string }).resourceType, resource)).body as { id: string };
  practice = `Organization/${(await create(buildOrganization({ name: 'Riverside Sex Therapy' }))).id}`;
  clinic = `Organization/${(await create(buildOrganization({ name: 'Harbour Pelvic Health' }))).id}`;
  otherClinic = `Organization/${(await create(buildOrganization({ name: 'Hillside Urology' }))).id}`;
  therapist = `Practitioner/${(await create(buildPractitioner())).id}`;
  practiceToken = await (await registerSystemClient(t, practice, 'system/*.cruds')).token();
  clinicToken = await (await registerSystemClient(t, clinic, 'system/*.cruds')).token();
  clinicOtherSystemToken = await (await registerSystemClient(t, clinic, 'system/*.rs')).token();
  otherClinicToken = await (await registerSystemClient(t, otherClinic, 'system/*.cruds')).token();
  client = created<Patient>(await as(practiceToken).post('Patient', { ...buildPatient(), managingOrganization: { reference: practice } }));
  const appId = await registerApp(t, 'launch/patient patient/*.rs patient/Consent.cu user/*.rs');
  const clinician = `Practitioner/${(await create(buildPractitioner())).id}`;
  clinicianToken = (await logInUser(t, appId, { fhirUser: clinician, organization: clinic }, 'user/*.rs')).access_token;
  clientToken = (await logInUser(t, appId, { fhirUser: `Patient/${client.id}` }, 'launch/patient patient/*.rs patient/Consent.cu')).access_token;
  // The clinic may see the care plan (what a referral needs); the other clinic demographics and progress only.
  consent = created<Consent>(
    await as(practiceToken).post('Consent', {
      ...buildSharingConsent({ patient: `Patient/${client.id}`, custodian: practice, recipients: [clinic], categories: ['care-plan'] }),
      sourceAttachment: SIGNED_FORM,
    }),
  );
  created(
    await as(practiceToken).post('Consent', {
      ...buildSharingConsent({ patient: `Patient/${client.id}`, custodian: practice, recipients: [otherClinic], categories: ['progress'] }),
      sourceAttachment: SIGNED_FORM,
    }),
  );
});
afterAll(async () => {
  await t.close();
});

describe('the referral loop under a care-plan consent', () => {
  test('the clinic writes its consult note, reads it back and completes the Task with it; the practice sees it', async () => {
    const { request, task } = await refer();
    const accepted = await move(task, { status: 'accepted' });
    expect(accepted.status).toBe(200);
    const working = await move(accepted.body as Task, { status: 'in-progress' });
    expect(working.status).toBe(200);

    const note = created<DocumentReference>(await as(clinicToken).post('DocumentReference', consultNote(request)));
    // A consult note is filed under its referral's category, which the consent covering the referral grants.
    expect(categoryOf(note)).toBe('care-plan');
    expect(await clinicReads(clinicToken, note, request)).toEqual(SEES_ALL);

    const completed = await move(working.body as Task, {
      status: 'completed',
      output: [{ type: { text: 'Consult note' }, valueReference: { reference: `DocumentReference/${note.id}` } }],
    });
    expect([completed.status, completed.body.issue]).toEqual([200, undefined]);

    const seen = await as(practiceToken).get(`DocumentReference/${note.id}`);
    expect([seen.status, seen.body.content]).toEqual([200, note.content]);
    expect(((await as(practiceToken).get(`Task/${task.id}`)).body as Task).status).toBe('completed');
    // Another clinic, whose consent does not cover the care plan, reads none of it.
    expect(await clinicReads(otherClinicToken, note, request)).toEqual(SEES_NONE);
  });

  test('what the clinic wrote under a category its consent does not grant stays readable to its organization only', async () => {
    const { request } = await refer();
    const note = created<DocumentReference>(await as(clinicToken).post('DocumentReference', consultNote(request, 'sexual-history')));
    expect(categoryOf(note)).toBe('sexual-history');
    expect(await clinicReads(clinicToken, note, request)).toEqual(SEES_ALL);
    expect(await clinicReads(clinicOtherSystemToken, note, request)).toEqual(SEES_ALL);
    expect(await clinicReads(clinicianToken, note, request)).toEqual(SEES_ALL);
    expect(await clinicReads(otherClinicToken, note, request)).toEqual(SEES_NONE);
    expect((await as(practiceToken).get(`DocumentReference/${note.id}`)).status).toBe(200);
    expect((await as(clientToken).get(`DocumentReference/${note.id}`)).status).toBe(200);
    // $summary: the clinic's own, and the practice's preview of what the clinic's token gets, hold the note; the other
    // clinic's do not.
    const summarised = async (token: string, query = '') => {
      const res = await as(token).get(`Patient/${client.id}/$summary${query}`);
      expect(res.status).toBe(200);
      return ((res.body as Bundle).entry ?? []).some((e) => e.resource?.resourceType === 'DocumentReference' && e.resource.id === note.id);
    };
    expect(await summarised(clinicToken)).toBe(true);
    expect(await summarised(practiceToken, `?recipient=${clinic}`)).toBe(true);
    expect(await summarised(practiceToken, `?recipient=${otherClinic}`)).toBe(false);
    expect(await summarised(otherClinicToken)).toBe(false);
  });

  test('the practice files a clinic note as a psychotherapy note: the clinic no longer reads it, any version, anywhere', async () => {
    const { request } = await refer();
    const note = created<DocumentReference>(await as(clinicToken).post('DocumentReference', consultNote(request, 'sexual-history')));
    expect(await clinicReads(clinicToken, note, request)).toEqual(SEES_ALL);
    await refile(note, 'psychotherapy-notes');
    expect(await clinicReads(clinicToken, note, request)).toEqual(SEES_NONE);
    expect(await clinicReads(clinicOtherSystemToken, note, request)).toEqual(SEES_NONE);
    expect(await clinicReads(clinicianToken, note, request)).toEqual(SEES_NONE);
  });

  test('the practice moves a clinic note into a category the consent does not grant: the clinic no longer reads it', async () => {
    const { request } = await refer();
    const note = created<DocumentReference>(await as(clinicToken).post('DocumentReference', consultNote(request)));
    expect(await clinicReads(clinicToken, note, request)).toEqual(SEES_ALL);
    await refile(note, 'trauma-history');
    expect(await clinicReads(clinicToken, note, request)).toEqual(SEES_NONE);
  });

  test('the clinic is not made the author of the Task by moving it: it reads it only as its consent grants', async () => {
    const { task } = await refer();
    expect((await move(task, { status: 'accepted' })).status).toBe(200);
    // The practice re-files the Task out of the consent's reach; the clinic's own status update does not keep it visible.
    const current = (await as(practiceToken).get(`Task/${task.id}`)).body as Task;
    const refiled = await as(practiceToken).put(`Task/${task.id}`, { ...current, meta: { tag: [{ system: SHARE_CATEGORY_SYSTEM, code: 'mental-health' }] } });
    expect(refiled.status).toBe(200);
    expect((await as(clinicToken).get(`Task/${task.id}`)).status).toBe(404);
    expect((await as(clinicToken).get(`Task/${task.id}/_history/2`)).status).toBe(404);
  });
});

describe('the category of a consult note follows its referral', () => {
  test("a note naming no category, or a less sensitive one, is filed as its referral is, with the referral's labels", async () => {
    const SEX = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'SEX' };
    const second = created<Patient>(await as(practiceToken).post('Patient', { ...buildPatient(), managingOrganization: { reference: practice } }));
    created(
      await as(practiceToken).post('Consent', {
        ...buildSharingConsent({ patient: `Patient/${second.id}`, custodian: practice, recipients: [clinic], categories: ['sexual-history'] }),
        sourceAttachment: SIGNED_FORM,
      }),
    );
    const request = created<ServiceRequest>(
      await as(practiceToken).post('ServiceRequest', {
        resourceType: 'ServiceRequest',
        meta: { tag: [{ system: SHARE_CATEGORY_SYSTEM, code: 'sexual-history' }] },
        status: 'active',
        intent: 'order',
        category: [{ coding: [REFERRAL] }],
        code: { text: 'Sexual health consultation' },
        subject: { reference: `Patient/${second.id}` },
        requester: { reference: therapist },
        performer: [{ reference: clinic }],
      }),
    );
    const note = (category?: string): DocumentReference => ({ ...consultNote(request, category), subject: { reference: `Patient/${second.id}` } });
    for (const category of [undefined, 'progress']) {
      const filed = created<DocumentReference>(await as(clinicToken).post('DocumentReference', note(category)));
      expect(categoryOf(filed)).toBe('sexual-history');
      expect(filed.meta?.security).toContainEqual(SEX);
      expect((await as(clinicToken).get(`DocumentReference/${filed.id}`)).status).toBe(200);
    }
    // A more sensitive category stays the writer's.
    expect(categoryOf(created<DocumentReference>(await as(clinicToken).post('DocumentReference', note('trauma-history'))))).toBe('trauma-history');
  });
});

describe('after the client revokes the consent', () => {
  test('the clinic reads nothing it wrote either (conservative: authorship counts only under a consent in force)', async () => {
    const { request } = await refer();
    const filed = created<DocumentReference>(await as(clinicToken).post('DocumentReference', consultNote(request)));
    const own = created<DocumentReference>(await as(clinicToken).post('DocumentReference', consultNote(request, 'sexual-history')));
    expect(await clinicReads(clinicToken, own, request)).toEqual(SEES_ALL);

    const stored = (await as(clientToken).get(`Consent/${consent.id}`)).body as Consent;
    expect((await as(clientToken).put(`Consent/${consent.id}`, { ...stored, status: 'inactive' })).status).toBe(200);

    expect((await as(clinicToken).get(`DocumentReference/${filed.id}`)).status).toBe(404);
    expect((await as(clinicToken).get(`DocumentReference/${own.id}`)).status).toBe(404);
    expect(await ids(clinicToken, `DocumentReference?patient=Patient/${client.id}`)).toEqual([]);
    expect((await as(clinicianToken).get(`DocumentReference/${own.id}`)).status).toBe(404);
    expect((await as(practiceToken).get(`DocumentReference/${own.id}`)).status).toBe(200);
  });
});
