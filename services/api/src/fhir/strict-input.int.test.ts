/**
 * Input the FHIR API used to take loosely, over HTTP (in-process app, real PostgreSQL and Redis): an empty conditional
 * header, operation parameters repeated or unknown, a topic search's `_count`, text that is not UTF-8 and a
 * Content-Encoding the contract does not name. Each is a 400 (415) OperationOutcome naming what was wrong, never
 * ignored, never read as its first value, never stored with U+FFFD. Each block names the audit finding it protects.
 */
import * as zlib from 'node:zlib';
import { buildBackportSubscription, SUBSCRIPTION_TOPICS } from '@carecircle/notify';
import { buildOrganization, buildPatient } from '@carecircle/testing';
import type { Bundle, OperationOutcome, Patient, Resource } from '@medplum/fhirtypes';
import { createTestApp, type TestApp } from '../test-harness';

const FHIR = '/fhir/R4';
const JSON_FHIR = 'application/fhir+json';

let t: TestApp;
let admin: string;
let patient: Patient;
let organization: string;
let subscriptionId: string;

/** Expects a 4xx OperationOutcome with `status`; returns the expressions its issues name. */
function expectOutcome(res: { status: number; body: unknown }, status: number): string[] {
  expect({ status: res.status, type: (res.body as Resource | undefined)?.resourceType }).toEqual({ status, type: 'OperationOutcome' });
  return ((res.body as OperationOutcome).issue ?? []).flatMap((issue) => issue.expression ?? []);
}

async function createAsAdmin<T extends Resource>(resource: T): Promise<T> {
  const res = await t.http.post(`${FHIR}/${resource.resourceType}`).set('Authorization', admin).set('Content-Type', JSON_FHIR).send(resource);
  expect(res.status).toBe(201);
  return res.body as T;
}

/** Sends `bytes` as they are (superagent would JSON-encode a Buffer). */
function sendBytes(path: string, bytes: Buffer, contentType = JSON_FHIR, encoding?: string) {
  const req = t.http.post(`${FHIR}/${path}`).set('Authorization', admin).set('Content-Type', contentType);
  return (encoding ? req.set('Content-Encoding', encoding) : req).serialize((raw: unknown) => raw as string).send(bytes);
}

/** How many Basic resources there are: a refused write must leave it as it was. */
async function countBasics(): Promise<number> {
  const res = await t.http.get(`${FHIR}/Basic`).query({ _summary: 'count' }).set('Authorization', admin);
  expect(res.status).toBe(200);
  return (res.body as Bundle).total ?? -1;
}

beforeAll(async () => {
  t = await createTestApp();
  admin = `Bearer ${t.adminToken}`;
  organization = `Organization/${(await createAsAdmin(buildOrganization({ name: 'Practice' }))).id}`;
  patient = await createAsAdmin(buildPatient({ managingOrganization: { reference: organization } }));
  const subscription = await createAsAdmin(
    buildBackportSubscription({ topic: 'https://carecircle.dev/fhir/SubscriptionTopic/referral', endpoint: 'https://partner.example/hook', secret: 'x'.repeat(40) }),
  );
  subscriptionId = subscription.id as string;
});
afterAll(async () => {
  await t.close();
});

describe('D11: an empty conditional header is a 400, not a request without the condition', () => {
  test('PUT with an empty If-Match changes nothing', async () => {
    const res = await t.http
      .put(`${FHIR}/Patient/${patient.id}`)
      .set('Authorization', admin)
      .set('Content-Type', JSON_FHIR)
      .set('If-Match', '')
      .send({ ...patient, gender: 'other' });
    expect(expectOutcome(res, 400)).toEqual(['http.If-Match']);
    const current = await t.http.get(`${FHIR}/Patient/${patient.id}`).set('Authorization', admin).expect(200);
    expect((current.body as Patient).meta?.versionId).toBe(patient.meta?.versionId);
    // With the version it names, the update goes through.
    await t.http
      .put(`${FHIR}/Patient/${patient.id}`)
      .set('Authorization', admin)
      .set('Content-Type', JSON_FHIR)
      .set('If-Match', `W/"${patient.meta?.versionId}"`)
      .send({ ...patient, gender: 'other' })
      .expect(200);
  });

  test('an empty If-None-Exist (create) and If-None-Match (read) likewise', async () => {
    const before = await countBasics();
    const create = await t.http.post(`${FHIR}/Basic`).set('Authorization', admin).set('Content-Type', JSON_FHIR).set('If-None-Exist', '').send({ resourceType: 'Basic', code: { text: 'conditional' } });
    expect(expectOutcome(create, 400)).toEqual(['http.If-None-Exist']);
    expect(await countBasics()).toBe(before);
    const read = await t.http.get(`${FHIR}/Patient/${patient.id}`).set('Authorization', admin).set('If-None-Match', '');
    expect(expectOutcome(read, 400)).toEqual(['http.If-None-Match']);
  });
});

