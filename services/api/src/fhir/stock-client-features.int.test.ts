/**
 * The search and read features stock FHIR clients call (MedplumClient, fhir-kit-client), over HTTP: `_summary` and
 * `_elements` views on read and search, conditional update (upsert) and conditional delete judged through the caller's
 * access, `Prefer: return=` on a transaction and a batch, and history `_at`.
 */
import { buildObservation, buildOrganization, buildPatient } from '@carecircle/testing';
import type { Bundle, Observation, OperationOutcome, Patient, Resource } from '@medplum/fhirtypes';
import { registerSystemClient } from '../smart-test-clients';
import { createTestApp, fhirClient, type TestApp } from '../test-harness';

const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };
const IDS = 'https://clinic.example/observations';

let t: TestApp;
/** A practice's system (every interaction on its own clients' records). */
let practiceA: string;
/** Another practice's system: practice A's clients are hidden from it. */
let practiceB: string;
let patientA: Patient;
let patientB: Patient;

beforeAll(async () => {
  t = await createTestApp();
  const admin = fhirClient(t, t.adminToken);
  const orgA = `Organization/${((await admin.post('Organization', buildOrganization({ name: 'Practice A' }))).body as Resource).id}`;
  const orgB = `Organization/${((await admin.post('Organization', buildOrganization({ name: 'Practice B' }))).body as Resource).id}`;
  practiceA = await (await registerSystemClient(t, orgA, 'system/*.cruds')).token();
  practiceB = await (await registerSystemClient(t, orgB, 'system/*.cruds')).token();
  patientA = (await fhirClient(t, practiceA).post('Patient', buildPatient({ managingOrganization: { reference: orgA } }))).body as Patient;
  patientB = (await fhirClient(t, practiceB).post('Patient', buildPatient({ managingOrganization: { reference: orgB } }))).body as Patient;
});
afterAll(async () => {
  await t.close();
});

async function observation(token: string, patient: Patient, identifier: string, overrides: Partial<Observation> = {}): Promise<Observation> {
  const res = await fhirClient(t, token).post('Observation', buildObservation(patient.id as string, {
    identifier: [{ system: IDS, value: identifier }],
    text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">80% adherence</div>' },
    note: [{ text: 'did the exercises' }],
    ...overrides,
  }));
  expect(res.status).toBe(201);
  return res.body as Observation;
}

const tagged = (resource: Resource | undefined) =>
  (resource?.meta?.tag ?? []).some((tag) => tag.system === SUBSETTED.system && tag.code === SUBSETTED.code);

