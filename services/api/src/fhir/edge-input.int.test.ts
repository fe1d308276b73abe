/**
 * Hostile and malformed input over HTTP, end to end (in-process app, real PostgreSQL and Redis): every case answers a
 * 4xx OperationOutcome, never a 500, and what a write or a log line reveals is no more than a read would. Each block
 * names the audit finding it protects.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { buildObservation, buildOrganization, buildPatient } from '@carecircle/testing';
import type { Bundle, BundleEntry, CapabilityStatement, Observation, OperationOutcome, Patient, Resource } from '@medplum/fhirtypes';
import { answerClientErrors } from '../http/client-errors';
import { registerSystemClient } from '../smart-test-clients';
import { createTestApp, type TestApp } from '../test-harness';

const FHIR = '/fhir/R4';
const JSON_FHIR = 'application/fhir+json';
/** Stands for the test patient's id in tables built before it exists. */
const PATIENT_PLACEHOLDER = 'patient-id-placeholder';

let t: TestApp;
let admin: string;
let practiceA: string;
let updateOnlyA: string;
let patientA: Patient;
let patientB: Patient;
let hiddenObservation: Resource;

function bearer(token: string): string {
  return `Bearer ${token}`;
}

async function createAsAdmin<T extends Resource>(resource: T): Promise<T> {
  const res = await t.http.post(`${FHIR}/${resource.resourceType}`).set('Authorization', admin).set('Content-Type', JSON_FHIR).send(resource);
  expect(res.status).toBe(201);
  return res.body as T;
}

/** Sends raw JSON text (so it can hold escapes such as `\ud800` that JSON.stringify would never write). */
function sendRaw(method: 'post' | 'put' | 'patch', path: string, text: string, contentType = JSON_FHIR) {
  return t.http[method](`${FHIR}/${path}`).set('Authorization', admin).set('Content-Type', contentType).send(text);
}

/** Expects a 4xx OperationOutcome with `status`; returns the expressions its issues name. */
function expectOutcome(res: { status: number; body: unknown }, status: number): string[] {
  expect({ status: res.status, type: (res.body as Resource | undefined)?.resourceType }).toEqual({ status, type: 'OperationOutcome' });
  return ((res.body as OperationOutcome).issue ?? []).flatMap((issue) => issue.expression ?? []);
}

function batch(entries: BundleEntry[], type: 'batch' | 'transaction' = 'batch'): Bundle {
  return { resourceType: 'Bundle', type, entry: entries };
}

beforeAll(async () => {
  t = await createTestApp();
  admin = bearer(t.adminToken);
  const orgA = `Organization/${(await createAsAdmin(buildOrganization({ name: 'Practice A' }))).id}`;
  const orgB = `Organization/${(await createAsAdmin(buildOrganization({ name: 'Practice B' }))).id}`;
  patientA = await createAsAdmin(buildPatient({ managingOrganization: { reference: orgA } }));
  patientB = await createAsAdmin(buildPatient({ managingOrganization: { reference: orgB } }));
  hiddenObservation = await createAsAdmin(buildObservation(patientB.id as string));
  practiceA = bearer(await (await registerSystemClient(t, orgA, 'system/*.cruds')).token());
  updateOnlyA = bearer(await (await registerSystemClient(t, orgA, 'system/Observation.ru')).token());
});
afterAll(async () => {
  await t.close();
});

describe('1, 2: NUL in search values is a 400 everywhere, and a batch answers every entry', () => {
  test.each([
    'Patient?name=%00',
    'Patient?name:contains=%00',
    'Patient?name:exact=a%00',
    'Patient?_id=%00',
    'Patient?identifier=a%00',
    'Patient?identifier=sys%00|a',
    'Observation?subject=Patient/%00',
    'Observation?code:not=%00',
    `Patient?%00=x`,
  ])('GET %s', async (query) => {
    expectOutcome(await t.http.get(`${FHIR}/${query}`).set('Authorization', admin), 400);
  });

  test('If-None-Exist and a POST _search form', async () => {
    const conditional = await t.http
      .post(`${FHIR}/Patient`)
      .set('Authorization', admin)
      .set('Content-Type', JSON_FHIR)
      .set('If-None-Exist', 'identifier=%00')
      .send(buildPatient());
    expectOutcome(conditional, 400);
    const form = await t.http.post(`${FHIR}/Patient/_search`).set('Authorization', admin).type('form').send('name=%00');
    expectOutcome(form, 400);
  });

  test('a batch whose second entry searches for NUL answers 200: the create 201, the search 400', async () => {
    const res = await t.http
      .post(FHIR)
      .set('Authorization', admin)
      .set('Content-Type', JSON_FHIR)
      .send(
        batch([
          { request: { method: 'POST', url: 'Basic' }, resource: { resourceType: 'Basic', code: { text: 'note' } } },
          { request: { method: 'GET', url: 'Basic?code=%00' } },
        ]),
      );
    expect(res.status).toBe(200);
    const entries = (res.body as Bundle).entry ?? [];
    expect(entries.map((e) => e.response?.status)).toEqual(['201 Created', '400']);
    expect(entries[1]?.response?.outcome?.issue?.[0]?.expression).toContain('Bundle.entry[1]');
  });
});

