/**
 * The less-travelled read paths disclose nothing a plain read would not, end to end over HTTP with real tokens,
 * PostgreSQL and Redis: the deletion of a resource the caller could not see is as absent as the resource was (404, and
 * nothing in any history); the later pages of a search serve a resource only while the caller may still see its
 * current version; and a conditional create's match is a search result, which needs the search scope and is audited
 * like one.
 */
import { randomUUID } from 'node:crypto';
import type { AuditEvent, Bundle, DocumentReference, Observation, Patient, Resource } from '@medplum/fhirtypes';
import { buildSharingConsent, SHARE_CATEGORIES, SHARE_CATEGORY_SYSTEM, type ShareCategory } from '@carecircle/consent';
import { buildObservation, buildOrganization, buildPatient } from '@carecircle/testing';
import { logInUser, registerApp, registerSystemClient } from '../smart-test-clients';
import { createdAs, createTestApp, fhirClient, type TestApp } from '../test-harness';

let t: TestApp;
let practice: string;
let partner: string;
let practiceToken: string;
let partnerToken: string;
let appId: string;

const ref = (r: Resource) => `${r.resourceType}/${r.id}`;
const SIGNED = { sourceAttachment: { contentType: 'application/pdf', title: 'Signed release', data: 'JVBERi0=' } };
const CLIENT_SCOPE = 'launch/patient patient/*.rs patient/Consent.cu';

function as(token: string, headers: Record<string, string> = {}) {
  return fhirClient(t, token, headers);
}

function remove(token: string, path: string) {
  return t.http.delete(`/fhir/R4/${path}`).set('Authorization', `Bearer ${token}`);
}

function tagged<T extends Resource>(resource: T, category: ShareCategory): T {
  return { ...resource, meta: { ...resource.meta, tag: [{ system: SHARE_CATEGORY_SYSTEM, code: category }] } };
}

const created = <T extends Resource>(token: string, resource: T): Promise<T> => createdAs(t, token, resource);