describe('_summary and _elements', () => {
  test('read with _elements returns the named elements, the mandatory ones, id and meta, tagged SUBSETTED', async () => {
    const obs = await observation(practiceA, patientA, 'elements-read');
    const res = await fhirClient(t, practiceA).get(`Observation/${obs.id}?_elements=subject,value`);
    expect(res.status).toBe(200);
    const shown = res.body as Observation;
    expect(Object.keys(shown).sort()).toEqual(['code', 'id', 'meta', 'resourceType', 'status', 'subject', 'valueQuantity']);
    expect(tagged(shown)).toBe(true);
    expect(shown.meta?.versionId).toBe('1');
    expect(res.headers.etag).toBe('W/"1"');
    // vread too; the share category stays beside the new tag.
    const vread = (await fhirClient(t, practiceA).get(`Observation/${obs.id}/_history/1?_elements=note`)).body as Observation;
    expect(vread.note).toEqual([{ text: 'did the exercises' }]);
    expect(vread.valueQuantity).toBeUndefined();
    expect(vread.meta?.tag?.map((tag) => tag.code)).toEqual(['progress', 'SUBSETTED']);
  });

  test('read with _summary=true|text|data', async () => {
    const obs = await observation(practiceA, patientA, 'summary-read');
    const summary = (await fhirClient(t, practiceA).get(`Observation/${obs.id}?_summary=true`)).body as Observation;
    expect(summary.valueQuantity).toEqual(obs.valueQuantity);
    expect(summary.note).toBeUndefined();
    expect(summary.text).toBeUndefined();
    expect(tagged(summary)).toBe(true);
    const text = (await fhirClient(t, practiceA).get(`Observation/${obs.id}?_summary=text`)).body as Observation;
    expect(Object.keys(text).sort()).toEqual(['code', 'id', 'meta', 'resourceType', 'status', 'text']);
    const data = (await fhirClient(t, practiceA).get(`Observation/${obs.id}?_summary=data`)).body as Observation;
    expect(data.text).toBeUndefined();
    expect(data.note).toEqual(obs.note);
    const whole = (await fhirClient(t, practiceA).get(`Observation/${obs.id}?_summary=false`)).body as Observation;
    expect(whole.text).toEqual(obs.text);
    expect(tagged(whole)).toBe(false);
  });

  test('search with _summary=true|text|data and _elements subsets every match, and counts stay', async () => {
    await observation(practiceA, patientA, 'summary-search');
    for (const [query, check] of [
      ['_summary=true', (o: Observation) => o.note === undefined && o.valueQuantity !== undefined],
      ['_summary=text', (o: Observation) => o.text !== undefined && o.subject === undefined],
      ['_summary=data', (o: Observation) => o.text === undefined && o.note !== undefined],
      ['_elements=identifier', (o: Observation) => o.identifier !== undefined && o.subject === undefined && o.status === 'final'],
    ] as const) {
      const res = await fhirClient(t, practiceA).get(`Observation?identifier=${IDS}|summary-search&${query}`);
      expect({ query, status: res.status }).toEqual({ query, status: 200 });
      const bundle = res.body as Bundle<Observation>;
      expect(bundle.total).toBe(1);
      const match = bundle.entry?.[0]?.resource as Observation;
      expect({ query, ok: check(match), tagged: tagged(match) }).toEqual({ query, ok: true, tagged: true });
      // The next and self links keep the view.
      expect(bundle.link?.[0]?.url).toContain(query.split('=')[0]);
    }
    // _summary applies to included resources too; _elements to the matches only.
    const included = (await fhirClient(t, practiceA).get(`Observation?identifier=${IDS}|summary-search&_include=Observation:subject&_summary=true`)).body as Bundle;
    const patient = included.entry?.find((e) => e.search?.mode === 'include')?.resource as Patient;
    expect(tagged(patient)).toBe(true);
    const elementsIncluded = (await fhirClient(t, practiceA).get(`Observation?identifier=${IDS}|summary-search&_include=Observation:subject&_elements=status`)).body as Bundle;
    expect(tagged(elementsIncluded.entry?.find((e) => e.search?.mode === 'include')?.resource)).toBe(false);
  });

  test('bad views are 400 OperationOutcomes naming the parameter', async () => {
    const obs = await observation(practiceA, patientA, 'summary-bad');
    for (const path of [
      `Observation/${obs.id}?_summary=count`,
      `Observation/${obs.id}?_summary=everything`,
      `Observation/${obs.id}?_elements=shoeSize`,
      `Observation/${obs.id}?_elements=status&_summary=true`,
      'Observation?_elements=status&_elements=code',
      'Observation?_summary=nope',
    ]) {
      const res = await fhirClient(t, practiceA).get(path);
      expect({ path, status: res.status, type: res.body.resourceType }).toEqual({ path, status: 400, type: 'OperationOutcome' });
      expect((res.body as OperationOutcome).issue[0]?.expression?.[0]).toMatch(/^_(summary|elements)$/);
    }
  });

  test('a view of what the caller may not see is 404, as without one', async () => {
    const hidden = await observation(practiceA, patientA, 'summary-hidden');
    expect((await fhirClient(t, practiceB).get(`Observation/${hidden.id}?_elements=status`)).status).toBe(404);
    expect((await fhirClient(t, practiceB).get(`Observation/${hidden.id}?_summary=text`)).status).toBe(404);
    const search = (await fhirClient(t, practiceB).get(`Observation?identifier=${IDS}|summary-hidden&_summary=true`)).body as Bundle;
    expect(search.total).toBe(0);
  });
});