describe('3: unpaired surrogates in JSON are a 400 naming the element', () => {
  test('create, update, JSON Patch and transaction', async () => {
    expect(expectOutcome(await sendRaw('post', 'Basic', '{"resourceType":"Basic","code":{"text":"a\\ud800b"}}'), 400)).toContain('Basic.code.text');
    const basic = await createAsAdmin<Resource>({ resourceType: 'Basic', code: { text: 'note' } });
    const update = `{"resourceType":"Basic","id":"${basic.id}","code":{"text":"\\udc00"}}`;
    expect(expectOutcome(await sendRaw('put', `Basic/${basic.id}`, update), 400)).toContain('Basic.code.text');
    const patch = '[{"op":"replace","path":"/code/text","value":"x\\ud800"}]';
    expect(expectOutcome(await sendRaw('patch', `Basic/${basic.id}`, patch, 'application/json-patch+json'), 400)).toContain('Basic.code.text');
    const transaction = `{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"POST","url":"Basic"},"resource":{"resourceType":"Basic","code":{"text":"\\ud800"}}}]}`;
    const res = await sendRaw('post', '', transaction);
    expect(expectOutcome(res, 400)).toEqual(expect.arrayContaining(['Basic.code.text', 'Bundle.entry[0]']));
  });

  test('NUL inside JSON strings and keys', async () => {
    expect(expectOutcome(await sendRaw('post', 'Basic', '{"resourceType":"Basic","code":{"text":"a\\u0000b"}}'), 400)).toContain('Basic.code.text');
    expectOutcome(await sendRaw('post', 'Basic', '{"resourceType":"Basic","code":{"text":"a","\\u0000":1}}'), 400);
  });
});

describe('4: malformed percent-encoding in a path', () => {
  test.each([
    ['/fhir/R4/Patient/%ZZ', true],
    ['/fhir/R4/Patient/%E0%A4%A', true],
    ['/fhir/R4/SubscriptionTopic/%ZZ', false],
    ['/fhir/R4/Subscription/%ZZ/$status', true],
  ])('%s is a 400', async (path, withToken) => {
    const req = t.http.get(path);
    expectOutcome(await (withToken ? req.set('Authorization', admin) : req), 400);
  });
});

describe('5: Content-Encoding', () => {
  test('a plain body declared gzip or br is a 400; an unknown encoding is 415; real gzip works', async () => {
    const body = JSON.stringify({ resourceType: 'Basic', code: { text: 'note' } });
    for (const encoding of ['gzip', 'br', 'deflate']) {
      const res = await t.http.post(`${FHIR}/Basic`).set('Authorization', admin).set('Content-Type', JSON_FHIR).set('Content-Encoding', encoding).send(body);
      expectOutcome(res, 400);
    }
    const unknown = await t.http.post(`${FHIR}/Basic`).set('Authorization', admin).set('Content-Type', JSON_FHIR).set('Content-Encoding', 'compress').send(body);
    expectOutcome(unknown, 415);
    const zipped = await t.http
      .post(`${FHIR}/Basic`)
      .set('Authorization', admin)
      .set('Content-Type', JSON_FHIR)
      .set('Content-Encoding', 'gzip')
      // superagent would JSON-encode a Buffer sent as JSON: send the bytes as they are.
      .serialize((bytes: unknown) => bytes as string)
      .send(gzipSync(body));
    expect(zipped.status).toBe(201);
  });
});

