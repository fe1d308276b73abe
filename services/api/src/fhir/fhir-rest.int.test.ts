/**
 * The FHIR REST API end to end over HTTP (in-process), against real PostgreSQL and Redis.
 */
import { buildObservation, buildOrganization, buildPatient } from '@carecircle/testing';
import type { Bundle, Observation, OperationOutcome, Patient, Resource } from '@medplum/fhirtypes';
import { bearer, createTestApp, type TestApp } from '../test-harness';

const FHIR = '/fhir/R4';
const JSON_FHIR = 'application/fhir+json';

let t: TestApp;
let auth: string;

beforeAll(async () => {
  t = await createTestApp();
  auth = bearer(t.adminToken);
});
afterAll(async () => {
  await t.close();
});

async function create<T extends Resource>(resource: T): Promise<T> {
  const res = await t.http.post(`${FHIR}/${resource.resourceType}`).set('Authorization', auth).set('Content-Type', JSON_FHIR).send(resource);
  expect(res.status).toBe(201);
  return res.body as T;
}

async function search(query: string): Promise<Bundle> {
  const res = await t.http.get(`${FHIR}/${query}`).set('Authorization', auth);
  expect(res.status).toBe(200);
  return res.body as Bundle;
}

function ids(bundle: Bundle, mode = 'match'): string[] {
  return (bundle.entry ?? []).filter((e) => e.search?.mode === mode).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`);
}

describe('authentication', () => {
  test('serves the CapabilityStatement without a token, and nothing else', async () => {
    const metadata = await t.http.get(`${FHIR}/metadata`);
    expect(metadata.status).toBe(200);
    expect(metadata.body.resourceType).toBe('CapabilityStatement');

    const anonymous = await t.http.get(`${FHIR}/Patient`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.resourceType).toBe('OperationOutcome');
    expect(anonymous.headers['content-type']).toMatch(/application\/fhir\+json/);

    const wrong = await t.http.get(`${FHIR}/Patient`).set('Authorization', 'Bearer not-the-admin-token');
    expect(wrong.status).toBe(401);
  });
});

describe('CapabilityStatement', () => {
  test('lists the supported types with their interactions and indexed search parameters', async () => {
    const res = await t.http.get(`${FHIR}/metadata`);
    const rest = res.body.rest[0];
    const patient = rest.resource.find((r: { type: string }) => r.type === 'Patient');
    expect(patient.interaction.map((i: { code: string }) => i.code)).toEqual(
      expect.arrayContaining(['read', 'vread', 'update', 'patch', 'delete', 'create', 'search-type', 'history-instance']),
    );
    const params = patient.searchParam.map((p: { name: string }) => p.name);
    expect(params).toEqual(expect.arrayContaining(['_id', '_lastUpdated', 'name', 'birthdate', 'gender', 'organization']));
    expect(rest.resource.map((r: { type: string }) => r.type)).toEqual(expect.arrayContaining(['Consent', 'Task', 'AuditEvent', 'Basic']));
    expect(rest.interaction.map((i: { code: string }) => i.code)).toEqual(expect.arrayContaining(['transaction', 'batch']));
  });
});

describe('create, read, vread, update, patch, delete', () => {
  test('create answers 201 with Location, ETag and Last-Modified, and the stored resource', async () => {
    const res = await t.http.post(`${FHIR}/Patient`).set('Authorization', auth).set('Content-Type', JSON_FHIR).send(buildPatient());
    expect(res.status).toBe(201);
    const patient = res.body as Patient;
    expect(patient.id).toMatch(/^[A-Za-z0-9\-.]{1,64}$/);
    expect(patient.meta?.versionId).toBe('1');
    expect(res.headers.location).toBe(`http://localhost:8080/fhir/R4/Patient/${patient.id}/_history/1`);
    expect(res.headers.etag).toBe('W/"1"');
    expect(new Date(res.headers['last-modified'] as string).getTime()).not.toBeNaN();

    const read = await t.http.get(`${FHIR}/Patient/${patient.id}`).set('Authorization', auth);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(patient);
    expect(read.headers.etag).toBe('W/"1"');
  });

  test('update honours If-Match: the current version succeeds, a stale one answers 412', async () => {
    const patient = await create(buildPatient());
    const updated = await t.http
      .put(`${FHIR}/Patient/${patient.id}`)
      .set('Authorization', auth)
      .set('Content-Type', JSON_FHIR)
      .set('If-Match', 'W/"1"')
      .send({ ...patient, gender: 'female' });
    expect(updated.status).toBe(200);
    expect(updated.body.meta.versionId).toBe('2');
    expect(updated.headers.etag).toBe('W/"2"');

    const stale = await t.http
      .put(`${FHIR}/Patient/${patient.id}`)
      .set('Authorization', auth)
      .set('Content-Type', JSON_FHIR)
      .set('If-Match', 'W/"1"')
      .send({ ...patient, gender: 'male' });
    expect(stale.status).toBe(412);
    expect(stale.body.resourceType).toBe('OperationOutcome');

    const v1 = await t.http.get(`${FHIR}/Patient/${patient.id}/_history/1`).set('Authorization', auth);
    expect(v1.status).toBe(200);
    expect(v1.body.gender).toBe('other');
    const current = await t.http.get(`${FHIR}/Patient/${patient.id}`).set('Authorization', auth);
    expect(current.body.gender).toBe('female');
  });

  test('PUT to a new id creates it (201)', async () => {
    const res = await t.http
      .put(`${FHIR}/Organization/clinic-east`)
      .set('Authorization', auth)
      .set('Content-Type', JSON_FHIR)
      .send(buildOrganization({ id: 'clinic-east', name: 'East Pelvic Health' }));
    expect(res.status).toBe(201);
    expect(res.body.id).toBe('clinic-east');
  });

  test('JSON Patch applies to the current version and honours If-Match', async () => {
    const patient = await create(buildPatient());
    const res = await t.http
      .patch(`${FHIR}/Patient/${patient.id}`)
      .set('Authorization', auth)
      .set('Content-Type', 'application/json-patch+json')
      .set('If-Match', 'W/"1"')
      .send([{ op: 'replace', path: '/gender', value: 'female' }]);
    expect(res.status).toBe(200);
    expect(res.body.gender).toBe('female');
    expect(res.body.meta.versionId).toBe('2');

    const stale = await t.http
      .patch(`${FHIR}/Patient/${patient.id}`)
      .set('Authorization', auth)
      .set('Content-Type', 'application/json-patch+json')
      .set('If-Match', 'W/"1"')
      .send([{ op: 'replace', path: '/gender', value: 'male' }]);
    expect(stale.status).toBe(412);

    const invalid = await t.http
      .patch(`${FHIR}/Patient/${patient.id}`)
      .set('Authorization', auth)
      .set('Content-Type', 'application/json-patch+json')
      .send([{ op: 'replace', path: '/birthDate', value: 'not-a-date' }]);
    expect(invalid.status).toBe(400);
  });

  test('delete answers 204, then reads answer 410 and history keeps every version', async () => {
    const patient = await create(buildPatient());
    const del = await t.http.delete(`${FHIR}/Patient/${patient.id}`).set('Authorization', auth);
    expect(del.status).toBe(204);
    const read = await t.http.get(`${FHIR}/Patient/${patient.id}`).set('Authorization', auth);
    expect(read.status).toBe(410);
    expect(read.body.resourceType).toBe('OperationOutcome');

    const history = await search(`Patient/${patient.id}/_history`);
    expect(history.type).toBe('history');
    expect(history.entry?.map((e) => e.request?.method)).toEqual(['DELETE', 'POST']);
    expect(history.entry?.[1]?.resource?.meta?.versionId).toBe('1');
    const v2 = await t.http.get(`${FHIR}/Patient/${patient.id}/_history/2`).set('Authorization', auth);
    expect(v2.status).toBe(410);
  });

  test('If-None-Exist creates once and then returns the existing resource', async () => {
    const identifier = [{ system: 'https://carecircle.dev/test', value: `mrn-${Date.now()}` }];
    const first = await t.http
      .post(`${FHIR}/Patient`)
      .set('Authorization', auth)
      .set('Content-Type', JSON_FHIR)
      .set('If-None-Exist', `identifier=https://carecircle.dev/test|${identifier[0]?.value}`)
      .send(buildPatient({ identifier }));
    expect(first.status).toBe(201);
    const second = await t.http
      .post(`${FHIR}/Patient`)
      .set('Authorization', auth)
      .set('Content-Type', JSON_FHIR)
      .set('If-None-Exist', `identifier=https://carecircle.dev/test|${identifier[0]?.value}`)
      .send(buildPatient({ identifier }));
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
  });

  test('Prefer: return=minimal answers with headers only', async () => {
    const res = await t.http
      .post(`${FHIR}/Organization`)
      .set('Authorization', auth)
      .set('Content-Type', JSON_FHIR)
      .set('Prefer', 'return=minimal')
      .send(buildOrganization());
    expect(res.status).toBe(201);
    expect(res.text).toBe('');
    expect(res.headers.location).toMatch(/\/Organization\/.+\/_history\/1$/);
  });

  test('type and system history list versions newest first', async () => {
    const org = await create(buildOrganization({ name: 'History Clinic' }));
    const typeHistory = await search('Organization/_history?_count=500');
    expect(typeHistory.entry?.[0]?.resource?.id).toBe(org.id);
    const systemHistory = await search('_history?_count=1');
    expect(systemHistory.entry).toHaveLength(1);
    expect(systemHistory.link?.find((l) => l.relation === 'next')).toBeDefined();
  });
});

