/**
 * Errors that say what to do (issue 10), over real HTTP with real tokens: a 403 for scopes names the scope that is
 * missing (alone, in Bundle entries, in a search's includes); a 412 names the current version and carries its ETag,
 * but only to a caller that sees the resource (a hidden one stays 404 and no version leaks); a referral refused for
 * consent names the recipient, the share category and the purpose, to the practice only.
 */
import { buildSharingConsent } from '@carecircle/consent';
import { buildOrganization, buildPatient, buildPractitioner } from '@carecircle/testing';
import type { Bundle, OperationOutcome, Patient, ServiceRequest } from '@medplum/fhirtypes';
import { registerSystemClient } from '../smart-test-clients';
import { createTestApp, fhirClient, type TestApp } from '../test-harness';

const REFERRAL = { system: 'http://snomed.info/sct', code: '3457005', display: 'Patient referral' };
const SHARE_CATEGORY_SYSTEM = 'https://carecircle.dev/fhir/CodeSystem/share-category';
const SIGNED_FORM = { contentType: 'application/pdf', data: 'JVBERi0=' };
const SUBSCRIPTION = {
  resourceType: 'Subscription',
  status: 'requested',
  reason: 'referrals',
  criteria: 'https://carecircle.dev/fhir/SubscriptionTopic/referral',
  channel: { type: 'rest-hook', endpoint: 'https://partner.example/hook', payload: 'application/fhir+json' },
};

let t: TestApp;
let practice: string;
let clinic: string;
let otherClinic: string;
let therapist: string;
let practiceToken: string;
let readOnlyPracticeToken: string;
let clinicToken: string;
let otherPracticeToken: string;
let client: Patient;

function as(token: string) {
  return fhirClient(t, token);
}

function textOf(body: unknown): string {
  return ((body as OperationOutcome).issue ?? []).map((issue) => `${issue.details?.text ?? ''} ${issue.diagnostics ?? ''}`).join(' | ');
}

function referralTo(performer: string, category?: string): ServiceRequest {
  return {
    resourceType: 'ServiceRequest',
    ...(category ? { meta: { tag: [{ system: SHARE_CATEGORY_SYSTEM, code: category }] } } : {}),
    status: 'active',
    intent: 'order',
    category: [{ coding: [REFERRAL] }],
    code: { text: 'Pelvic floor physical therapy evaluation' },
    subject: { reference: `Patient/${client.id}` },
    requester: { reference: therapist },
    performer: [{ reference: performer }],
  };
}

beforeAll(async () => {
  t = await createTestApp();
  const create = async (resource: object) =>
    (await as(t.adminToken).post((resource as { resourceType: string }).resourceType, resource)).body as { id: string };
  practice = `Organization/${(await create(buildOrganization({ name: 'Riverside Sex Therapy' }))).id}`;
  const otherPractice = `Organization/${(await create(buildOrganization({ name: 'Lakeside Therapy' }))).id}`;
  clinic = `Organization/${(await create(buildOrganization({ name: 'Harbour Pelvic Health' }))).id}`;
  otherClinic = `Organization/${(await create(buildOrganization({ name: 'Hillside Urology' }))).id}`;
  therapist = `Practitioner/${(await create(buildPractitioner())).id}`;
  const practiceSystem = await registerSystemClient(t, practice, 'system/*.cruds');
  practiceToken = await practiceSystem.token();
  readOnlyPracticeToken = await practiceSystem.token('system/Patient.rs system/Observation.r');
  clinicToken = await (await registerSystemClient(t, clinic, 'system/*.cruds')).token();
  otherPracticeToken = await (await registerSystemClient(t, otherPractice, 'system/*.cruds')).token();
  client = (await as(practiceToken).post('Patient', buildPatient())).body as Patient;
  const consent = buildSharingConsent({ patient: `Patient/${client.id}`, custodian: practice, recipients: [clinic], categories: ['progress'] });
  expect((await as(practiceToken).post('Consent', { ...consent, sourceAttachment: SIGNED_FORM })).status).toBe(201);
});

afterAll(async () => {
  await t.close();
});

