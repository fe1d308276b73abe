/**
 * A partner cannot flood a client's accounting of disclosures (issue 17, finding 5), over HTTP with real tokens,
 * PostgreSQL and Redis: a request's refused reads are folded into one AuditEvent per client carrying the count; a
 * caller past DENIED_REQUESTS_PER_MINUTE refused requests is answered 429 with Retry-After, and other callers are not;
 * and the listing, now decided by the note_record index, still shows the client exactly its own events (never those
 * about a psychotherapy note, also one filed as a note after the event) and the practice its clients' events only.
 */
import type { AuditEvent, Bundle, DocumentReference, Observation, OperationOutcome, Patient, Resource } from '@medplum/fhirtypes';
import { DENIED_COUNT_URL, SHARE_CATEGORY_SYSTEM, type ShareCategory } from '@carecircle/consent';
import { buildObservation, buildOrganization, buildPatient } from '@carecircle/testing';
import { logInUser, registerApp, registerSystemClient } from '../smart-test-clients';
import { createdAs, createTestApp, fhirClient, type TestApp } from '../test-harness';

const LIMIT = 3;

let t: TestApp;
let practiceToken: string;
let otherPracticeToken: string;
let clientToken: string;
let client: Patient;
let observation: Observation;
let appId: string;

const ref = (r: Resource) => `${r.resourceType}/${r.id}`;
const as = (token: string, headers: Record<string, string> = {}) => fhirClient(t, token, headers);
const tagged = <T extends Resource>(resource: T, category: ShareCategory): T => ({
  ...resource,
  meta: { ...resource.meta, tag: [{ system: SHARE_CATEGORY_SYSTEM, code: category }] },
});

const created = <T extends Resource>(token: string, resource: T): Promise<T> => createdAs(t, token, resource);

/** A partner organization with no consent, and a system token of its own. */
async function newPartner(name: string): Promise<string> {
  const organization = await created(t.adminToken, buildOrganization({ name }));
  return (await registerSystemClient(t, ref(organization), 'system/*.rs')).token();
}

/** Every AuditEvent of `patient` that `token` is shown, following next links. */
async function auditTrail(token: string, patient: Patient): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  let path: string | undefined = `AuditEvent?patient=${ref(patient)}&_count=200`;
  while (path) {
    const res = await as(token).get(path);
    expect(res.status).toBe(200);
    const bundle = res.body as Bundle;
    events.push(...(bundle.entry ?? []).map((e) => e.resource as AuditEvent));
    path = bundle.link?.find((l) => l.relation === 'next')?.url?.replace(`${t.services.config.fhirBaseUrl}/`, '');
  }
  return events;
}

const countOf = (element: { extension?: Array<{ url?: string; valueInteger?: number }> } | undefined) =>
  element?.extension?.find((e) => e.url === DENIED_COUNT_URL)?.valueInteger;

beforeAll(async () => {
  t = await createTestApp({ DENIED_REQUESTS_PER_MINUTE: String(LIMIT) });
  const practice = await created(t.adminToken, buildOrganization({ name: 'Riverside Sex Therapy' }));
  const otherPractice = await created(t.adminToken, buildOrganization({ name: 'Elsewhere Counselling' }));
  practiceToken = await (await registerSystemClient(t, ref(practice), 'system/*.cruds')).token();
  otherPracticeToken = await (await registerSystemClient(t, ref(otherPractice), 'system/*.cruds')).token();
  client = await created(practiceToken, buildPatient());
  observation = await created(practiceToken, tagged(buildObservation(client.id as string), 'progress'));
  appId = await registerApp(t, 'launch/patient patient/*.rs');
  clientToken = (await logInUser(t, appId, { fhirUser: ref(client) }, 'launch/patient patient/*.rs')).access_token;
});

afterAll(async () => {
  await t.close();
});