describe('conditional update (PUT Type?criteria)', () => {
  test('no match creates (201), one match updates it (200, If-Match honoured), several are 412', async () => {
    const client = fhirClient(t, practiceA);
    const body = buildObservation(patientA.id as string, { identifier: [{ system: IDS, value: 'upsert-1' }] });
    const created = await client.put(`Observation?identifier=${IDS}|upsert-1`, body);
    expect(created.status).toBe(201);
    expect(created.headers.location).toMatch(/\/Observation\/[^/]+\/_history\/1$/);
    const id = (created.body as Observation).id;

    const updated = await client.put(`Observation?identifier=${IDS}|upsert-1`, { ...body, status: 'amended' });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ id, status: 'amended', meta: { versionId: '2' } });

    const stale = await fhirClient(t, practiceA, { 'If-Match': 'W/"1"' }).put(`Observation?identifier=${IDS}|upsert-1`, body);
    expect(stale.status).toBe(412);
    expect(stale.headers.etag).toBe('W/"2"');
    const fresh = await fhirClient(t, practiceA, { 'If-Match': 'W/"2"' }).put(`Observation?identifier=${IDS}|upsert-1`, { ...body, status: 'final' });
    expect(fresh.status).toBe(200);

    // A body id naming another resource than the match is 400.
    const otherId = await client.put(`Observation?identifier=${IDS}|upsert-1`, { ...body, id: 'not-the-match' });
    expect(otherId.status).toBe(400);

    await observation(practiceA, patientA, 'upsert-dup');
    await observation(practiceA, patientA, 'upsert-dup');
    const several = await client.put(`Observation?identifier=${IDS}|upsert-dup`, body);
    expect(several.status).toBe(412);
    expect(several.body.resourceType).toBe('OperationOutcome');
    // Without criteria there is nothing to choose by.
    expect((await client.put('Observation?_count=1', body)).status).toBe(400);
  });

  test('the create needs the create scope, the update the update and search scopes', async () => {
    const orgA = patientA.managingOrganization?.reference as string;
    const noCreate = await (await registerSystemClient(t, orgA, 'system/Observation.rus')).token();
    const noSearch = await (await registerSystemClient(t, orgA, 'system/Observation.cru')).token();
    const body = buildObservation(patientA.id as string, { identifier: [{ system: IDS, value: 'upsert-scope' }] });
    expect((await fhirClient(t, noCreate).put(`Observation?identifier=${IDS}|upsert-scope`, body)).status).toBe(403);
    expect((await fhirClient(t, noSearch).put(`Observation?identifier=${IDS}|upsert-scope`, body)).status).toBe(403);
    await observation(practiceA, patientA, 'upsert-scope');
    expect((await fhirClient(t, noCreate).put(`Observation?identifier=${IDS}|upsert-scope`, body)).status).toBe(200);
  });

  test('a match the caller may not see is no match: it creates its own, the hidden one untouched, answered as when absent', async () => {
    const hidden = await observation(practiceA, patientA, 'upsert-hidden');
    const body = buildObservation(patientB.id as string, { identifier: [{ system: IDS, value: 'upsert-hidden' }] });
    const overHidden = await fhirClient(t, practiceB).put(`Observation?identifier=${IDS}|upsert-hidden`, body);
    const overAbsent = await fhirClient(t, practiceB).put(`Observation?identifier=${IDS}|upsert-absent`, { ...body, identifier: [{ system: IDS, value: 'upsert-absent' }] });
    expect([overHidden.status, overAbsent.status]).toEqual([201, 201]);
    expect((overHidden.body as Observation).id).not.toBe(hidden.id);
    expect((overHidden.body as Observation).meta?.versionId).toBe('1');
    const stillThere = (await fhirClient(t, practiceA).get(`Observation/${hidden.id}`)).body as Observation;
    expect(stillThere).toMatchObject({ meta: { versionId: '1' }, subject: { reference: `Patient/${patientA.id}` } });
    // With If-Match, or with the hidden one's id in the body: the answer an absent resource gets.
    for (const [name, headers, extra] of [['if-match', { 'If-Match': 'W/"1"' }, {}], ['body-id', {}, { id: hidden.id }]] as const) {
      const absent = await fhirClient(t, practiceB, headers).put(`Observation?identifier=${IDS}|upsert-${name}`, { ...body, ...extra });
      await observation(practiceA, patientA, `upsert-${name}`);
      const overHiddenOne = await fhirClient(t, practiceB, headers).put(`Observation?identifier=${IDS}|upsert-${name}`, { ...body, ...extra });
      expect({ name, status: overHiddenOne.status, body: overHiddenOne.body }).toEqual({ name, status: absent.status, body: absent.body });
      expect(absent.status).toBeGreaterThanOrEqual(400);
    }
  });

  test('in a transaction, and MedplumClient-style upsert of a Patient by identifier', async () => {
    const identifier = { system: 'https://clinic.example/mrn', value: 'MRN-7' };
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: buildPatient({ identifier: [identifier], managingOrganization: patientA.managingOrganization }), request: { method: 'PUT', url: `Patient?identifier=${identifier.system}|${identifier.value}` } }],
    };
    const first = (await fhirClient(t, practiceA).post('', bundle)).body as Bundle;
    expect(first.entry?.[0]?.response?.status).toBe('201 Created');
    const second = (await fhirClient(t, practiceA).post('', bundle)).body as Bundle;
    expect(second.entry?.[0]?.response?.status).toBe('200 OK');
    expect(second.entry?.[0]?.resource?.id).toBe(first.entry?.[0]?.resource?.id);
  });
});