describe('D11: operation parameters are read strictly, as search parameters are', () => {
  const recipient = () => organization;
  test.each<[string, () => string, string]>([
    ['$events with eventsSinceNumber twice', () => `Subscription/${subscriptionId}/$events?eventsSinceNumber=1&eventsSinceNumber=2`, 'eventsSinceNumber'],
    ['$events with content twice', () => `Subscription/${subscriptionId}/$events?content=id-only&content=full-resource`, 'content'],
    ['$events with an unknown parameter', () => `Subscription/${subscriptionId}/$events?eventsSince=1`, 'eventsSince'],
    ['$status with a parameter', () => `Subscription/${subscriptionId}/$status?eventsSinceNumber=1`, 'eventsSinceNumber'],
    [
      '$disclosure-check with category twice',
      () => `Patient/${patient.id}/$disclosure-check?recipient=${recipient()}&category=progress&category=demographics`,
      'category',
    ],
    ['$disclosure-check with recipient twice', () => `Patient/${patient.id}/$disclosure-check?recipient=${recipient()}&recipient=Organization/other&category=progress`, 'recipient'],
    ['$disclosure-check with an unknown parameter', () => `Patient/${patient.id}/$disclosure-check?recipient=${recipient()}&category=progress&purpose_of_use=TREAT`, 'purpose_of_use'],
    ['$summary with recipient twice', () => `Patient/${patient.id}/$summary?recipient=${recipient()}&recipient=Organization/other`, 'recipient'],
    ['$summary with an unknown parameter', () => `Patient/${patient.id}/$summary?category=progress`, 'category'],
  ])('%s is a 400 naming the parameter', async (_name, path, parameter) => {
    const res = await t.http.get(`${FHIR}/${path()}`).set('Authorization', admin);
    expect(expectOutcome(res, 400)).toEqual([parameter]);
  });

  test('the same operations with each parameter once (and _format) still answer', async () => {
    await t.http.get(`${FHIR}/Subscription/${subscriptionId}/$events?eventsSinceNumber=1&_format=json`).set('Authorization', admin).expect(200);
    await t.http.get(`${FHIR}/Subscription/${subscriptionId}/$status`).set('Authorization', admin).expect(200);
    await t.http.get(`${FHIR}/Patient/${patient.id}/$disclosure-check?recipient=${organization}&category=progress`).set('Authorization', admin).expect(200);
    await t.http.get(`${FHIR}/Patient/${patient.id}/$summary?_format=json`).set('Authorization', admin).expect(200);
  });
});

describe('D11: a SubscriptionTopic search checks _count like every search', () => {
  test.each(['abc', '-1', '1.5', ''])('_count=%s is a 400', async (count) => {
    expect(expectOutcome(await t.http.get(`${FHIR}/SubscriptionTopic?_count=${count}`), 400)).toEqual(['_count']);
  });

  test('_count twice is a 400; _count=1 pages to one entry of all the topics; url and _id repeated must all hold', async () => {
    expect(expectOutcome(await t.http.get(`${FHIR}/SubscriptionTopic?_count=1&_count=2`), 400)).toEqual(['_count']);
    const one = (await t.http.get(`${FHIR}/SubscriptionTopic?_count=1`).expect(200)).body as Bundle;
    // Every topic the server offers (five since coordinated updates), one of them on this page.
    expect({ total: one.total, entries: one.entry?.length }).toEqual({ total: SUBSCRIPTION_TOPICS.length, entries: 1 });
    expect(SUBSCRIPTION_TOPICS.length).toBe(5);
    const both = (await t.http.get(`${FHIR}/SubscriptionTopic?_id=referral,consent&_id=consent`).expect(200)).body as Bundle;
    expect(both.entry?.map((e) => e.resource?.id)).toEqual(['consent']);
  });
});