describe('6: Bundle entry requests are checked before anything runs', () => {
  test.each<[string, Record<string, unknown>, string]>([
    ['ifMatch a number', { method: 'PUT', url: 'Basic/x', ifMatch: 5 }, 'Bundle.entry[0].request.ifMatch'],
    ['ifNoneExist an object', { method: 'POST', url: 'Basic', ifNoneExist: {} }, 'Bundle.entry[0].request.ifNoneExist'],
    ['ifNoneMatch an array', { method: 'GET', url: 'Basic/x', ifNoneMatch: ['1'] }, 'Bundle.entry[0].request.ifNoneMatch'],
    ['ifModifiedSince a boolean', { method: 'GET', url: 'Basic/x', ifModifiedSince: true }, 'Bundle.entry[0].request.ifModifiedSince'],
    ['url a number', { method: 'GET', url: 5 }, 'Bundle.entry[0].request.url'],
    ['an unknown method', { method: 'TRACE', url: 'Basic' }, 'Bundle.entry[0].request.method'],
  ])('%s is a 400 naming it, for batches and transactions', async (_name, request, expression) => {
    for (const type of ['batch', 'transaction'] as const) {
      const res = await t.http
        .post(FHIR)
        .set('Authorization', admin)
        .set('Content-Type', JSON_FHIR)
        .send(batch([{ request, resource: { resourceType: 'Basic', id: 'x', code: { text: 'note' } } } as unknown as BundleEntry], type));
      expect(expectOutcome(res, 400)).toContain(expression);
    }
  });

  test('an entry that is not an object, and a resource that is not one', async () => {
    for (const entry of [5, 'x', null, { request: { method: 'POST', url: 'Basic' }, resource: 'x' }]) {
      const res = await t.http.post(FHIR).set('Authorization', admin).set('Content-Type', JSON_FHIR).send({ resourceType: 'Bundle', type: 'batch', entry: [entry] });
      expectOutcome(res, 400);
    }
  });
});

describe('8: R4 rules the validator left out', () => {
  const xhtml = (inner: string) => `<div xmlns="http://www.w3.org/1999/xhtml">${inner}</div>`;
  const basic = (extra: Record<string, unknown>) => ({ resourceType: 'Basic', code: { text: 'note' }, ...extra });
  test.each<[string, string, Record<string, unknown>, string]>([
    ['narrative that is not XHTML', 'Basic', basic({ text: { status: 'generated', div: 'hello' } }), 'Basic.text.div'],
    ['a script in the narrative', 'Basic', basic({ text: { status: 'generated', div: xhtml('<script>alert(1)</script>') } }), 'Basic.text.div'],
    ['an event handler in the narrative', 'Basic', basic({ text: { status: 'generated', div: xhtml('<p onmouseover="x()">hi</p>') } }), 'Basic.text.div'],
    ['a javascript: link in the narrative', 'Basic', basic({ text: { status: 'generated', div: xhtml('<a href="javascript:x()">hi</a>') } }), 'Basic.text.div'],
    ['a Period ending before it starts (per-1)', 'Basic', basic({ identifier: [{ value: 'x', period: { start: '2025-02-01', end: '2025-01-01' } }] }), 'Basic.identifier[0].period'],
    ['a contained resource nothing refers to (dom-3)', 'Basic', basic({ contained: [{ resourceType: 'Basic', id: 'c1', code: { text: 'y' } }] }), 'Basic.contained[0]'],
    ['a ContactPoint value without a system (cpt-2)', 'Organization', { resourceType: 'Organization', name: 'X', telecom: [{ value: '555' }] }, 'Organization.telecom[0]'],
    ['a Quantity code without a system (qty-3)', 'Observation', { ...buildObservation(PATIENT_PLACEHOLDER), valueQuantity: { value: 1, code: 'mg' } }, 'Observation.valueQuantity'],
    ['an empty string', 'Patient', { resourceType: 'Patient', name: [{ family: '' }] }, 'Patient.name[0].family'],
  ])('%s is a 400 naming the element', async (_name, type, resource, expression) => {
    const body = JSON.parse(JSON.stringify(resource).replaceAll(PATIENT_PLACEHOLDER, patientA.id as string)) as Resource;
    const res = await t.http.post(`${FHIR}/${type}`).set('Authorization', admin).set('Content-Type', JSON_FHIR).send(body);
    expect(expectOutcome(res, 400)).toContain(expression);
  });
});

describe('write rules see only well-formed resources: malformed shapes are a 400, never a TypeError', () => {
  const subscriptionBase = {
    resourceType: 'Subscription',
    status: 'requested',
    reason: 'referrals',
    criteria: 'https://carecircle.dev/fhir/SubscriptionTopic/referral',
    channel: { type: 'rest-hook', endpoint: 'https://partner.example/hook', payload: 'application/fhir+json' },
  };
  const cases = (): Array<[string, Record<string, unknown>]> => [
    ['ServiceRequest category as a string', { resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject: { reference: `Patient/${patientA.id}` }, category: 'referral' }],
    ['meta.tag as a string', { ...buildObservation(patientA.id as string), meta: { tag: 'x' } }],
    ['meta.security as an object', { ...buildObservation(patientA.id as string), meta: { security: { code: 'R' } } }],
    ['Subscription criteria as a number', { ...subscriptionBase, criteria: 5 }],
    ['Subscription channel.header as [5]', { ...subscriptionBase, channel: { ...subscriptionBase.channel, header: [5] } }],
    ['Subscription extension as a string', { ...subscriptionBase, extension: 'secret' }],
    ['Task code.coding as a string', { resourceType: 'Task', status: 'requested', intent: 'order', for: { reference: `Patient/${patientA.id}` }, code: { coding: 'fulfill' } }],
    ['Task focus as a string', { resourceType: 'Task', status: 'requested', intent: 'order', for: { reference: `Patient/${patientA.id}` }, focus: 'ServiceRequest/x' }],
    ['Communication about as a string', { resourceType: 'Communication', status: 'completed', subject: { reference: `Patient/${patientA.id}` }, about: 'x' }],
    ['Consent provision as an array', { resourceType: 'Consent', status: 'active', patient: { reference: `Patient/${patientA.id}` }, provision: [] }],
    ['DocumentReference context.related as a string', { resourceType: 'DocumentReference', status: 'current', subject: { reference: `Patient/${patientA.id}` }, content: [{ attachment: { contentType: 'text/plain', data: 'eA==' } }], context: { related: 'x' } }],
  ];
  test('as the operator and as a practice system', async () => {
    for (const token of [admin, practiceA]) {
      for (const [name, resource] of cases()) {
        const res = await t.http.post(`${FHIR}/${resource.resourceType as string}`).set('Authorization', token).set('Content-Type', JSON_FHIR).send(resource);
        expect({ name, status: res.status, type: res.body.resourceType }).toEqual({ name, status: 400, type: 'OperationOutcome' });
      }
    }
  });
});