describe('conditional delete (DELETE Type?criteria)', () => {
  const del = (token: string, path: string, headers: Record<string, string> = {}) =>
    Object.entries({ Authorization: `Bearer ${token}`, ...headers }).reduce((r, [k, v]) => r.set(k, v), t.http.delete(`/fhir/R4/${path}`));

  test('one match is deleted (204), none is 204, several are 412, If-Match honoured', async () => {
    const obs = await observation(practiceA, patientA, 'delete-1');
    expect((await del(practiceA, `Observation?identifier=${IDS}|delete-1`, { 'If-Match': 'W/"7"' })).status).toBe(412);
    expect((await del(practiceA, `Observation?identifier=${IDS}|delete-1`)).status).toBe(204);
    expect((await fhirClient(t, practiceA).get(`Observation/${obs.id}`)).status).toBe(410);
    expect((await del(practiceA, `Observation?identifier=${IDS}|delete-1`)).status).toBe(204);
    await observation(practiceA, patientA, 'delete-dup');
    await observation(practiceA, patientA, 'delete-dup');
    expect((await del(practiceA, `Observation?identifier=${IDS}|delete-dup`)).status).toBe(412);
    expect((await del(practiceA, 'Observation?_count=1')).status).toBe(400);
    expect((await del(practiceA, 'Observation')).status).toBe(405);
  });

  test('a match the caller may not see answers 204 as an absent one and stays', async () => {
    const hidden = await observation(practiceA, patientA, 'delete-hidden');
    const overHidden = await del(practiceB, `Observation?identifier=${IDS}|delete-hidden`);
    const overAbsent = await del(practiceB, `Observation?identifier=${IDS}|delete-absent`);
    expect([overHidden.status, overAbsent.status]).toEqual([204, 204]);
    expect((await fhirClient(t, practiceA).get(`Observation/${hidden.id}`)).status).toBe(200);
    // Several hidden matches are no match either (no 412 to count them by).
    await observation(practiceA, patientA, 'delete-hidden');
    expect((await del(practiceB, `Observation?identifier=${IDS}|delete-hidden`)).status).toBe(204);
  });

  test('needs the delete and search scopes', async () => {
    const orgA = patientA.managingOrganization?.reference as string;
    const noDelete = await (await registerSystemClient(t, orgA, 'system/Observation.crus')).token();
    expect((await del(noDelete, `Observation?identifier=${IDS}|delete-scope`)).status).toBe(403);
  });
});