test('a batch of 1,000 refused reads is one AuditEvent for the client, counting 1,000', async () => {
  const partnerToken = await newPartner('Batch Partner');
  const requestId = `denial-flood-${Date.now()}`;
  const batch = {
    resourceType: 'Bundle',
    type: 'batch',
    entry: Array.from({ length: 1000 }, () => ({ request: { method: 'GET', url: ref(observation) } })),
  };
  const res = await as(partnerToken, { 'X-Request-Id': requestId }).post('', batch);
  expect(res.status).toBe(200);
  expect(new Set((res.body as Bundle).entry?.map((e) => e.response?.status?.split(' ')[0]))).toEqual(new Set(['404']));

  const events = (await auditTrail(practiceToken, client)).filter((e) => e.source?.site === requestId);
  expect(events).toHaveLength(1);
  const [event] = events;
  expect(event).toMatchObject({ outcome: '4', subtype: [{ code: 'read' }] });
  expect(countOf(event)).toBe(1000);
  expect(event?.entity?.map((e) => [e.what?.reference, countOf(e)])).toEqual([
    [ref(client), undefined],
    [ref(observation), 1000],
  ]);
});

test(`past ${LIMIT} refused requests a minute the caller is answered 429 with Retry-After, and other callers are not`, async () => {
  const floodingToken = await newPartner('Flooding Partner');
  const bystanderToken = await newPartner('Bystander Partner');
  for (let i = 0; i < LIMIT; i++) {
    expect((await as(floodingToken).get(ref(observation))).status).toBe(404);
  }
  // Any request, even one that refuses nothing, waits out the window.
  const refused = await as(floodingToken).get('Organization');
  expect(refused.status).toBe(429);
  const wait = Number(refused.headers['retry-after']);
  expect(wait).toBeGreaterThanOrEqual(1);
  expect(wait).toBeLessThanOrEqual(60);
  expect((refused.body as OperationOutcome).issue?.[0]).toMatchObject({ severity: 'error', code: 'throttled' });
  // The refusal is not another record in the client's trail: the 429 comes before anything is read.
  const before = (await auditTrail(practiceToken, client)).length;
  expect((await as(floodingToken).get(ref(observation))).status).toBe(429);
  expect((await auditTrail(practiceToken, client)).length).toBe(before);

  expect((await as(bystanderToken).get(ref(observation))).status).toBe(404);
  expect((await as(bystanderToken).get('Organization')).status).toBe(200);
  // The custodian's own reads are never refused, so never limited.
  expect((await as(practiceToken).get(ref(observation))).status).toBe(200);
});

test('the listing shows the client exactly its own events, none about a psychotherapy note, and the practice its clients only', async () => {
  const other = await created(practiceToken, buildPatient({ name: [{ family: 'Other' }] }));
  const note = await created<DocumentReference>(
    practiceToken,
    tagged(
      { resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { contentType: 'text/plain', data: 'bm90ZQ==' } }], subject: { reference: ref(client) } },
      'psychotherapy-notes',
    ),
  );
  const later = await created(practiceToken, tagged(buildObservation(client.id as string), 'progress'));
  const othersObservation = await created(practiceToken, tagged(buildObservation(other.id as string), 'progress'));
  // The operator's reads are disclosures, audited in each client's trail: of the note, of what becomes one, of others'.
  for (const resource of [note, later, observation, othersObservation]) {
    expect((await as(t.adminToken).get(ref(resource))).status).toBe(200);
  }
  const laterUpdate = await as(practiceToken).put(ref(later), tagged({ ...later, meta: undefined }, 'psychotherapy-notes'));
  expect(laterUpdate.status).toBe(200);

  const describes = (events: AuditEvent[], resource: Resource) =>
    events.filter((e) => e.entity?.some((x) => x.what?.reference?.split('/_history')[0] === ref(resource)));
  const clientSees = await auditTrail(clientToken, client);
  expect(clientSees.length).toBeGreaterThan(0);
  expect(clientSees.every((e) => e.entity?.[0]?.what?.reference === ref(client))).toBe(true);
  expect(describes(clientSees, note)).toEqual([]);
  expect(describes(clientSees, later)).toEqual([]);
  expect(describes(clientSees, observation).length).toBeGreaterThan(0);

  const practiceSees = await auditTrail(practiceToken, client);
  expect(describes(practiceSees, note)).toHaveLength(1);
  expect(describes(practiceSees, later)).toHaveLength(1);
  expect(practiceSees.map((e) => e.id).sort()).toEqual(expect.arrayContaining(clientSees.map((e) => e.id)));
  expect(describes(await auditTrail(practiceToken, other), othersObservation)).toHaveLength(1);
  // Another practice holds neither client: it is shown none of their trail.
  expect(await auditTrail(otherPracticeToken, client)).toEqual([]);
  expect(await auditTrail(otherPracticeToken, other)).toEqual([]);
});