describe('9: _page tokens are signed and bound to the search and the caller', () => {
  test('a tampered token, a token from another search, and another caller’s token are 400', async () => {
    for (let i = 0; i < 3; i++) {
      await createAsAdmin(buildPatient({ managingOrganization: { reference: patientA.managingOrganization?.reference as string } }));
    }
    const first = await t.http.get(`${FHIR}/Patient?_count=1`).set('Authorization', admin);
    const next = (first.body as Bundle).link?.find((l) => l.relation === 'next')?.url as string;
    const token = new URL(next).searchParams.get('_page') as string;
    expect((await t.http.get(`${FHIR}/Patient?_count=1&_page=${token}`).set('Authorization', admin)).status).toBe(200);

    const bytes = Buffer.from(token, 'base64url');
    bytes[20] = (bytes[20] ?? 0) ^ 1;
    const forged = bytes.toString('base64url');
    expectOutcome(await t.http.get(`${FHIR}/Patient?_count=1&_page=${forged}`).set('Authorization', admin), 400);
    expectOutcome(await t.http.get(`${FHIR}/Patient?_count=1&gender=male&_page=${token}`).set('Authorization', admin), 400);
    expectOutcome(await t.http.get(`${FHIR}/Patient?_count=1&_page=${token}`).set('Authorization', practiceA), 400);
    expectOutcome(await t.http.get(`${FHIR}/Patient/_history?_count=1&_page=${token}`).set('Authorization', admin), 400);
  });
});

describe('Issue 17 (12): _page tokens reveal nothing, the database snapshot least of all', () => {
  test('a next link carries no snapshot, offset or count, and the same page twice gets two different tokens', async () => {
    const tokenOf = async () => {
      const first = await t.http.get(`${FHIR}/Patient?_count=1`).set('Authorization', admin).expect(200);
      const next = (first.body as Bundle).link?.find((l) => l.relation === 'next')?.url as string;
      return new URL(next).searchParams.get('_page') as string;
    };
    const token = await tokenOf();
    const text = Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('latin1');
    expect(text).not.toMatch(/\d+:\d+:/);
    expect(text).not.toContain(`"s"`);
    expect(await tokenOf()).not.toBe(token);
    await t.http.get(`${FHIR}/Patient?_count=1&_page=${token}`).set('Authorization', admin).expect(200);
  });
});