describe('a 403 for scopes names the scope that is missing', () => {
  test('a create outside the scopes', async () => {
    const res = await as(readOnlyPracticeToken).post('Subscription', SUBSCRIPTION);
    expect(res.status).toBe(403);
    expect(textOf(res.body)).toContain("This token's scopes do not allow create on Subscription: it needs system/Subscription.c (or system/*.c)");
  });

  test('a search and an _revinclude outside the scopes', async () => {
    const search = await as(readOnlyPracticeToken).get('Task');
    expect(search.status).toBe(403);
    expect(textOf(search.body)).toContain('do not allow search on Task: it needs system/Task.s');
    const revinclude = await as(readOnlyPracticeToken).get('Patient?_revinclude=Observation:subject');
    expect(revinclude.status).toBe(403);
    expect(textOf(revinclude.body)).toContain('it needs system/Observation.s');
  });

  test('a Bundle entry: the batch entry and the transaction name it, at the entry', async () => {
    const entry = { request: { method: 'POST', url: 'Subscription' }, resource: SUBSCRIPTION };
    const batch = await as(readOnlyPracticeToken).post('', { resourceType: 'Bundle', type: 'batch', entry: [entry] });
    expect(batch.status).toBe(200);
    const outcome = (batch.body as Bundle).entry?.[0]?.response;
    expect(outcome?.status).toBe('403');
    expect(textOf(outcome?.outcome)).toContain('it needs system/Subscription.c');
    const transaction = await as(readOnlyPracticeToken).post('', { resourceType: 'Bundle', type: 'transaction', entry: [entry] });
    expect(transaction.status).toBe(403);
    expect(textOf(transaction.body)).toContain('it needs system/Subscription.c');
    expect((transaction.body as OperationOutcome).issue[0]?.expression).toContain('Bundle.entry[0]');
  });
});

describe('a 412 names the current version, to those who see the resource', () => {
  let patient: Patient;

  beforeAll(async () => {
    patient = (await as(practiceToken).post('Patient', buildPatient())).body as Patient;
    const updated = await as(practiceToken).put(`Patient/${patient.id}`, { ...patient, gender: 'other' }).set('If-Match', 'W/"1"');
    expect(updated.status).toBe(200);
  });

  test('a stale update: 412 with the current version in the text and the ETag header', async () => {
    const res = await as(practiceToken).put(`Patient/${patient.id}`, { ...patient, gender: 'female' }).set('If-Match', 'W/"1"');
    expect(res.status).toBe(412);
    expect(res.headers.etag).toBe('W/"2"');
    expect(textOf(res.body)).toContain('the resource is at version 2 (ETag W/"2")');
    expect(textOf(res.body)).toContain('send If-Match: W/"2"');
  });

  test('a stale delete and a stale patch answer the same', async () => {
    const deleted = await t.http
      .delete(`/fhir/R4/Patient/${patient.id}`)
      .set('Authorization', `Bearer ${practiceToken}`)
      .set('If-Match', 'W/"1"');
    expect(deleted.status).toBe(412);
    expect(deleted.headers.etag).toBe('W/"2"');
    const patched = await t.http
      .patch(`/fhir/R4/Patient/${patient.id}`)
      .set('Authorization', `Bearer ${practiceToken}`)
      .set('Content-Type', 'application/json-patch+json')
      .set('If-Match', 'W/"1"')
      .send(JSON.stringify([{ op: 'replace', path: '/gender', value: 'male' }]));
    expect(patched.status).toBe(412);
    expect(patched.headers.etag).toBe('W/"2"');
  });

  test('a batch entry carries the current version as its etag', async () => {
    const batch = await as(practiceToken).post('', {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [{ request: { method: 'PUT', url: `Patient/${patient.id}`, ifMatch: 'W/"1"' }, resource: { ...patient, gender: 'male' } }],
    });
    const response = (batch.body as Bundle).entry?.[0]?.response;
    expect(response?.status).toBe('412');
    expect(response?.etag).toBe('W/"2"');
  });

  test('a caller that may not see the resource gets 404, with no version and no ETag', async () => {
    const res = await as(otherPracticeToken).put(`Patient/${patient.id}`, { ...patient, gender: 'female' }).set('If-Match', 'W/"1"');
    expect(res.status).toBe(404);
    expect(res.headers.etag).toBeUndefined();
    expect(JSON.stringify(res.body)).not.toMatch(/version 2|W\/\\"2\\"/);
  });
});

describe('a referral refused for consent says what is missing, to the practice', () => {
  test('no consent names the performer: the recipient, the default category and the purpose', async () => {
    const res = await as(practiceToken).post('ServiceRequest', referralTo(otherClinic));
    expect(res.status).toBe(422);
    expect(textOf(res.body)).toContain(
      `No active consent of this client lets ${otherClinic} see care-plan (the default, as the referral names no share category in meta.tag) ` +
        `for TREAT: ask the client to add care-plan to a consent naming ${otherClinic} for TREAT`,
    );
  });

  test("a consent names the performer but not the referral's category", async () => {
    const res = await as(practiceToken).post('ServiceRequest', referralTo(clinic, 'sexual-history'));
    expect(res.status).toBe(422);
    expect(textOf(res.body)).toContain(
      `The client's active consents naming ${clinic} for TREAT do not include sexual-history: ask the client to add sexual-history to a consent naming ${clinic}`,
    );
  });

  test('a partner that may not write the client’s record hears nothing about the consents', async () => {
    for (const token of [clinicToken, otherPracticeToken]) {
      const res = await as(token).post('ServiceRequest', referralTo(clinic));
      expect(res.status).toBe(403);
      expect(textOf(res.body)).not.toMatch(/consent|care-plan|TREAT/i);
    }
  });
});
