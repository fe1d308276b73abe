/**
 * Writes never tell a caller what it may not see, and never undo what a resource's history holds it to, over HTTP with
 * real tokens, PostgreSQL and Redis:
 *
 * - a recipient shown a Consent in part (its own actors, no signed request) may not update, patch or delete it: 403
 *   before If-Match, the patch or validation run on the stored version (a patch's errors had echoed the other
 *   recipients and the signed request; a `test` op had answered 403 or 422 by what is stored), in a batch too;
 * - a psychotherapy note deleted and written again is judged against its last live version: its category cannot go
 *   down and it keeps its custodian's stamp (it had come back as `progress`, stamp gone, readable by partners).
 */
import type { Bundle, Consent, Observation, Organization, Patient, Resource } from '@medplum/fhirtypes';
import { NOTE_CUSTODIAN_URL } from '@carecircle/fhir';
import { buildSharingConsent, SHARE_CATEGORY_SYSTEM, type ShareCategory } from '@carecircle/consent';
import { buildObservation, buildOrganization, buildPatient } from '@carecircle/testing';
import { registerSystemClient } from '../smart-test-clients';
import { createdAs, createTestApp, fhirClient, type TestApp } from '../test-harness';

const SIGNED_PDF = Buffer.from('%PDF-1.4 signed release: HIV status attached').toString('base64');
const SIGNED = { sourceAttachment: { contentType: 'application/pdf', title: 'Signed release: HIV status attached', data: SIGNED_PDF } };

let t: TestApp;
let practice: string;
let partnerQ: string;
let partnerX: string;
let practiceToken: string;
let qToken: string;
let client: Patient;
let consent: Consent;

const ref = (r: Resource) => `${r.resourceType}/${r.id}`;
const as = (token: string, headers: Record<string, string> = {}) => fhirClient(t, token, headers);
const tagged = <T extends Resource>(resource: T, category: ShareCategory): T => ({
  ...resource,
  meta: { ...resource.meta, tag: [{ system: SHARE_CATEGORY_SYSTEM, code: category }] },
});

const created = <T extends Resource>(token: string, resource: T): Promise<T> => createdAs(t, token, resource);

function patch(token: string, path: string, operations: unknown, headers: Record<string, string> = {}) {
  const request = t.http.patch(`/fhir/R4/${path}`).set('Authorization', `Bearer ${token}`).set('Content-Type', 'application/json-patch+json');
  return Object.entries(headers)
    .reduce((r, [name, value]) => r.set(name, value), request)
    .send(JSON.stringify(operations));
}

/** Nothing Q is not shown of the Consent: X, the signed request, or whether a guess about them was right. */
function expectNothingOfWhatIsNotShown(res: { status: number; body: unknown; text: string }): void {
  expect({ status: res.status, body: res.body }).toEqual({ status: 403, body: expect.objectContaining({ resourceType: 'OperationOutcome' }) });
  expect(res.text).not.toContain(partnerX.split('/')[1] as string);
  expect(res.text).not.toContain('HIV');
  expect(res.text).not.toContain(SIGNED_PDF);
}

beforeAll(async () => {
  t = await createTestApp();
  const admin = t.adminToken;
  practice = ref(await created(admin, buildOrganization({ name: 'Riverside Practice' })));
  partnerQ = ref(await created<Organization>(admin, buildOrganization({ name: 'Q Clinic' })));
  partnerX = ref(await created<Organization>(admin, buildOrganization({ name: 'X Clinic' })));
  practiceToken = await (await registerSystemClient(t, practice, 'system/*.cruds')).token();
  qToken = await (await registerSystemClient(t, partnerQ, 'system/*.cruds')).token();
  client = await created(practiceToken, buildPatient({ name: [{ family: 'C' }] }));
  consent = await created(practiceToken, {
    ...buildSharingConsent({ patient: ref(client), custodian: practice, recipients: [partnerQ, partnerX], categories: ['progress', 'demographics'] }),
    ...SIGNED,
  });
});
afterAll(async () => {
  await t.close();
});