describe('10, 11: writes reveal no more than reads', () => {
  test('PUT of an absent id by a practice is 404, like PUT of another practice’s resource; nothing is created', async () => {
    const body = (id: string) => ({ ...buildObservation(patientA.id as string), id });
    const hidden = await t.http.put(`${FHIR}/Observation/${hiddenObservation.id}`).set('Authorization', practiceA).set('Content-Type', JSON_FHIR).send(body(hiddenObservation.id as string));
    const absent = await t.http.put(`${FHIR}/Observation/new-id-1`).set('Authorization', practiceA).set('Content-Type', JSON_FHIR).send(body('new-id-1'));
    expectOutcome(hidden, 404);
    expectOutcome(absent, 404);
    expect(absent.body).toEqual(hidden.body);
    // update scope alone never creates (POST would be 403)
    expectOutcome(await t.http.put(`${FHIR}/Observation/new-id-2`).set('Authorization', updateOnlyA).set('Content-Type', JSON_FHIR).send(body('new-id-2')), 404);
    expectOutcome(await t.http.post(`${FHIR}/Observation`).set('Authorization', updateOnlyA).set('Content-Type', JSON_FHIR).send(buildObservation(patientA.id as string)), 403);
    expectOutcome(await t.http.get(`${FHIR}/Observation/new-id-1`).set('Authorization', admin), 404);
  });

  test('DELETE of an absent id and of a hidden resource are both 404; of a deleted one of its own, 204 again', async () => {
    expectOutcome(await t.http.delete(`${FHIR}/Observation/${hiddenObservation.id}`).set('Authorization', practiceA), 404);
    expectOutcome(await t.http.delete(`${FHIR}/Observation/never-was`).set('Authorization', practiceA), 404);
    expectOutcome(await t.http.delete(`${FHIR}/Observation/never-was`).set('Authorization', admin), 404);
    const own = await createAsAdmin(buildObservation(patientA.id as string));
    expect((await t.http.delete(`${FHIR}/Observation/${own.id}`).set('Authorization', practiceA)).status).toBe(204);
    expect((await t.http.delete(`${FHIR}/Observation/${own.id}`).set('Authorization', practiceA)).status).toBe(204);
  });

  test('the operator may still create with an id of its choosing; the CapabilityStatement says clients may not', async () => {
    const res = await t.http.put(`${FHIR}/Basic/operator-chosen`).set('Authorization', admin).set('Content-Type', JSON_FHIR).send({ resourceType: 'Basic', id: 'operator-chosen', code: { text: 'x' } });
    expect(res.status).toBe(201);
    const metadata = (await t.http.get(`${FHIR}/metadata`)).body as CapabilityStatement;
    expect(metadata.rest?.[0]?.resource?.find((r) => r.type === 'Observation')?.updateCreate).toBe(false);
  });
});

describe('13: AuditEvent and Provenance are append-only', () => {
  test('update, patch and delete are 405, even for the operator, and the CapabilityStatement offers none of them', async () => {
    const event = await createAsAdmin<Resource>({
      resourceType: 'AuditEvent',
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' },
      recorded: '2025-01-01T00:00:00Z',
      agent: [{ requestor: true, who: { display: 'operator' } }],
      source: { observer: { display: 'CareCircle' } },
    });
    expectOutcome(await t.http.put(`${FHIR}/AuditEvent/${event.id}`).set('Authorization', admin).set('Content-Type', JSON_FHIR).send({ ...event, outcome: '4' }), 405);
    expectOutcome(await t.http.patch(`${FHIR}/AuditEvent/${event.id}`).set('Authorization', admin).set('Content-Type', 'application/json-patch+json').send([{ op: 'add', path: '/outcome', value: '4' }]), 405);
    expectOutcome(await t.http.delete(`${FHIR}/AuditEvent/${event.id}`).set('Authorization', admin), 405);
    expectOutcome(await t.http.delete(`${FHIR}/Provenance/any-id`).set('Authorization', admin), 405);
    const metadata = (await t.http.get(`${FHIR}/metadata`)).body as CapabilityStatement;
    for (const type of ['AuditEvent', 'Provenance']) {
      const codes = metadata.rest?.[0]?.resource?.find((r) => r.type === type)?.interaction?.map((i) => i.code);
      expect(codes).toEqual(expect.arrayContaining(['read', 'create', 'search-type']));
      expect(codes).not.toEqual(expect.arrayContaining(['update']));
      expect(codes).not.toContain('patch');
      expect(codes).not.toContain('delete');
    }
  });
});

describe('14: the access log names no ids', () => {
  test('client-chosen ids, type-shaped ids and unknown operations are redacted; routes come from the original URL', async () => {
    t.logLines.length = 0;
    await t.http.put(`${FHIR}/Basic/JaneDoe`).set('Authorization', admin).set('Content-Type', JSON_FHIR).send({ resourceType: 'Basic', id: 'JaneDoe', code: { text: 'x' } });
    await t.http.get(`${FHIR}/Basic/JaneDoe/_history/1`).set('Authorization', admin);
    await t.http.get(`${FHIR}/JaneDoe`).set('Authorization', admin);
    await t.http.get(`${FHIR}/Patient/${patientA.id}/$summary`).set('Authorization', admin);
    await t.http.get(`${FHIR}/Patient/${patientA.id}/$JaneDoe`).set('Authorization', admin);
    await t.http.get(`${FHIR}/Patient/Patient`).set('Authorization', admin);
    const paths = t.logLines.map((line) => JSON.parse(line) as { msg: string; path?: string }).filter((l) => l.msg === 'request').map((l) => l.path);
    expect(paths).toEqual([
      '/fhir/R4/Basic/:id',
      '/fhir/R4/Basic/:id/_history/:id',
      '/fhir/R4/:id',
      '/fhir/R4/Patient/:id/$summary',
      '/fhir/R4/Patient/:id/:id',
      '/fhir/R4/Patient/:id',
    ]);
    expect(t.logLines.join('\n')).not.toContain('JaneDoe');
  });
});