describe('D11: text that is not UTF-8 is a 400, never stored with U+FFFD', () => {
  test('a JSON body with a byte that is not UTF-8 stores nothing', async () => {
    const before = await countBasics();
    const body = Buffer.concat([Buffer.from('{"resourceType":"Basic","code":{"text":"latin'), Buffer.from([0xe9]), Buffer.from('1"}}')]);
    expectOutcome(await sendBytes('Basic', body), 400);
    expect(await countBasics()).toBe(before);
    // The same text as UTF-8 is stored as sent.
    const stored = await sendBytes('Basic', Buffer.from('{"resourceType":"Basic","code":{"text":"latiné1"}}'));
    expect(stored.status).toBe(201);
    expect((stored.body as { code: { text: string } }).code.text).toBe('latiné1');
  });

  test('a _search form, or a query, whose escapes are not UTF-8', async () => {
    expectOutcome(await sendBytes('Patient/_search', Buffer.from('name=%E9t%E9'), 'application/x-www-form-urlencoded'), 400);
    expectOutcome(await t.http.get(`${FHIR}/Patient?name=%E9t%E9`).set('Authorization', admin), 400);
    expectOutcome(await t.http.get(`${FHIR}/SubscriptionTopic?_id=%FF`), 400);
    // Escaped UTF-8 is fine.
    await t.http.get(`${FHIR}/Patient?name=%C3%A9t%C3%A9`).set('Authorization', admin).expect(200);
  });

  test('a Content-Encoding the contract does not name (zstd) is 415', async () => {
    const before = await countBasics();
    const body = Buffer.from(JSON.stringify({ resourceType: 'Basic', code: { text: 'zstd' } }));
    const zstd = (zlib as { zstdCompressSync?: (b: Buffer) => Buffer }).zstdCompressSync;
    expectOutcome(await sendBytes('Basic', zstd ? zstd(body) : body, JSON_FHIR, 'zstd'), 415);
    expect(await countBasics()).toBe(before);
  });
});

describe('Issue 17 (10): tunnelled and relayed addresses are no Subscription endpoint', () => {
  test.each([
    ['Teredo embedding the metadata address', 'https://[2001:0:4136:e378:8000:63bf:5601:5601]/hook'],
    ['the 6to4 relay anycast', 'https://192.88.99.1/hook'],
    ['6to4 embedding a private address', 'https://[2002:a00:1::1]/hook'],
    ['NAT64 embedding the metadata address', 'https://[64:ff9b::a9fe:a9fe]/hook'],
  ])('an endpoint at %s is 422 naming Subscription.channel.endpoint', async (_name, endpoint) => {
    const res = await t.http
      .post(`${FHIR}/Subscription`)
      .set('Authorization', admin)
      .set('Content-Type', JSON_FHIR)
      .send(buildBackportSubscription({ topic: 'https://carecircle.dev/fhir/SubscriptionTopic/referral', endpoint, secret: 'x'.repeat(40) }));
    expect(expectOutcome(res, 422)).toEqual(['Subscription.channel.endpoint']);
  });
});