describe('a recipient shown a Consent in part may not write it', () => {
  test('Q is shown only itself', async () => {
    const read = await as(qToken).get(ref(consent));
    expect(read.status).toBe(200);
    expect((read.body as Consent).provision?.actor?.map((a) => a.reference?.reference)).toEqual([partnerQ]);
  });

  test('PATCH answers 403 whatever the operations, before any of them runs on the stored version', async () => {
    const attempts: unknown[] = [
      [{ op: 'copy', from: '/provision/actor/1/reference/reference', path: '/status' }],
      [{ op: 'copy', from: '/sourceAttachment/data', path: '/status' }],
      [{ op: 'copy', from: '/sourceAttachment/title', path: '/status' }],
      [{ op: 'test', path: '/provision/actor/1/reference/reference', value: partnerX }],
      [{ op: 'test', path: '/provision/actor/1/reference/reference', value: 'Organization/someone-else' }],
      [{ op: 'test', path: '/sourceAttachment/title', value: 'Signed release: HIV status attached' }],
      [{ op: 'remove', path: '/provision/actor/5' }],
      [{ op: 'replace', path: '/status', value: 'inactive' }],
    ];
    for (const operations of attempts) {
      expectNothingOfWhatIsNotShown(await patch(qToken, ref(consent), operations));
      expectNothingOfWhatIsNotShown(await patch(qToken, ref(consent), operations, { 'If-Match': 'W/"1"' }));
      expectNothingOfWhatIsNotShown(await patch(qToken, ref(consent), operations, { 'If-Match': 'W/"7"' }));
    }
  });

  test('in a batch, the PATCH entry answers 403 the same', async () => {
    const guesses = [
      [{ op: 'copy', from: '/provision/actor/1/reference/reference', path: '/status' }],
      [{ op: 'test', path: '/provision/actor/1/reference/reference', value: partnerX }],
      [{ op: 'test', path: '/provision/actor/1/reference/reference', value: 'Organization/someone-else' }],
      [{ op: 'copy', from: '/nothing/here', path: '/status' }],
    ];
    const res = await as(qToken).post('', {
      resourceType: 'Bundle',
      type: 'batch',
      entry: guesses.map((operations) => ({
        request: { method: 'PATCH', url: ref(consent) },
        resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data: Buffer.from(JSON.stringify(operations)).toString('base64') },
      })),
    });
    expect(res.status).toBe(200);
    const entries = (res.body as Bundle).entry ?? [];
    expect(entries.map((e) => e.response?.status?.split(' ')[0])).toEqual(['403', '403', '403', '403']);
    expect(res.text).not.toContain(partnerX.split('/')[1] as string);
    expect(res.text).not.toContain('HIV');
  });

  test('PUT and DELETE answer 403, with or without If-Match, and change nothing', async () => {
    const shown = (await as(qToken).get(ref(consent))).body as Consent;
    const body = { ...shown, status: 'inactive' };
    for (const ifMatch of [undefined, 'W/"1"', 'W/"9"']) {
      const headers: Record<string, string> = ifMatch ? { 'If-Match': ifMatch } : {};
      expectNothingOfWhatIsNotShown(await as(qToken, headers).put(ref(consent), body));
      expectNothingOfWhatIsNotShown(await as(qToken, headers).put(ref(consent), { resourceType: 'Consent', id: consent.id }));
      const req = t.http.delete(`/fhir/R4/${ref(consent)}`).set('Authorization', `Bearer ${qToken}`);
      expectNothingOfWhatIsNotShown(await (ifMatch ? req.set('If-Match', ifMatch) : req));
    }
    const stored = (await as(practiceToken).get(ref(consent))).body as Consent;
    expect(stored.meta?.versionId).toBe('1');
    expect(stored.status).toBe(consent.status);
  });

  test('the custodian still patches, updates and deletes it', async () => {
    const patched = await patch(practiceToken, ref(consent), [{ op: 'test', path: '/provision/actor/1/reference/reference', value: partnerX }], { 'If-Match': 'W/"1"' });
    expect(patched.status).toBe(200);
    expect((patched.body as Consent).meta?.versionId).toBe('2');
    expect((await patch(practiceToken, ref(consent), [{ op: 'copy', from: '/nothing', path: '/status' }])).status).toBe(400);
    const deleted = await t.http.delete(`/fhir/R4/${ref(consent)}`).set('Authorization', `Bearer ${practiceToken}`).set('If-Match', 'W/"2"');
    expect(deleted.status).toBe(204);
  });
});

describe('a psychotherapy note deleted and written again', () => {
  test('keeps its category and its custodian stamp; a partner still cannot read it', async () => {
    const partnerClient = await created(practiceToken, buildPatient({ name: [{ family: 'D' }] }));
    await created<Consent>(practiceToken, {
      ...buildSharingConsent({ patient: ref(partnerClient), custodian: practice, recipients: [partnerQ], categories: ['progress', 'demographics'] }),
      ...SIGNED,
    });
    const note = await created(practiceToken, tagged(buildObservation(partnerClient.id as string), 'psychotherapy-notes'));
    expect(note.meta?.extension).toEqual([{ url: NOTE_CUSTODIAN_URL, valueReference: { reference: practice } }]);
    const lowered = tagged({ ...note, meta: { tag: [] } } as Observation, 'progress');
    expect((await as(practiceToken).put(ref(note), lowered)).status).toBe(422);
    expect((await t.http.delete(`/fhir/R4/${ref(note)}`).set('Authorization', `Bearer ${practiceToken}`)).status).toBe(204);

    // Brought back one category lower: still refused.
    expect((await as(practiceToken).put(ref(note), lowered)).status).toBe(422);
    // Brought back naming no category nor stamp: it stays a note, with its custodian's stamp.
    const back = await as(practiceToken).put(ref(note), { ...note, meta: undefined });
    expect(back.status).toBe(201);
    const revived = back.body as Observation;
    expect(revived.meta?.versionId).toBe('3');
    expect(revived.meta?.tag).toEqual(expect.arrayContaining([expect.objectContaining({ system: SHARE_CATEGORY_SYSTEM, code: 'psychotherapy-notes' })]));
    expect(revived.meta?.tag?.some((tag) => tag.system === SHARE_CATEGORY_SYSTEM && tag.code === 'progress')).toBe(false);
    expect(revived.meta?.extension).toEqual([{ url: NOTE_CUSTODIAN_URL, valueReference: { reference: practice } }]);
    expect((await as(qToken).get(ref(note))).status).toBe(404);
    expect((await as(practiceToken).get(ref(note))).status).toBe(200);
  });

  test('an ordinary record deleted and written again comes back as before', async () => {
    const progress = await created(practiceToken, tagged(buildObservation(client.id as string), 'progress'));
    expect((await t.http.delete(`/fhir/R4/${ref(progress)}`).set('Authorization', `Bearer ${practiceToken}`)).status).toBe(204);
    const back = await as(practiceToken).put(ref(progress), { ...progress, meta: undefined });
    expect(back.status).toBe(201);
    expect((back.body as Observation).meta?.tag).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'progress' })]));
    expect((back.body as Observation).meta?.extension).toBeUndefined();
  });
});