describe('17: found by fuzzing', () => {
  test('a primitive extension element of the wrong shape (`_birthDate: "x"`) is a 400 naming it, for every type', async () => {
    for (const type of ['Patient', 'Observation', 'Task', 'Subscription', 'Consent']) {
      const res = await t.http.post(`${FHIR}/${type}`).set('Authorization', admin).set('Content-Type', JSON_FHIR).send({ resourceType: type, _status: 'x', _birthDate: 5 });
      expect(expectOutcome(res, 400).length).toBeGreaterThan(0);
    }
  });

  test('JSON nested deeper than any resource is a 400, in a body and inside a PATCH entry', async () => {
    const deep = `${'{"url":"https://e.example","extension":['.repeat(200)}{"url":"x","valueString":"v"}${']}'.repeat(200)}`;
    expectOutcome(await sendRaw('post', 'Basic', `{"resourceType":"Basic","code":{"text":"x"},"extension":[${deep}]}`), 400);
    const basic = await createAsAdmin<Resource>({ resourceType: 'Basic', code: { text: 'note' } });
    const operations = `[{"op":"add","path":"/extension","value":[${deep}]}]`;
    const res = await t.http
      .post(FHIR)
      .set('Authorization', admin)
      .set('Content-Type', JSON_FHIR)
      .send(
        batch([
          {
            request: { method: 'PATCH', url: `Basic/${basic.id}` },
            resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data: Buffer.from(operations).toString('base64') },
          },
        ]),
      );
    // Entries are checked before any runs: the whole Bundle is refused, naming the entry.
    expect(expectOutcome(res, 400)).toContain('Bundle.entry[0].resource.data');
  });
});