async function updated<T extends Resource>(token: string, resource: T): Promise<T> {
  const res = await as(token).put(ref(resource), resource);
  if (res.status !== 200) {
    throw new Error(`update ${ref(resource)} answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
  return res.body as T;
}

/** A new client of the practice who consents to the partner seeing everything a consent can grant. */
async function consentingClient(): Promise<Patient> {
  const patient = await created(practiceToken, buildPatient());
  const categories = SHARE_CATEGORIES.filter((c) => c !== 'psychotherapy-notes');
  await created(practiceToken, { ...buildSharingConsent({ patient: ref(patient), custodian: practice, recipients: [partner], categories }), ...SIGNED });
  return patient;
}

function documentOf(patient: Patient, category: ShareCategory): DocumentReference {
  return tagged(
    { resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { contentType: 'text/plain', data: 'c2Vzc2lvbg==' } }], subject: { reference: ref(patient) } },
    category,
  );
}

/** The `Type/id` of every entry of a bundle (history entries have no resource when they record a deletion). */
function entryRefs(bundle: Bundle): string[] {
  return (bundle.entry ?? []).map((e) => (e.fullUrl ?? '').replace(`${t.services.config.fhirBaseUrl}/`, ''));
}

function nextPath(bundle: Bundle): string | undefined {
  return bundle.link?.find((l) => l.relation === 'next')?.url?.replace(`${t.services.config.fhirBaseUrl}/`, '');
}

/** The pages after `first`, following next links to the end. */
async function laterPages(token: string, first: Bundle): Promise<Bundle[]> {
  const pages: Bundle[] = [];
  for (let path = nextPath(first); path; ) {
    const res = await as(token).get(path);
    expect(res.status).toBe(200);
    pages.push(res.body as Bundle);
    path = nextPath(res.body as Bundle);
  }
  return pages;
}

/** `mode` entries (match or include) of `pages` as `Type/id@version`. */
function versionsIn(pages: Bundle[], mode: 'match' | 'include'): string[] {
  return pages.flatMap((page) =>
    (page.entry ?? []).filter((e) => e.search?.mode === mode).map((e) => `${ref(e.resource as Resource)}@${e.resource?.meta?.versionId}`),
  );
}

beforeAll(async () => {
  t = await createTestApp();
  practice = `Organization/${(await created(t.adminToken, buildOrganization({ name: 'Riverside Sex Therapy' }))).id}`;
  partner = `Organization/${(await created(t.adminToken, buildOrganization({ name: 'Eastside OB-GYN' }))).id}`;
  practiceToken = await (await registerSystemClient(t, practice, 'system/*.cruds')).token();
  partnerToken = await (await registerSystemClient(t, partner, 'system/*.rs')).token();
  appId = await registerApp(t, CLIENT_SCOPE);
});
afterAll(async () => {
  await t.close();
});

async function clientToken(patient: Patient): Promise<string> {
  return (await logInUser(t, appId, { fhirUser: ref(patient) }, CLIENT_SCOPE)).access_token;
}

describe('a deletion is shown only to whoever may see what it deleted', () => {
  test('a deleted psychotherapy note is absent to its client: 404 on read and vread, nothing in any history', async () => {
    const client = await consentingClient();
    const token = await clientToken(client);
    const note = await created(practiceToken, documentOf(client, 'psychotherapy-notes'));
    // Filed as progress first and re-filed as a note: a note by its last version, whatever version 1 said.
    const refiled = await created(practiceToken, documentOf(client, 'progress'));
    await updated(practiceToken, tagged({ ...refiled, description: 'session detail' }, 'psychotherapy-notes'));
    const plain = await created(practiceToken, documentOf(client, 'progress'));
    for (const doc of [note, refiled, plain]) {
      expect((await remove(t.adminToken, ref(doc))).status).toBe(204);
    }

    const c = as(token);
    const absent = await c.get(`DocumentReference/${randomUUID()}`);
    expect(absent.status).toBe(404);
    for (const [doc, versions] of [[note, 2], [refiled, 3]] as const) {
      const read = await c.get(ref(doc));
      expect({ status: read.status, body: read.body }).toEqual({ status: 404, body: absent.body });
      for (let v = 1; v <= versions; v++) {
        expect((await c.get(`${ref(doc)}/_history/${v}`)).status).toBe(404);
      }
      expect((await c.get(`${ref(doc)}/_history`)).status).toBe(404);
    }
    const hidden = [ref(note), ref(refiled)];
    const typeHistory = (await c.get('DocumentReference/_history?_count=1000')).body as Bundle;
    expect(entryRefs(typeHistory).filter((r) => hidden.includes(r))).toEqual([]);
    const systemHistory = (await c.get('_history?_count=1000')).body as Bundle;
    expect(entryRefs(systemHistory).filter((r) => hidden.includes(r))).toEqual([]);
    const batch = (await c.post('', { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: ref(note) } }, { request: { method: 'GET', url: `${ref(note)}/_history/2` } }] })).body as Bundle;
    expect(batch.entry?.map((e) => e.response?.status)).toEqual(['404', '404']);

    // What the client could see stays deleted for the client, as FHIR has it: 410, and the deletion in its history.
    expect((await c.get(ref(plain))).status).toBe(410);
    const plainHistory = await c.get(`${ref(plain)}/_history`);
    expect(plainHistory.status).toBe(200);
    expect((plainHistory.body as Bundle).entry?.map((e) => e.request?.method)).toEqual(['DELETE', 'POST']);
    expect(entryRefs(typeHistory)).toContain(ref(plain));
    // The practice keeps all of it.
    expect((await as(practiceToken).get(ref(note))).status).toBe(410);
    expect(((await as(practiceToken).get(`${ref(note)}/_history`)).body as Bundle).entry).toHaveLength(2);
  });

  test('for a partner too: a deleted client record it could not see answers 404, not 410, and has no history', async () => {
    const client = await consentingClient();
    expect((await as(partnerToken).get(ref(client))).status).toBe(200);
    const current = (await as(practiceToken).get(ref(client))).body as Patient;
    await updated(practiceToken, tagged(current, 'psychotherapy-notes'));
    expect((await as(partnerToken).get(ref(client))).status).toBe(404);
    expect((await remove(t.adminToken, ref(client))).status).toBe(204);

    const p = as(partnerToken);
    expect((await p.get(ref(client))).status).toBe(404);
    expect((await p.get(`${ref(client)}/_history/3`)).status).toBe(404);
    expect((await p.get(`${ref(client)}/_history`)).status).toBe(404);
    expect(entryRefs((await p.get('Patient/_history?_count=1000')).body as Bundle)).not.toContain(ref(client));
    expect(entryRefs((await p.get('_history?_count=1000')).body as Bundle)).not.toContain(ref(client));
  });
});

describe('later pages serve a resource only while the caller may still see its current version', () => {
  test('a partner: Observations re-filed as notes or deleted after page 1 are not served from the snapshot', async () => {
    const client = await consentingClient();
    const observations: Observation[] = [];
    for (let i = 0; i < 4; i++) {
      observations.push(await created(practiceToken, tagged(buildObservation(client.id as string), 'progress')));
    }
    const [first, refiled, deleted, edited] = observations as [Observation, Observation, Observation, Observation];
    const page1 = await as(partnerToken).get(`Observation?subject=${ref(client)}&_count=1&_sort=_lastUpdated`);
    expect(page1.status).toBe(200);
    expect(versionsIn([page1.body as Bundle], 'match')).toEqual([`${ref(first)}@1`]);

    await updated(practiceToken, tagged({ ...refiled, valueQuantity: { ...refiled.valueQuantity, value: 5 } }, 'psychotherapy-notes'));
    expect((await remove(practiceToken, ref(deleted))).status).toBe(204);
    await updated(practiceToken, { ...edited, valueQuantity: { ...edited.valueQuantity, value: 90 } });
    expect((await as(partnerToken).get(ref(refiled))).status).toBe(404);

    const served = versionsIn(await laterPages(partnerToken, page1.body as Bundle), 'match');
    // Still visible though changed: served as page 1's snapshot had it, so pages neither overlap nor skip.
    expect(served).toEqual([`${ref(edited)}@1`]);
  });

  test('a client: DocumentReferences re-filed as notes after page 1 are not served from the snapshot', async () => {
    const client = await consentingClient();
    const token = await clientToken(client);
    const docs: DocumentReference[] = [];
    for (let i = 0; i < 3; i++) {
      docs.push(await created(practiceToken, documentOf(client, 'progress')));
    }
    const page1 = await as(token).get('DocumentReference?_count=1&_sort=_lastUpdated');
    expect(versionsIn([page1.body as Bundle], 'match')).toEqual([`${ref(docs[0]!)}@1`]);
    for (const doc of docs.slice(1)) {
      await updated(practiceToken, tagged({ ...doc, description: 'session detail' }, 'psychotherapy-notes'));
    }
    expect(versionsIn(await laterPages(token, page1.body as Bundle), 'match')).toEqual([]);
  });

  test('_revinclude and _include on later pages: what became hidden after page 1 is not included', async () => {
    const [a, b] = [await consentingClient(), await consentingClient()];
    const obsA = await created(practiceToken, tagged(buildObservation(a.id as string), 'progress'));
    const obsB = await created(practiceToken, tagged(buildObservation(b.id as string), 'progress'));
    const revinclude = await as(partnerToken).get(`Patient?_id=${a.id},${b.id}&_count=1&_sort=_lastUpdated&_revinclude=Observation:subject`);
    expect(versionsIn([revinclude.body as Bundle], 'include')).toEqual([`${ref(obsA)}@1`]);
    const include = await as(partnerToken).get(`Observation?_id=${obsA.id},${obsB.id}&_count=1&_sort=_lastUpdated&_include=Observation:subject`);
    expect(versionsIn([include.body as Bundle], 'include')).toEqual([`${ref(a)}@1`]);

    await updated(practiceToken, tagged(obsB, 'psychotherapy-notes'));
    const patientB = (await as(practiceToken).get(ref(b))).body as Patient;
    await updated(practiceToken, tagged(patientB, 'psychotherapy-notes'));

    const revincludePages = await laterPages(partnerToken, revinclude.body as Bundle);
    expect(versionsIn(revincludePages, 'include')).toEqual([]);
    const includePages = await laterPages(partnerToken, include.body as Bundle);
    expect(versionsIn(includePages, 'include')).toEqual([]);
  });
});

describe('a conditional create is a search: it needs the search scope, and its match is audited like a search', () => {
  let client: Patient;
  let observation: Observation;

  /** The AuditEvents of the client written by the request with X-Request-Id `requestId`. */
  async function auditOf(requestId: string): Promise<AuditEvent[]> {
    const res = await as(practiceToken).get(`AuditEvent?patient=${ref(client)}&_count=1000`);
    return ((res.body as Bundle).entry ?? []).map((e) => e.resource as AuditEvent).filter((e) => e.source?.site === requestId);
  }

  async function observationCount(): Promise<number> {
    return ((await as(practiceToken).get(`Observation?subject=${ref(client)}&_summary=count`)).body as Bundle).total ?? -1;
  }

  beforeAll(async () => {
    client = await consentingClient();
    observation = await created(practiceToken, tagged(buildObservation(client.id as string), 'progress'));
  });

  test('with only the create scope: 403, in a request and in a batch, and nothing is disclosed or written', async () => {
    const createOnly = await (await registerSystemClient(t, partner, 'system/Observation.c')).token();
    const headers = { 'X-Request-Id': `conditional-create-only-${Date.now()}` };
    const before = await observationCount();
    expect((await as(createOnly).get(ref(observation))).status).toBe(403);

    const res = await as(createOnly, { ...headers, 'If-None-Exist': `_id=${observation.id}` }).post('Observation', buildObservation(client.id as string));
    expect(res.status).toBe(403);
    expect(res.body.resourceType).toBe('OperationOutcome');
    const entry = { resource: buildObservation(client.id as string), request: { method: 'POST', url: 'Observation', ifNoneExist: `_id=${observation.id}` } };
    const batch = await as(createOnly, headers).post('', { resourceType: 'Bundle', type: 'batch', entry: [entry] });
    expect(batch.status).toBe(200);
    expect((batch.body as Bundle).entry?.map((e) => ({ status: e.response?.status, resource: e.resource }))).toEqual([{ status: '403', resource: undefined }]);
    const transaction = await as(createOnly, headers).post('', { resourceType: 'Bundle', type: 'transaction', entry: [{ fullUrl: `urn:uuid:${randomUUID()}`, ...entry }] });
    expect(transaction.status).toBe(403);

    expect(await observationCount()).toBe(before);
    expect(await auditOf(headers['X-Request-Id'])).toEqual([]);
  });

  test('with the search scope: the match is returned and an AuditEvent records the disclosure', async () => {
    const createSearch = await (await registerSystemClient(t, partner, 'system/Observation.cs')).token();
    const before = await observationCount();
    const headers = { 'X-Request-Id': `conditional-create-search-${Date.now()}` };
    const res = await as(createSearch, { ...headers, 'If-None-Exist': `_id=${observation.id}` }).post('Observation', buildObservation(client.id as string));
    expect(res.status).toBe(200);
    expect(ref(res.body as Observation)).toBe(ref(observation));
    const events = await auditOf(headers['X-Request-Id']);
    expect(events.map((e) => ({ outcome: e.outcome, subtype: e.subtype?.[0]?.code, what: e.entity?.map((x) => x.what?.reference) }))).toEqual([
      { outcome: '0', subtype: 'search-type', what: [ref(client), `${ref(observation)}/_history/1`] },
    ]);

    const batchHeaders = { 'X-Request-Id': `conditional-create-batch-${Date.now()}` };
    const entry = { resource: buildObservation(client.id as string), request: { method: 'POST', url: 'Observation', ifNoneExist: `_id=${observation.id}` } };
    const batch = (await as(createSearch, batchHeaders).post('', { resourceType: 'Bundle', type: 'batch', entry: [entry] })).body as Bundle;
    expect(batch.entry?.map((e) => ({ status: e.response?.status, id: e.resource?.id }))).toEqual([{ status: '200 OK', id: observation.id }]);
    expect((await auditOf(batchHeaders['X-Request-Id'])).map((e) => e.subtype?.[0]?.code)).toEqual(['search-type']);
    expect(await observationCount()).toBe(before);
  });
});
