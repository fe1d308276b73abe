/**
 * What a recipient is shown of a Consent naming it, over HTTP with real tokens, PostgreSQL and Redis: its own IRCP
 * actors and nothing of the client's other recipients or the signed request, on every read path (read, vread, history,
 * search matches and includes, batch entries, a conditional create's match), marked SUBSETTED, with the stored version's
 * ETag; searches find a Consent only by what the recipient is shown of it. The custodian still reads and finds the
 * Consent as stored, and nothing the recipient was shown is ever written back.
 */
import type { Bundle, BundleEntry, Consent, DocumentReference, Organization, Patient, Resource } from '@medplum/fhirtypes';
import { buildSharingConsent, SUBSETTED_TAG } from '@carecircle/consent';
import { buildOrganization, buildPatient, buildPractitioner } from '@carecircle/testing';
import { logInUser, registerApp, registerSystemClient } from '../smart-test-clients';
import { createTestApp, fhirClient, type TestApp } from '../test-harness';

const SIGNED_PDF = Buffer.from('%PDF-1.4 signed release: HIV status attached').toString('base64');
const SIGNED = { sourceAttachment: { contentType: 'application/pdf', title: 'Signed release: HIV status attached', data: SIGNED_PDF } };
const NARRATIVE = {
  text: { status: 'generated' as const, div: '<div xmlns="http://www.w3.org/1999/xhtml">Shares with Q and X; HIV status attached</div>' },
};

let t: TestApp;
let admin: string;
let practice: string;
let partnerQ: string;
let partnerX: string;
let practiceToken: string;
let qToken: string;
let qDoctorToken: string;
let xToken: string;
let client: Patient;
let consent: Consent;
let consentBySourceReference: Consent;
let signedForm: DocumentReference;

const ref = (r: Resource) => `${r.resourceType}/${r.id}`;
const idOf = (reference: string) => reference.split('/')[1] as string;

function as(token: string) {
  return fhirClient(t, token);
}