describe('the CapabilityStatement says so', () => {
  test('conditional update and delete on changeable types, not on append-only records (405)', async () => {
    const rest = (await t.http.get('/fhir/R4/metadata')).body.rest[0];
    const of = (type: string) => rest.resource.find((r: { type: string }) => r.type === type);
    expect(of('Observation')).toMatchObject({ conditionalUpdate: true, conditionalDelete: 'single' });
    expect(of('AuditEvent')).toMatchObject({ conditionalUpdate: false, conditionalDelete: 'not-supported' });
    expect(of('Observation').searchParam.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['_summary', '_elements']));
    const audit = { resourceType: 'AuditEvent' };
    expect((await fhirClient(t, practiceA).put('AuditEvent?outcome=0', audit)).status).toBe(405);
    expect((await t.http.delete('/fhir/R4/AuditEvent?outcome=0').set('Authorization', `Bearer ${practiceA}`)).status).toBe(405);
  });
});

describe('Prefer: return= on a transaction and a batch', () => {
  const bundle = (type: 'transaction' | 'batch', value: string): Bundle => ({
    resourceType: 'Bundle',
    type,
    entry: [
      { fullUrl: 'urn:uuid:7f3c2a52-0d59-4b8f-9a43-1f2ad0a0c001', resource: buildObservation(patientA.id as string, { identifier: [{ system: IDS, value }] }), request: { method: 'POST', url: 'Observation' } },
      { request: { method: 'GET', url: `Patient/${patientA.id}` } },
    ],
  });

  test.each(['transaction', 'batch'] as const)('%s: minimal leaves write entries without resources; OperationOutcome puts one in the response', async (type) => {
    const minimal = await fhirClient(t, practiceA, { Prefer: 'return=minimal' }).post('', bundle(type, `prefer-min-${type}`));
    expect(minimal.status).toBe(200);
    const [write, read] = (minimal.body as Bundle).entry ?? [];
    expect(write?.resource).toBeUndefined();
    expect(write?.response).toMatchObject({ status: '201 Created', etag: 'W/"1"' });
    expect(write?.response?.location).toMatch(/^Observation\/[^/]+\/_history\/1$/);
    expect(read?.resource?.resourceType).toBe('Patient');

    const outcome = await fhirClient(t, practiceA, { Prefer: 'return=OperationOutcome' }).post('', bundle(type, `prefer-oo-${type}`));
    const [written] = (outcome.body as Bundle).entry ?? [];
    expect(written?.resource).toBeUndefined();
    expect(written?.response?.outcome?.resourceType).toBe('OperationOutcome');

    const representation = await fhirClient(t, practiceA, { Prefer: 'return=representation' }).post('', bundle(type, `prefer-rep-${type}`));
    expect((representation.body as Bundle).entry?.[0]?.resource?.resourceType).toBe('Observation');
  });
});

describe('history _at and _since', () => {
  test('_at lists the versions current at some point of the period; _since those written after it', async () => {
    const obs = await observation(practiceA, patientA, 'history-at');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const between = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const v2 = (await fhirClient(t, practiceA).put(`Observation/${obs.id}`, { ...obs, status: 'amended' })).body as Observation;
    const versions = async (query: string) =>
      (((await fhirClient(t, practiceA).get(`Observation/${obs.id}/_history?${query}`)).body as Bundle).entry ?? []).map((e) => e.resource?.meta?.versionId);
    expect(await versions(`_at=${encodeURIComponent(between)}`)).toEqual(['1']);
    expect(await versions(`_at=${encodeURIComponent(v2.meta?.lastUpdated as string)}`)).toEqual(['2']);
    expect(await versions(`_at=${between.slice(0, 4)}`)).toEqual(['2', '1']);
    expect(await versions(`_since=${encodeURIComponent(between)}`)).toEqual(['2']);
    // Type and system history take it too.
    const typeHistory = ((await fhirClient(t, practiceA).get(`Observation/_history?_at=${encodeURIComponent(between)}&_count=1000`)).body as Bundle).entry ?? [];
    expect(typeHistory.filter((e) => e.resource?.id === obs.id).map((e) => e.resource?.meta?.versionId)).toEqual(['1']);
    const system = await fhirClient(t, practiceA).get(`_history?_at=${encodeURIComponent(between)}&_count=1000`);
    expect(system.status).toBe(200);
    expect((await fhirClient(t, practiceA).get(`Observation/${obs.id}/_history?_at=yesterday`)).status).toBe(400);
  });
});