describe('search', () => {
  let clinic: Resource;
  let alice: Patient;
  let bruno: Patient;
  let obs: Observation;

  beforeAll(async () => {
    clinic = await create(buildOrganization({ name: 'Search Clinic' }));
    alice = await create(buildPatient({ name: [{ family: 'Zeller', given: ['Alice'] }], birthDate: '1985-02-03', gender: 'female', managingOrganization: { reference: `Organization/${clinic.id}` } }));
    bruno = await create(buildPatient({ name: [{ family: 'Zeller-Ódena', given: ['Bruno'] }], birthDate: '1999-11-30', gender: 'male' }));
    obs = await create(buildObservation(alice.id as string));
  });

  test('string, token, date, reference and _id parameters', async () => {
    expect(ids(await search('Patient?family=zeller&_sort=birthdate'))).toEqual([`Patient/${alice.id}`, `Patient/${bruno.id}`]);
    expect(ids(await search('Patient?family=zeller-odena'))).toEqual([`Patient/${bruno.id}`]);
    expect(ids(await search('Patient?family:exact=Zeller'))).toEqual([`Patient/${alice.id}`]);
    expect(ids(await search('Patient?family=zeller&gender=female'))).toEqual([`Patient/${alice.id}`]);
    expect(ids(await search('Patient?family=zeller&birthdate=ge1990'))).toEqual([`Patient/${bruno.id}`]);
    expect(ids(await search('Patient?family=zeller&birthdate=1985-02'))).toEqual([`Patient/${alice.id}`]);
    expect(ids(await search(`Patient?organization=Organization/${clinic.id}`))).toEqual([`Patient/${alice.id}`]);
    expect(ids(await search(`Observation?subject=Patient/${alice.id}`))).toEqual([`Observation/${obs.id}`]);
    expect(ids(await search(`Patient?_id=${bruno.id}`))).toEqual([`Patient/${bruno.id}`]);
  });

  test('_include and _revinclude add the referenced and referencing resources', async () => {
    const included = await search(`Observation?_id=${obs.id}&_include=Observation:subject`);
    expect(ids(included)).toEqual([`Observation/${obs.id}`]);
    expect(ids(included, 'include')).toEqual([`Patient/${alice.id}`]);
    const revincluded = await search(`Patient?_id=${alice.id}&_revinclude=Observation:subject`);
    expect(ids(revincluded, 'include')).toEqual([`Observation/${obs.id}`]);
  });

  test('_summary=count and _total', async () => {
    const count = await search('Patient?family=zeller&_summary=count');
    expect(count.total).toBe(2);
    expect(count.entry).toBeUndefined();
    const none = await search('Patient?family=zeller&_total=none');
    expect(none.total).toBeUndefined();
    expect(none.entry).toHaveLength(2);
  });

  test('POST _search with a form body finds the same as GET', async () => {
    const res = await t.http
      .post(`${FHIR}/Patient/_search`)
      .set('Authorization', auth)
      .type('form')
      .send({ family: 'zeller', gender: 'male' });
    expect(res.status).toBe(200);
    expect(ids(res.body as Bundle)).toEqual([`Patient/${bruno.id}`]);
  });

  test('next/previous links never overlap or skip while others write between pages', async () => {
    const tag = `paging-${Date.now()}`;
    for (let i = 0; i < 25; i++) {
      await create(buildOrganization({ name: `${tag} ${String(i).padStart(2, '0')}` }));
    }
    const expected = ids(await search(`Organization?name=${tag}&_count=1000&_sort=name`));
    expect(expected).toHaveLength(25);

    const seen: string[] = [];
    let page = await search(`Organization?name=${tag}&_count=7&_sort=-_lastUpdated`);
    for (;;) {
      seen.push(...ids(page));
      // Interleaved writes: a new match, an update that moves a match to the front, a deletion.
      await create(buildOrganization({ name: `${tag} late ${seen.length}` }));
      const victim = expected[seen.length % expected.length] as string;
      const current = await t.http.get(`${FHIR}/${victim}`).set('Authorization', auth);
      if (current.status === 200) {
        await t.http.put(`${FHIR}/${victim}`).set('Authorization', auth).set('Content-Type', JSON_FHIR).send({ ...current.body, active: false });
      }
      const next = page.link?.find((l) => l.relation === 'next')?.url;
      if (!next) {
        break;
      }
      page = await search(next.replace('http://localhost:8080/fhir/R4/', ''));
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual([...expected].sort());

    const previous = page.link?.find((l) => l.relation === 'previous')?.url;
    expect(previous).toBeDefined();
  });

  test('hostile and malformed search input answers 400 or matches literally, never 500', async () => {
    const cases = [
      "Patient?name=' OR 1=1 --",
      'Patient?name=%25',
      'Patient?name=_',
      'Patient?name=x\\\\y',
      'Patient?birthdate=not-a-date',
      'Patient?nonexistent=1',
      'Patient?_count=-1',
      'Patient?_count=abc',
      'Patient?_sort=nonexistent',
      'Patient?_page=garbage',
      'Patient?_include=Patient:nonexistent',
      'Patient?gender:fuzzy=male',
    ];
    for (const query of cases) {
      const res = await t.http.get(`${FHIR}/${encodeURI(query)}`).set('Authorization', auth);
      const expectedType = res.status === 200 ? 'Bundle' : res.status === 400 ? 'OperationOutcome' : 'a 200 or 400';
      expect({ query, type: res.body.resourceType }).toEqual({ query, type: expectedType });
      if (res.status === 200) {
        expect({ query, matches: (res.body.entry ?? []).length }).toEqual({ query, matches: 0 });
      }
    }
  });
});

describe('batch and transaction', () => {
  test('a transaction resolves urn:uuid references and commits all entries together', async () => {
    const orgUrn = 'urn:uuid:4c6e3f0e-7d8b-4c6f-9f7c-1b2a3c4d5e6f';
    const patientUrn = 'urn:uuid:9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
    const res = await t.http
      .post(FHIR)
      .set('Authorization', auth)
      .set('Content-Type', JSON_FHIR)
      .send({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { fullUrl: patientUrn, resource: buildPatient({ managingOrganization: { reference: orgUrn } }), request: { method: 'POST', url: 'Patient' } },
          { fullUrl: orgUrn, resource: buildOrganization({ name: 'Transaction Clinic' }), request: { method: 'POST', url: 'Organization' } },
        ],
      });
    expect(res.status).toBe(200);
    const bundle = res.body as Bundle;
    expect(bundle.type).toBe('transaction-response');
    expect(bundle.entry?.map((e) => e.response?.status)).toEqual(['201 Created', '201 Created']);
    const patient = bundle.entry?.[0]?.resource as Patient;
    const org = bundle.entry?.[1]?.resource as Resource;
    expect(patient.managingOrganization?.reference).toBe(`Organization/${org.id}`);
    const found = await search(`Patient?organization=Organization/${org.id}`);
    expect(ids(found)).toEqual([`Patient/${patient.id}`]);
  });

  test('a failing entry rolls the whole transaction back', async () => {
    const name = `Rollback Clinic ${Date.now()}`;
    const res = await t.http
      .post(FHIR)
      .set('Authorization', auth)
      .set('Content-Type', JSON_FHIR)
      .send({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { resource: buildOrganization({ name }), request: { method: 'POST', url: 'Organization' } },
          { resource: buildPatient({ gender: 'bogus' as Patient['gender'], birthDate: 'never' }), request: { method: 'POST', url: 'Patient' } },
        ],
      });
    expect(res.status).toBe(400);
    expect((res.body as OperationOutcome).issue.some((i) => i.expression?.includes('Bundle.entry[1]'))).toBe(true);
    const found = await search(`Organization?name:exact=${encodeURIComponent(name)}`);
    expect(found.total).toBe(0);
  });

  const postBundle = (type: 'batch' | 'transaction', entry: unknown[]) =>
    t.http.post(FHIR).set('Authorization', auth).set('Content-Type', JSON_FHIR).send({ resourceType: 'Bundle', type, entry });
  const patientCount = async () => (await search('Patient?_summary=count')).total;

  test('a transaction may not change one resource twice: 400 naming the entry, and nothing written', async () => {
    const patient = await create(buildPatient());
    const before = await patientCount();
    const changed = { ...patient, gender: 'other' as const };
    const genderPatch = {
      resourceType: 'Binary',
      contentType: 'application/json-patch+json',
      data: Buffer.from(JSON.stringify([{ op: 'replace', path: '/gender', value: 'female' }])).toString('base64'),
    };
    for (const entries of [
      [
        { resource: buildPatient(), request: { method: 'POST', url: 'Patient' } },
        { resource: changed, request: { method: 'PUT', url: `Patient/${patient.id}` } },
        { resource: { ...changed, gender: 'female' }, request: { method: 'PUT', url: `Patient/${patient.id}` } },
      ],
      [
        { resource: buildPatient(), request: { method: 'POST', url: 'Patient' } },
        { resource: changed, request: { method: 'PUT', url: `Patient/${patient.id}` } },
        { request: { method: 'DELETE', url: `Patient/${patient.id}` } },
      ],
      [
        { resource: buildPatient(), request: { method: 'POST', url: 'Patient' } },
        { request: { method: 'DELETE', url: 'Patient?identifier=a|1&name=x' } },
        { request: { method: 'DELETE', url: 'Patient?name=x&identifier=a%7C1' } },
      ],
      // However the URL is spelled: parameters that only shape the answer and empty path segments name no other resource.
      ...[`Patient/${patient.id}?_format=json`, `Patient//${patient.id}`, `Patient/${patient.id}/?_pretty=true`].map((url) => [
        { resource: buildPatient(), request: { method: 'POST', url: 'Patient' } },
        { resource: changed, request: { method: 'PUT', url: `Patient/${patient.id}` } },
        { resource: genderPatch, request: { method: 'PATCH', url } },
      ]),
      [
        { resource: buildPatient(), request: { method: 'POST', url: 'Patient' } },
        { request: { method: 'DELETE', url: 'Patient?identifier=a|1&_format=json' } },
        { request: { method: 'DELETE', url: 'Patient?_pretty=true&identifier=a%7C1' } },
      ],
    ]) {
      const res = await postBundle('transaction', entries);
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).toContain('Bundle.entry[2]');
    }
    expect(await patientCount()).toBe(before);
    const current = (await t.http.get(`${FHIR}/Patient/${patient.id}`).set('Authorization', auth)).body as Patient;
    expect(current.meta?.versionId).toBe('1');
  });

  test('fullUrls are unique in a batch and in a transaction', async () => {
    const fullUrl = 'https://elsewhere.example/fhir/Patient/p1';
    for (const type of ['batch', 'transaction'] as const) {
      const res = await postBundle(type, [
        { fullUrl, resource: buildPatient(), request: { method: 'POST', url: 'Patient' } },
        { fullUrl, resource: buildPatient(), request: { method: 'POST', url: 'Patient' } },
      ]);
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).toContain('Bundle.entry[1].fullUrl');
    }
  });

  test('a transaction resolves a conditional reference to the one match; none or several fail it with 412', async () => {
    const family = `Conditional${Date.now()}`;
    const patient = await create(buildPatient({ name: [{ family, given: ['Ana'] }] }));
    const observationOf = (reference: string) => ({ ...buildObservation('x'), subject: { reference } });
    const resolved = await postBundle('transaction', [{ resource: observationOf(`Patient?family=${family}`), request: { method: 'POST', url: 'Observation' } }]);
    expect(resolved.status).toBe(200);
    expect(((resolved.body as Bundle).entry?.[0]?.resource as Observation).subject?.reference).toBe(`Patient/${patient.id}`);

    await create(buildPatient({ name: [{ family, given: ['Bea'] }] }));
    const before = (await search('Observation?_summary=count')).total;
    const several = await postBundle('transaction', [
      { resource: buildOrganization(), request: { method: 'POST', url: 'Organization' } },
      { resource: observationOf(`Patient?family=${family}`), request: { method: 'POST', url: 'Observation' } },
    ]);
    expect(several.status).toBe(412);
    expect(JSON.stringify(several.body)).toContain('Bundle.entry[1]');
    const none = await postBundle('transaction', [{ resource: observationOf(`Patient?family=Nobody${Date.now()}`), request: { method: 'POST', url: 'Observation' } }]);
    expect(none.status).toBe(412);
    expect((await search('Observation?_summary=count')).total).toBe(before);

    // A batch takes no conditional references: that entry is 400, the others run.
    const batch = await postBundle('batch', [
      { resource: observationOf(`Patient?family=${family}`), request: { method: 'POST', url: 'Observation' } },
      { request: { method: 'GET', url: `Patient/${patient.id}` } },
    ]);
    expect((batch.body as Bundle).entry?.map((e) => e.response?.status)).toEqual(['400', '200 OK']);
  });

  test('a POST entry gets a chosen id only from a urn:uuid fullUrl: a search URL as fullUrl is 400', async () => {
    const value = `ID${Date.now()}`;
    const patient = await create(buildPatient({ identifier: [{ system: 'http://x', value }] }));
    const conditional = `Patient?identifier=http://x|${value}`;
    const before = (await search('Observation?_summary=count')).total;
    const res = await postBundle('transaction', [
      { fullUrl: conditional, resource: buildObservation('x'), request: { method: 'POST', url: 'Observation' } },
      { resource: { ...buildObservation('y'), subject: { reference: conditional } }, request: { method: 'POST', url: 'Observation' } },
    ]);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('Bundle.entry[0].fullUrl');
    expect((await t.http.get(`${FHIR}/Observation/${patient.id}`).set('Authorization', auth)).status).toBe(404);
    expect((await search('Observation?_summary=count')).total).toBe(before);

    // The absolute URL of a resource stays a valid fullUrl; the created resource still gets a new id.
    const elsewhere = await postBundle('transaction', [
      { fullUrl: `https://elsewhere.example/fhir/Observation/${patient.id}`, resource: buildObservation('x'), request: { method: 'POST', url: 'Observation' } },
    ]);
    expect(elsewhere.status).toBe(200);
    expect(((elsewhere.body as Bundle).entry?.[0]?.resource as Observation).id).not.toBe(patient.id);
  });

  test('a transaction referencing a urn:uuid that no entry creates is 400, and nothing is written', async () => {
    const before = await patientCount();
    const res = await postBundle('transaction', [
      { resource: buildPatient(), request: { method: 'POST', url: 'Patient' } },
      {
        resource: { ...buildObservation('x'), subject: { reference: 'urn:uuid:0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a' } },
        request: { method: 'POST', url: 'Observation' },
      },
    ]);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('Bundle.entry[1]');
    expect(await patientCount()).toBe(before);
  });

  test('a batch runs entries independently and reports each outcome', async () => {
    const org = await create(buildOrganization());
    const res = await t.http
      .post(FHIR)
      .set('Authorization', auth)
      .set('Content-Type', JSON_FHIR)
      .send({
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          { request: { method: 'GET', url: `Organization/${org.id}` } },
          { resource: buildPatient({ birthDate: 'never' }), request: { method: 'POST', url: 'Patient' } },
          { request: { method: 'GET', url: 'Organization/does-not-exist' } },
          { resource: buildOrganization(), request: { method: 'POST', url: 'Organization' } },
        ],
      });
    expect(res.status).toBe(200);
    const statuses = (res.body as Bundle).entry?.map((e) => e.response?.status);
    expect(statuses).toEqual(['200 OK', '400', '404', '201 Created']);
    expect((res.body as Bundle).entry?.[1]?.response?.outcome?.resourceType).toBe('OperationOutcome');
  });
});