describe('16: the small things', () => {
  test('a URL beyond Node’s header limit answers 431 with an OperationOutcome', async () => {
    const server: Server = createServer(t.app);
    answerClientErrors(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}${FHIR}/Patient?name=${'a'.repeat(20_000)}`, { headers: { Authorization: admin } });
      expect(res.status).toBe(431);
      expect(res.headers.get('content-type')).toContain('application/fhir+json');
      expect(((await res.json()) as OperationOutcome).resourceType).toBe('OperationOutcome');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('Accept: application/fhir+xml alone is 406; wildcards and JSON are fine', async () => {
    expectOutcome(await t.http.get(`${FHIR}/Patient`).set('Authorization', admin).set('Accept', 'application/fhir+xml'), 406);
    expectOutcome(await t.http.get(`${FHIR}/metadata`).set('Accept', 'application/fhir+xml'), 406);
    for (const accept of ['application/fhir+json', 'application/json', '*/*', 'text/html,application/xhtml+xml,*/*;q=0.8', 'application/fhir+xml, application/fhir+json;q=0.5']) {
      expect((await t.http.get(`${FHIR}/metadata`).set('Accept', accept)).status).toBe(200);
    }
  });

  test('conformance searches check _count; a __proto__ form field is an unknown parameter', async () => {
    expectOutcome(await t.http.get(`${FHIR}/StructureDefinition?_count=-5`).set('Authorization', admin), 400);
    expect((await t.http.get(`${FHIR}/StructureDefinition?_count=1`).set('Authorization', admin)).status).toBe(200);
    const res = await t.http.post(`${FHIR}/Patient/_search`).set('Authorization', admin).type('form').send('__proto__=x');
    expect(expectOutcome(res, 400)).toContain('__proto__');
  });
});

describe('D1, D8: dates at the edges of years 1-9999, and leap seconds, are stored, indexed and searched; never a 500', () => {
  // Valid R4 dateTimes that fall in year 0 or year 10000 once their offset is applied.
  const EARLY = '0001-01-01T00:00:00+14:00';
  const LATE = '9999-12-31T23:59:59-14:00';
  let patient: Patient;

  /** The ids of the patient's Observations a search finds (a 200, or the test fails naming the query). */
  async function observationIds(query: string, token = admin): Promise<string[]> {
    const res = await t.http.get(`${FHIR}/Observation?patient=${patient.id}&${query}`).set('Authorization', token);
    expect({ query, status: res.status }).toEqual({ query, status: 200 });
    return ((res.body as Bundle).entry ?? []).map((e) => e.resource?.id as string).sort();
  }

  async function createObservation(overrides: Partial<Observation>): Promise<string> {
    const body = buildObservation(patient.id as string, { effectiveDateTime: undefined, ...overrides });
    const res = await t.http.post(`${FHIR}/Observation`).set('Authorization', practiceA).set('Content-Type', JSON_FHIR).send(body);
    expect({ overrides, status: res.status }).toEqual({ overrides, status: 201 });
    return (res.body as Observation).id as string;
  }

  beforeAll(async () => {
    patient = await createAsAdmin(buildPatient({ managingOrganization: patientA.managingOrganization }));
  });

  test.each([
    'Observation?date=ap0001-01-01',
    'Observation?date=ap0001',
    'Observation?_lastUpdated=ap0001',
    'Observation?_lastUpdated=ap9999-12-31T23:59:59-14:00',
    `Observation?date=${encodeURIComponent(EARLY)}`,
    `Observation?date=lt${encodeURIComponent(EARLY)}`,
    `Observation?date=ap${encodeURIComponent(EARLY)}`,
    `Observation?date=${encodeURIComponent(LATE)}`,
    `Observation?date=gt${encodeURIComponent(LATE)}`,
    `Observation?date=ap${encodeURIComponent(LATE)}`,
    `Patient/_history?_since=${encodeURIComponent(EARLY)}`,
    `Patient/_history?_since=${encodeURIComponent(LATE)}`,
    'Observation?date=2016-12-31T23:59:60Z',
  ])('GET %s answers 200, for the operator and for a practice', async (query) => {
    for (const [caller, token] of [['operator', admin], ['practice', practiceA]]) {
      const res = await t.http.get(`${FHIR}/${query}`).set('Authorization', token as string);
      expect({ caller, status: res.status, type: (res.body as Resource).resourceType }).toEqual({ caller, status: 200, type: 'Bundle' });
    }
  });

  test('Observations at either edge are created and found by their own values', async () => {
    const early = await createObservation({ effectiveDateTime: EARLY });
    const earlyPeriod = await createObservation({ effectivePeriod: { start: EARLY } });
    const late = await createObservation({ effectiveDateTime: LATE });
    const latePeriod = await createObservation({ effectivePeriod: { start: '9999-12-31T10:00:00-14:00', end: LATE } });
    expect(await observationIds(`date=${encodeURIComponent(EARLY)}`)).toEqual([early]);
    expect(await observationIds('date=lt0001-01-02')).toEqual([early, earlyPeriod].sort());
    expect(await observationIds('date=ap0001-01-01', practiceA)).toEqual([early, earlyPeriod].sort());
    expect(await observationIds(`date=${encodeURIComponent(LATE)}`)).toEqual([late]);
    expect(await observationIds('date=gt9999-12-31')).toEqual([earlyPeriod, late, latePeriod].sort());
    expect(await observationIds(`date=sa${encodeURIComponent('9999-12-31T09:59:59-14:00')}`, practiceA)).toEqual([late, latePeriod].sort());
  });

  test('in a batch and in a transaction, edge dates are written like any other', async () => {
    for (const type of ['batch', 'transaction'] as const) {
      const res = await t.http
        .post(FHIR)
        .set('Authorization', practiceA)
        .set('Content-Type', JSON_FHIR)
        .send(
          batch(
            [
              { request: { method: 'POST', url: 'Observation' }, resource: buildObservation(patient.id as string, { effectiveDateTime: EARLY }) },
              {
                request: { method: 'POST', url: 'Observation' },
                resource: buildObservation(patient.id as string, { effectiveDateTime: undefined, effectivePeriod: { start: EARLY, end: LATE } }),
              },
            ],
            type,
          ),
        );
      expect({ type, status: res.status }).toEqual({ type, status: 200 });
      expect(((res.body as Bundle).entry ?? []).map((e) => e.response?.status)).toEqual(['201 Created', '201 Created']);
    }
  });

  test('conditional creates that search the edges (If-None-Exist, a transaction entry’s ifNoneExist) run', async () => {
    const identifier = { system: 'https://example.org/edge-dates', value: 'born-in-year-1' };
    const query = `birthdate=ap0001&identifier=${identifier.system}|${identifier.value}`;
    const conditional = () =>
      t.http.post(`${FHIR}/Patient`).set('Authorization', practiceA).set('Content-Type', JSON_FHIR).set('If-None-Exist', query);
    const first = await conditional().send(buildPatient({ birthDate: '0001-01-01', identifier: [identifier], managingOrganization: patientA.managingOrganization }));
    expect(first.status).toBe(201);
    const again = await conditional().send(buildPatient({ birthDate: '0001-01-01', identifier: [identifier], managingOrganization: patientA.managingOrganization }));
    expect({ status: again.status, id: (again.body as Patient).id }).toEqual({ status: 200, id: (first.body as Patient).id });
    const res = await t.http
      .post(FHIR)
      .set('Authorization', practiceA)
      .set('Content-Type', JSON_FHIR)
      .send(
        batch(
          [
            {
              request: { method: 'POST', url: 'Patient', ifNoneExist: `birthdate=${encodeURIComponent(EARLY)}` },
              resource: buildPatient({ managingOrganization: patientA.managingOrganization }),
            },
            { request: { method: 'POST', url: 'Patient', ifNoneExist: query }, resource: buildPatient({ managingOrganization: patientA.managingOrganization }) },
          ],
          'transaction',
        ),
      );
    expect(res.status).toBe(200);
    expect(((res.body as Bundle).entry ?? []).map((e) => e.response?.status)).toEqual(['201 Created', '200 OK']);
  });

  test('a leap second is the last millisecond before it: found by its day and year, and not missing', async () => {
    const leap = await createObservation({ effectiveDateTime: '2016-12-31T23:59:60Z' });
    expect(await observationIds('date=2016')).toEqual([leap]);
    expect(await observationIds('date=2016-12-31')).toEqual([leap]);
    expect(await observationIds('date=2016-12-31T23:59:60Z')).toEqual([leap]);
    expect(await observationIds('date=2016-12-31T23:59:59Z')).toEqual([leap]);
    expect(await observationIds('date=ge2017-01-01')).not.toContain(leap);
    expect(await observationIds('date:missing=true')).not.toContain(leap);
  });
});

describe('D3: what one search, and one request, may ask of the database is bounded (400 too-costly)', () => {
  const alternatives = (n: number, prefix = 'zq') => Array.from({ length: n }, (_, i) => `${prefix}${i}`).join(',');
  const get = (query: string) => t.http.get(`${FHIR}/${query}`).set('Authorization', practiceA);

  /** Expects a 400 whose issue is too-costly; returns its text. */
  function expectTooCostly(res: { status: number; body: unknown }): string {
    expectOutcome(res, 400);
    const issue = (res.body as OperationOutcome).issue?.[0];
    expect(issue?.code).toBe('too-costly');
    return issue?.details?.text ?? '';
  }

  const statuses = (res: { body: unknown }) => ((res.body as Bundle).entry ?? []).map((e) => e.response?.status?.split(' ')[0]);

  test('a search holds at most 200 alternatives in all, at most 20 of them :contains', async () => {
    expect((await get(`Patient?name=${alternatives(100)}&given=${alternatives(100)}`)).status).toBe(200);
    expect(expectTooCostly(await get(`Patient?name=${alternatives(100)}&given=${alternatives(100)}&family=x`))).toContain('200');
    expect((await get(`Patient?name:contains=${alternatives(20)}&gender=other`)).status).toBe(200);
    expect(expectTooCostly(await get(`Patient?name:contains=${alternatives(10)}&family:contains=${alternatives(11)}`))).toContain('20 :contains');
  });

  test('the audit’s 64 parameters of 100 :contains alternatives are refused before any SQL runs', async () => {
    const parameter = `name:contains=${Array.from({ length: 100 }, () => 'a').join(',')}`;
    const started = Date.now();
    expectTooCostly(await get(`Patient?${Array.from({ length: 64 }, () => parameter).join('&')}`));
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test('the searches of one batch share 5000 alternatives and 100 :contains; entries past that answer 400', async () => {
    const contains = Array.from({ length: 6 }, () => ({ request: { method: 'GET', url: `Patient?name:contains=${alternatives(20)}` } }));
    const containsRes = await t.http.post(FHIR).set('Authorization', practiceA).set('Content-Type', JSON_FHIR).send(batch(contains as BundleEntry[]));
    expect(containsRes.status).toBe(200);
    expect(statuses(containsRes)).toEqual(['200', '200', '200', '200', '200', '400']);
    expect((containsRes.body as Bundle).entry?.[5]?.response?.outcome?.issue?.[0]?.code).toBe('too-costly');

    const wide = Array.from({ length: 26 }, () => ({ request: { method: 'GET', url: `Patient?name=${alternatives(100)}&given=${alternatives(100)}` } }));
    const wideRes = await t.http.post(FHIR).set('Authorization', practiceA).set('Content-Type', JSON_FHIR).send(batch(wide as BundleEntry[]));
    expect(wideRes.status).toBe(200);
    expect(statuses(wideRes)).toEqual([...Array.from({ length: 25 }, () => '200'), '400']);
  });

  test('a transaction whose conditional creates search past the budget is refused whole: nothing is written', async () => {
    const system = 'https://example.org/search-budget';
    const entries: BundleEntry[] = Array.from({ length: 6 }, (_, i) => ({
      request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${system}|p${i}&name:contains=${alternatives(20)}` },
      resource: buildPatient({ identifier: [{ system, value: `p${i}` }], managingOrganization: patientA.managingOrganization }),
    }));
    const res = await t.http.post(FHIR).set('Authorization', practiceA).set('Content-Type', JSON_FHIR).send(batch(entries, 'transaction'));
    expectTooCostly(res);
    const written = await t.http.get(`${FHIR}/Patient?identifier=${encodeURIComponent(`${system}|`)}`).set('Authorization', admin);
    expect((written.body as Bundle).total).toBe(0);
  });
});