describe('Issue 17 (12): a query inside a Bundle is UTF-8 like the request\'s own, else that entry is a 400', () => {
  const batch = (type: 'batch' | 'transaction', entry: unknown[]) =>
    t.http.post(FHIR).set('Authorization', admin).set('Content-Type', JSON_FHIR).send({ resourceType: 'Bundle', type, entry });

  test('a batch GET whose request.url query is not UTF-8 answers 400 in its entry; the other entries run', async () => {
    const res = await batch('batch', [
      { request: { method: 'GET', url: 'Patient?name=%FF' } },
      { request: { method: 'GET', url: 'Patient?name=%C3%A9t%C3%A9' } },
    ]);
    expect(res.status).toBe(200);
    const [bad, good] = (res.body as Bundle).entry ?? [];
    expect(bad?.response?.status).toBe('400');
    expect((bad?.response?.outcome as OperationOutcome).issue?.[0]?.expression).toEqual(['Bundle.entry[0].request.url', 'Bundle.entry[0]']);
    expect(good?.response?.status).toMatch(/^200/);
  });

  test('a batch entry\'s ifNoneExist, and the If-None-Exist header, that are not UTF-8 are 400 and create nothing', async () => {
    const before = await countBasics();
    const res = await batch('batch', [
      { request: { method: 'POST', url: 'Basic', ifNoneExist: 'identifier=%FF' }, resource: { resourceType: 'Basic', code: { text: 'x' } } },
    ]);
    expect(res.status).toBe(200);
    const [entry] = (res.body as Bundle).entry ?? [];
    expect(entry?.response?.status).toBe('400');
    expect((entry?.response?.outcome as OperationOutcome).issue?.[0]?.expression).toEqual(['Bundle.entry[0].request.ifNoneExist', 'Bundle.entry[0]']);
    const header = await t.http
      .post(`${FHIR}/Basic`)
      .set('Authorization', admin)
      .set('Content-Type', JSON_FHIR)
      .set('If-None-Exist', 'identifier=%FF')
      .send({ resourceType: 'Basic', code: { text: 'x' } });
    expect(expectOutcome(header, 400)).toEqual(['http.If-None-Exist']);
    expect(await countBasics()).toBe(before);
  });

  test('a transaction with such a query, or such a conditional reference, is refused whole (400)', async () => {
    const before = await countBasics();
    const res = await batch('transaction', [
      { request: { method: 'POST', url: 'Basic' }, resource: { resourceType: 'Basic', code: { text: 'kept?' } } },
      { request: { method: 'GET', url: 'Patient?name=%FF' } },
    ]);
    expect(expectOutcome(res, 400)).toEqual(['Bundle.entry[1].request.url']);
    const reference = await batch('transaction', [
      {
        request: { method: 'POST', url: 'Basic' },
        resource: { resourceType: 'Basic', code: { text: 'kept?' }, subject: { reference: 'Patient?identifier=%FF' } },
      },
    ]);
    expect(expectOutcome(reference, 400)).toEqual(['Bundle.entry[0].resource']);
    expect(await countBasics()).toBe(before);
  });
});

describe('Issue 17 (12): Reference.reference takes only the forms R4 defines', () => {
  test.each([
    ['a javascript: URL', 'javascript:alert(1)'],
    ['a data: URL', 'data:text/html,<b>x</b>'],
    ['a search outside a transaction', 'Patient?identifier=x'],
  ])('%s is a 400 naming the element, and nothing is stored', async (_name, reference) => {
    const before = await countBasics();
    const res = await t.http
      .post(`${FHIR}/Basic`)
      .set('Authorization', admin)
      .set('Content-Type', JSON_FHIR)
      .send({ resourceType: 'Basic', code: { text: 'linked' }, author: { reference } });
    expect(expectOutcome(res, 400)).toContain('Basic.author.reference');
    expect(await countBasics()).toBe(before);
  });

  test('nor is a script URL stored in any url or uri (here a coding system)', async () => {
    const before = await countBasics();
    const res = await t.http
      .post(`${FHIR}/Basic`)
      .set('Authorization', admin)
      .set('Content-Type', JSON_FHIR)
      .send({ resourceType: 'Basic', code: { coding: [{ system: 'javascript:alert(1)', code: 'x' }] } });
    expect(expectOutcome(res, 400)).toContain('Basic.code.coding[0].system');
    expect(await countBasics()).toBe(before);
  });

  test('relative, absolute https and urn:uuid references are stored', async () => {
    for (const author of [{ reference: organization }, { reference: 'https://other.example/fhir/Practitioner/9' }, { reference: 'urn:uuid:0b3c5e8a-1b2c-4d5e-8f90-123456789abc' }]) {
      await t.http.post(`${FHIR}/Basic`).set('Authorization', admin).set('Content-Type', JSON_FHIR).send({ resourceType: 'Basic', code: { text: 'linked' }, author }).expect(201);
    }
  });
});