describe('validation', () => {
  test('invalid resources answer 400 naming the element in expression', async () => {
    const res = await t.http
      .post(`${FHIR}/Patient`)
      .set('Authorization', auth)
      .set('Content-Type', JSON_FHIR)
      .send({ resourceType: 'Patient', birthDate: '2020-13-45' });
    expect(res.status).toBe(400);
    expect((res.body as OperationOutcome).issue[0]?.expression).toEqual(['Patient.birthDate']);
  });

  test('R4 invariants are enforced (Consent ppc-1)', async () => {
    const res = await t.http
      .post(`${FHIR}/Consent`)
      .set('Authorization', auth)
      .set('Content-Type', JSON_FHIR)
      .send({ resourceType: 'Consent', status: 'active', scope: { text: 'privacy' }, category: [{ text: 'x' }] });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('ppc-1');
  });
});

describe('bad input never answers 500 and never writes', () => {
  async function countOrganizations(): Promise<number> {
    return (await search('Organization?_summary=count')).total ?? -1;
  }

  test.each([
    ['malformed JSON', (r: ReturnType<typeof post>) => r.set('Content-Type', JSON_FHIR).send('{"resourceType": "Organization", '), 400],
    ['a non-JSON content type', (r: ReturnType<typeof post>) => r.set('Content-Type', 'text/plain').send('hello'), 415],
    ['XML', (r: ReturnType<typeof post>) => r.set('Content-Type', 'application/fhir+xml').send('<Organization/>'), 415],
    ['a body over the limit', (r: ReturnType<typeof post>) => r.set('Content-Type', JSON_FHIR).send({ resourceType: 'Organization', name: 'x'.repeat(2 * 1024 * 1024) }), 413],
    ['a prototype-pollution key', (r: ReturnType<typeof post>) => r.set('Content-Type', JSON_FHIR).send('{"resourceType":"Organization","__proto__":{"admin":true}}'), 400],
    ['a resource type that does not match the URL', (r: ReturnType<typeof post>) => r.set('Content-Type', JSON_FHIR).send(buildPatient()), 400],
    ['a JSON array', (r: ReturnType<typeof post>) => r.set('Content-Type', JSON_FHIR).send('[1,2]'), 400],
    ['an unknown property', (r: ReturnType<typeof post>) => r.set('Content-Type', JSON_FHIR).send({ resourceType: 'Organization', nickname: 'x' }), 400],
    ['a wrong type', (r: ReturnType<typeof post>) => r.set('Content-Type', JSON_FHIR).send({ resourceType: 'Organization', active: 'yes' }), 400],
  ])('%s', async (_name, send, status) => {
    const before = await countOrganizations();
    const res = await send(post('Organization'));
    expect(res.status).toBe(status);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.headers['content-type']).toMatch(/application\/fhir\+json/);
    expect(await countOrganizations()).toBe(before);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  function post(type: string) {
    return t.http.post(`${FHIR}/${type}`).set('Authorization', auth);
  }

  test.each([
    ['GET', '/fhir/R4/Medication', 404],
    ['GET', '/fhir/R4/NotAType/1', 404],
    ['GET', '/fhir/R4/Patient/bad$id', 400],
    ['GET', `/fhir/R4/Patient/${'x'.repeat(65)}`, 400],
    ['GET', '/fhir/R4/Patient/..%2F..%2Fetc%2Fpasswd', 400],
    ['GET', '/fhir/R4/Patient/1/2/3/4/5', 404],
    ['DELETE', '/fhir/R4/Patient', 405],
    ['GET', '/fhir/R4/Patient?_format=xml', 400],
    ['GET', '/nowhere', 404],
  ])('%s %s answers %i', async (method, path, status) => {
    const res = await t.http[method.toLowerCase() as 'get'](path).set('Authorization', auth);
    expect(res.status).toBe(status);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });

  test('a PUT whose id differs from the URL answers 400 and writes nothing', async () => {
    const res = await t.http
      .put(`${FHIR}/Organization/url-id`)
      .set('Authorization', auth)
      .set('Content-Type', JSON_FHIR)
      .send(buildOrganization({ id: 'body-id' }));
    expect(res.status).toBe(400);
    expect((await t.http.get(`${FHIR}/Organization/url-id`).set('Authorization', auth)).status).toBe(404);
    expect((await t.http.get(`${FHIR}/Organization/body-id`).set('Authorization', auth)).status).toBe(404);
  });

  test('error messages do not echo what was sent', async () => {
    const secret = 'Jane-Secret-Diagnosis';
    // Parameter names are code and may be named back; values are data and never are.
    for (const query of [`bogus=${secret}`, `birthdate=${secret}`, `_count=${secret}`, `_sort=${secret}`, `_page=${secret}`]) {
      const res = await t.http.get(`${FHIR}/Patient?${query}`).set('Authorization', auth);
      expect(res.status).toBe(400);
      expect(res.text).not.toContain('Secret-Diagnosis');
    }
    const malformed = await t.http.post(`${FHIR}/Patient`).set('Authorization', auth).set('Content-Type', JSON_FHIR).send(`{"name": "${secret}`);
    expect(malformed.status).toBe(400);
    expect(malformed.text).not.toContain(secret);
  });
});

describe('operations', () => {
  test('healthz and readyz', async () => {
    expect((await t.http.get('/healthz')).status).toBe(200);
    const ready = await t.http.get('/readyz');
    expect(ready.status).toBe(200);
    // The check is named for the store that answers: postgres, or pglite (TEST_STORE=pglite).
    expect(ready.body.checks).toEqual({ [t.services.db.kind]: 'ok' });
  });

  test('without Redis the API stays ready; healthz/dependencies answers 503 naming Redis', async () => {
    const other = await createTestApp();
    try {
      other.services.redis.disconnect();
      expect((await other.http.get('/readyz')).status).toBe(200);
      const res = await other.http.get('/healthz/dependencies');
      expect(res.status).toBe(503);
      expect(res.body.checks).toEqual({ [other.services.db.kind]: 'ok', redis: 'fail' });
    } finally {
      await other.services.redis.connect().catch(() => undefined);
      await other.close();
    }
  });

  test('responses carry a request id, and logs carry it without PHI', async () => {
    const family = `Phi${Date.now()}`;
    const res = await t.http.post(`${FHIR}/Patient`).set('Authorization', auth).set('Content-Type', JSON_FHIR).set('X-Request-Id', 'test-request-0001').send(buildPatient({ name: [{ family }] }));
    expect(res.headers['x-request-id']).toBe('test-request-0001');
    await t.http.get(`${FHIR}/Patient?family=${family}`).set('Authorization', auth);
    const lines = t.logLines.filter((l) => l.includes('test-request-0001'));
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(line).toMatchObject({ requestId: 'test-request-0001', method: 'POST', status: 201 });
    expect(t.logLines.join('\n')).not.toContain(family);
    expect(t.logLines.join('\n')).not.toContain(t.adminToken);
  });
});

describe('our implementation guide', () => {
  test('serves the share-category CodeSystem, its ValueSet and the sharing-consent profile', async () => {
    const codeSystem = await t.http.get(`${FHIR}/CodeSystem/share-category`).set('Authorization', auth);
    expect(codeSystem.status).toBe(200);
    expect(codeSystem.body.url).toBe('https://carecircle.dev/fhir/CodeSystem/share-category');
    expect(codeSystem.body.concept.map((c: { code: string }) => c.code)).toContain('psychotherapy-notes');

    const byUrl = await search('StructureDefinition?url=https://carecircle.dev/fhir/StructureDefinition/sharing-consent');
    expect(byUrl.total).toBe(1);
    expect(byUrl.entry?.[0]?.resource?.id).toBe('sharing-consent');
    expect((await t.http.get(`${FHIR}/ValueSet/share-category`).set('Authorization', auth)).status).toBe(200);
    expect((await t.http.get(`${FHIR}/ValueSet/nope`).set('Authorization', auth)).status).toBe(404);
  });

  test('a Consent claiming the sharing-consent profile is validated against it', async () => {
    const res = await t.http
      .post(`${FHIR}/Consent`)
      .set('Authorization', auth)
      .set('Content-Type', JSON_FHIR)
      .send({
        resourceType: 'Consent',
        meta: { profile: ['https://carecircle.dev/fhir/StructureDefinition/sharing-consent'] },
        status: 'active',
        scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
        category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
        policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
      });
    expect(res.status).toBe(400);
    const expressions = (res.body as OperationOutcome).issue.flatMap((i) => i.expression ?? []);
    expect(expressions).toEqual(expect.arrayContaining(['Consent.patient']));
  });

  test('unknown codes in required bindings answer 400', async () => {
    const res = await t.http.post(`${FHIR}/Patient`).set('Authorization', auth).set('Content-Type', JSON_FHIR).send(buildPatient({ gender: 'bogus' as Patient['gender'] }));
    expect(res.status).toBe(400);
    expect((res.body as OperationOutcome).issue[0]?.expression).toEqual(['Patient.gender']);
  });
});