async function created<T extends Resource>(token: string, resource: T, headers: Record<string, string> = {}): Promise<T> {
  const res = await fhirClient(t, token, headers).post(resource.resourceType, resource);
  if (res.status !== 201) {
    throw new Error(`create ${resource.resourceType} answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
  return res.body as T;
}

async function bundle(token: string, path: string): Promise<Bundle> {
  const res = await as(token).get(path);
  expect({ path, status: res.status }).toEqual({ path, status: 200 });
  return res.body as Bundle;
}

function resourcesOf(b: Bundle, mode?: 'match' | 'include'): Resource[] {
  return (b.entry ?? []).filter((e: BundleEntry) => mode === undefined || e.search?.mode === mode).map((e) => e.resource as Resource);
}

/** What Q may be shown of a Consent naming it, and nothing more. */
function expectShownToQ(shown: Resource | undefined, stored: Consent = consent): void {
  const view = shown as Consent;
  expect(view.resourceType).toBe('Consent');
  expect(view.id).toBe(stored.id);
  expect(view.meta?.versionId).toBe(stored.meta?.versionId);
  expect(view.meta?.lastUpdated).toBe(stored.meta?.lastUpdated);
  expect(view.meta?.tag).toEqual(expect.arrayContaining([expect.objectContaining({ system: SUBSETTED_TAG.system, code: 'SUBSETTED' })]));
  expect(view.provision?.actor?.map((a) => a.reference?.reference)).toEqual([partnerQ]);
  expect(view.sourceAttachment).toBeUndefined();
  expect(view.sourceReference).toBeUndefined();
  expect(view.text).toBeUndefined();
  // Neither the other recipient nor anything of the signed request, anywhere in the body.
  const body = JSON.stringify(view);
  expect(body).not.toContain(idOf(partnerX));
  expect(body).not.toContain('HIV');
  expect(body).not.toContain(SIGNED_PDF);
  if (signedForm) {
    expect(body).not.toContain(signedForm.id);
  }
  // What Q needs: status, client, categories, purposes, period.
  expect(view.status).toBe(stored.status);
  expect(view.patient).toEqual(stored.patient);
  expect(view.provision?.code).toEqual(stored.provision?.code);
  expect(view.provision?.purpose).toEqual(stored.provision?.purpose);
}

beforeAll(async () => {
  t = await createTestApp();
  admin = t.adminToken;
  practice = ref(await created(admin, buildOrganization({ name: 'Riverside Sex Therapy' })));
  partnerQ = ref(await created<Organization>(admin, buildOrganization({ name: 'Q Clinic' })));
  partnerX = ref(await created<Organization>(admin, buildOrganization({ name: 'X Clinic' })));
  practiceToken = await (await registerSystemClient(t, practice, 'system/*.cruds')).token();
  qToken = await (await registerSystemClient(t, partnerQ, 'system/*.rs system/Consent.c')).token();
  xToken = await (await registerSystemClient(t, partnerX, 'system/*.rs')).token();
  const appId = await registerApp(t, 'user/*.rs');
  const doctor = await created(admin, buildPractitioner());
  qDoctorToken = (await logInUser(t, appId, { fhirUser: ref(doctor), organization: partnerQ }, 'user/*.rs')).access_token;
  client = await created(practiceToken, buildPatient({ name: [{ family: 'B' }] }));
  consent = await created(practiceToken, {
    ...buildSharingConsent({
      patient: ref(client),
      custodian: practice,
      recipients: [partnerQ, partnerX],
      categories: ['progress', 'care-plan', 'sexual-history'],
    }),
    ...SIGNED,
    ...NARRATIVE,
  });
  signedForm = await created(practiceToken, {
    resourceType: 'DocumentReference',
    status: 'current',
    subject: { reference: ref(client) },
    content: [{ attachment: { contentType: 'application/pdf', data: SIGNED_PDF } }],
  });
  // Recorded by the operator with the signed form as a reference (the practice must attach it).
  consentBySourceReference = await created(admin, {
    ...buildSharingConsent({ patient: ref(client), custodian: practice, recipients: [partnerQ, partnerX], categories: ['progress'] }),
    sourceReference: { reference: ref(signedForm) },
  });
});
afterAll(async () => {
  await t.close();
});

describe('a recipient reads the Consents naming it as shown to it', () => {
  test('read and vread: its own actor only, no signed request, marked SUBSETTED, with the stored ETag', async () => {
    const read = await as(qToken).get(ref(consent));
    expect(read.status).toBe(200);
    expectShownToQ(read.body);
    expect(read.headers.etag).toBe(`W/"${consent.meta?.versionId}"`);
    const vread = await as(qToken).get(`${ref(consent)}/_history/1`);
    expect(vread.status).toBe(200);
    expectShownToQ(vread.body);
    const bySource = await as(qToken).get(ref(consentBySourceReference));
    expectShownToQ(bySource.body, consentBySourceReference);
    // A practitioner of Q reads it through Q as well; X is shown only itself.
    expectShownToQ((await as(qDoctorToken).get(ref(consent))).body);
    const xView = (await as(xToken).get(ref(consent))).body as Consent;
    expect(xView.provision?.actor?.map((a) => a.reference?.reference)).toEqual([partnerX]);
    expect(JSON.stringify(xView)).not.toContain(idOf(partnerQ));
  });

  test('history, search matches, includes and batch entries are shown the same way', async () => {
    const views: Resource[] = [
      ...resourcesOf(await bundle(qToken, `${ref(consent)}/_history`)),
      ...resourcesOf(await bundle(qToken, `Consent/_history?_count=100`)).filter((r) => r.id === consent.id),
      ...resourcesOf(await bundle(qToken, `_history?_count=100`)).filter((r) => r.id === consent.id),
      ...resourcesOf(await bundle(qToken, `Consent?actor=${partnerQ}&_id=${consent.id}`), 'match'),
      ...resourcesOf(await bundle(qToken, `Consent?patient=${ref(client)}&_id=${consent.id}`), 'match'),
      ...resourcesOf(await bundle(qToken, `Patient?_id=${client.id}&_revinclude=Consent:patient`), 'include').filter((r) => r.id === consent.id),
      ...resourcesOf(await bundle(qToken, `Organization?_id=${idOf(partnerQ)}&_revinclude=Consent:actor`), 'include').filter((r) => r.id === consent.id),
    ];
    expect(views).toHaveLength(7);
    views.forEach((view) => expectShownToQ(view));

    const batch = await as(qToken).post('', {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [{ request: { method: 'GET', url: ref(consent) } }, { request: { method: 'GET', url: `Consent?_id=${consent.id}` } }],
    });
    expect(batch.status).toBe(200);
    const [readEntry, searchEntry] = (batch.body as Bundle).entry ?? [];
    expectShownToQ(readEntry?.resource);
    expectShownToQ(resourcesOf(searchEntry?.resource as Bundle, 'match')[0]);
  });

  test('a conditional create that matches hands back the Consent as shown', async () => {
    const res = await fhirClient(t, qToken, { 'If-None-Exist': `_id=${consent.id}` }).post('Consent', { ...consent, id: undefined });
    expect(res.status).toBe(200);
    expectShownToQ(res.body);
  });

  test('_include through the actors follows only the actors shown', async () => {
    const included = resourcesOf(await bundle(qToken, `Consent?_id=${consent.id}&_include=Consent:actor`), 'include').map(ref);
    expect(included).toEqual([partnerQ]);
    expect(resourcesOf(await bundle(qToken, `Consent?_id=${consentBySourceReference.id}&_include=Consent:source-reference`), 'include')).toEqual([]);
  });

  test('searches find a Consent only by what the recipient is shown of it', async () => {
    const found = async (query: string) => resourcesOf(await bundle(qToken, query), 'match').map(ref);
    const both = [ref(consent), ref(consentBySourceReference)].sort();
    expect((await found(`Consent?actor=${partnerQ}`)).sort()).toEqual(both);
    expect((await found(`Consent?actor=Organization/${idOf(partnerQ)}&patient=${ref(client)}`)).sort()).toEqual(both);
    // Which of its clients also consented to X, in every spelling: nothing.
    for (const query of [
      `Consent?actor=${partnerX}`,
      `Consent?actor=${idOf(partnerX)}`,
      `Consent?actor:Organization=${idOf(partnerX)}`,
      `Consent?actor=${partnerQ},${partnerX}&actor=${partnerX}`,
      `Consent?actor:missing=true`,
      `Consent?source-reference=${ref(signedForm)}`,
      `Consent?source-reference:missing=false`,
      `Consent?patient=${ref(client)}&actor=${partnerX}&_summary=count`,
    ]) {
      expect({ query, found: await found(query) }).toEqual({ query, found: [] });
    }
    expect((await bundle(qToken, `Consent?actor=${partnerX}&_summary=count`)).total).toBe(0);
    expect((await found(`Consent?actor=${partnerQ},${partnerX}`)).sort()).toEqual(both);
    expect((await found(`Consent?source-reference:missing=true&patient=${ref(client)}`)).sort()).toEqual(both);
    // The Consents pointing at X, included from X: none that Q is shown.
    expect(resourcesOf(await bundle(qToken, `Organization?_id=${idOf(partnerX)}&_revinclude=Consent:actor`), 'include')).toEqual([]);
    // An order by what is not shown would tell it: refused.
    const sorted = await as(qToken).get(`Consent?patient=${ref(client)}&_sort=actor`);
    expect(sorted.status).toBe(403);
    expect(sorted.body.resourceType).toBe('OperationOutcome');
  });
});

describe('the custodian and the stored Consent are untouched', () => {
  test('the custodian reads and finds the Consent as stored', async () => {
    const read = (await as(practiceToken).get(ref(consent))).body as Consent;
    expect(read).toEqual(consent);
    const found = resourcesOf(await bundle(practiceToken, `Consent?actor=${partnerX}`), 'match').map(ref);
    expect(found.sort()).toEqual([ref(consent), ref(consentBySourceReference)].sort());
    expect(resourcesOf(await bundle(practiceToken, `Consent?source-reference=${ref(signedForm)}`), 'match').map(ref)).toEqual([
      ref(consentBySourceReference),
    ]);
    // A practice is a recipient of other practices' clients: no caller that may be shown Consents in part sorts them
    // by their actors (the policy cannot tell in advance which Consents a search will reach).
    expect((await as(practiceToken).get(`Consent?actor=${partnerX}&_sort=actor`)).status).toBe(403);
  });

  test('the recipient cannot write what it was shown back', async () => {
    const writer = await (await registerSystemClient(t, partnerQ, 'system/*.cruds')).token();
    const seen = await as(writer).get(ref(consent));
    const put = await fhirClient(t, writer, { 'If-Match': seen.headers.etag as string }).put(ref(consent), seen.body);
    expect(put.status).toBe(403);
    expect((await as(practiceToken).get(ref(consent))).body).toEqual(consent);
  });

  test('a revocation with the ETag the recipient saw goes through, and the recipient is shown the new version', async () => {
    const seen = await as(qToken).get(ref(consent));
    const stored = (await as(practiceToken).get(ref(consent))).body as Consent;
    const revoked = await fhirClient(t, practiceToken, { 'If-Match': seen.headers.etag as string }).put(ref(consent), { ...stored, status: 'inactive' });
    expect(revoked.status).toBe(200);
    const after = await as(qToken).get(ref(consent));
    expect(after.headers.etag).toBe('W/"2"');
    expectShownToQ(after.body, revoked.body as Consent);
    expect((after.body as Consent).status).toBe('inactive');
    // Both versions as stored for the custodian: the recipient's views were never written back.
    const history = resourcesOf(await bundle(practiceToken, `${ref(consent)}/_history`)) as Consent[];
    expect(history.map((v) => v.meta?.versionId)).toEqual(['2', '1']);
    for (const version of history) {
      expect(version.sourceAttachment).toEqual(SIGNED.sourceAttachment);
      expect(version.provision?.actor?.map((a) => a.reference?.reference)).toEqual([partnerQ, partnerX]);
      expect(version.meta?.tag?.some((tag) => tag.code === 'SUBSETTED')).toBe(false);
    }
  });
});
