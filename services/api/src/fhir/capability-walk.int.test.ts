/**
 * The CapabilityStatement tells the truth: a walk over /metadata calls, for every resource type it lists, each listed
 * interaction, search parameter (each modifier list its documentation gives, on the first parameter giving it, and
 * chains: to the first type it says it chains to, and without a type), `_include`, `_revinclude` (also `:iterate`),
 * `_has` and operation, and expects none to answer 400, 404, 405 or 501. Instance-level interactions run on one
 * resource per type built below (a type listed without one fails the walk, so a new type needs a fixture here). It also
 * checks what the statement declares of conditional reads and of Subscription (the Backport IG's profile and one topic
 * canonical per topic).
 */
import { buildSharingConsent } from '@carecircle/consent';
import { findConformanceResourceByUrl } from '@carecircle/fhir';
import { buildBackportSubscription, SUBSCRIPTION_TOPICS } from '@carecircle/notify';
import { buildObservation, buildOrganization, buildPatient, buildPractitioner } from '@carecircle/testing';
import type { CapabilityStatement, CapabilityStatementRestResource, Resource } from '@medplum/fhirtypes';
import { createTestApp, fhirClient, type TestApp } from '../test-harness';

let t: TestApp;
let statement: CapabilityStatement;
const fixtures = new Map<string, Resource>();
const NOT_ANSWERED = [400, 404, 405, 501];

async function create(resource: Resource): Promise<Resource> {
  const res = await fhirClient(t, t.adminToken).post(resource.resourceType, resource);
  if (res.status !== 201) {
    throw new Error(`creating ${resource.resourceType} answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
  fixtures.set(resource.resourceType, res.body as Resource);
  return res.body as Resource;
}

beforeAll(async () => {
  t = await createTestApp();
  statement = (await t.http.get('/fhir/R4/metadata').expect(200)).body as CapabilityStatement;
  const practice = await create(buildOrganization({ name: 'Practice' }));
  const orgRef = `Organization/${practice.id}`;
  const patient = await create(buildPatient({ managingOrganization: { reference: orgRef } }));
  const patientRef = `Patient/${patient.id}`;
  const practitioner = await create(buildPractitioner());
  const observation = await create(buildObservation(patient.id ?? ''));
  const subject = { reference: patientRef };
  await create({ resourceType: 'PractitionerRole', practitioner: { reference: `Practitioner/${practitioner.id}` }, organization: { reference: orgRef } });
  await create({ resourceType: 'OrganizationAffiliation', organization: { reference: orgRef }, participatingOrganization: { reference: orgRef } });
  await create({ resourceType: 'Endpoint', status: 'active', connectionType: { system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: 'hl7-fhir-rest' }, payloadType: [{ text: 'FHIR' }], address: 'https://partner.example/fhir' });
  await create({ resourceType: 'Basic', code: { text: 'note' }, subject });
  await create({ resourceType: 'Condition', subject, code: { text: 'Sleep' } });
  await create({ resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'Sleep' }, subject });
  await create({ resourceType: 'CarePlan', status: 'active', intent: 'plan', subject });
  await create({ resourceType: 'CareTeam', status: 'active', subject });
  await create({ resourceType: 'Communication', status: 'completed', subject });
  await create({ resourceType: 'Composition', status: 'final', type: { text: 'Note' }, subject, date: '2026-01-01', author: [{ reference: orgRef }], title: 'Note' });
  await create({ resourceType: 'DocumentReference', status: 'current', subject, content: [{ attachment: { contentType: 'text/plain', data: 'aGk=' } }] });
  const serviceRequest = await create({ resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject, code: { text: 'Follow-up' }, requester: { reference: orgRef }, performer: [{ reference: orgRef }] });
  await create({
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    code: { coding: [{ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'fulfill' }] },
    focus: { reference: `ServiceRequest/${serviceRequest.id}` },
    for: subject,
    owner: { reference: orgRef },
    requester: { reference: orgRef },
  });
  await create({ resourceType: 'Provenance', target: [{ reference: `Observation/${observation.id}` }], recorded: '2026-01-01T00:00:00Z', agent: [{ who: { reference: orgRef } }] });
  await create({
    resourceType: 'AuditEvent',
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' },
    recorded: '2026-01-01T00:00:00Z',
    agent: [{ who: { reference: orgRef }, requestor: true }],
    source: { observer: { reference: orgRef } },
    entity: [{ what: { reference: `Observation/${observation.id}` } }],
  });
  await create({ ...buildSharingConsent({ patient: patientRef, custodian: orgRef, recipients: [orgRef], categories: ['progress'] }), sourceAttachment: { contentType: 'text/plain', data: 'c2lnbmVk' } });
  await create(
    buildBackportSubscription({ topic: SUBSCRIPTION_TOPICS[0]?.url ?? '', endpoint: 'https://partner.example/hook', secret: 'a-partner-chosen-secret-of-at-least-32-chars' }),
  );
}, 60_000);
afterAll(async () => {
  await t.close();
});

const resources = (): CapabilityStatementRestResource[] => statement.rest?.[0]?.resource ?? [];
const admin = () => fhirClient(t, t.adminToken);

/** A value each search parameter type accepts. */
function sampleValue(type: string | undefined, name: string, entry: CapabilityStatementRestResource): string | undefined {
  switch (name) {
    case '_count':
      return '1';
    case '_sort':
      return '_id';
    case '_total':
      return 'none';
    case '_summary':
      return 'count';
    case '_elements':
      return 'id';
    case '_include':
      return entry.searchInclude?.[0];
    case '_revinclude':
      return entry.searchRevInclude?.[0];
  }
  switch (type) {
    case 'token':
      return 'x';
    case 'string':
      return 'x';
    case 'date':
      return 'ge2020-01-01';
    case 'reference':
      return 'Patient/x';
    case 'uri':
      return 'http://x.example';
    case 'number':
      return '1';
    case 'quantity':
      return '1';
    default:
      return undefined;
  }
}

test('every listed resource type answers each listed search parameter, _include and _revinclude', async () => {
  const failures: string[] = [];
  for (const entry of resources()) {
    const type = entry.type;
    for (const param of entry.searchParam ?? []) {
      const value = sampleValue(param.type, param.name, entry);
      if (value === undefined) {
        continue;
      }
      const res = await admin().get(`${type}?${param.name}=${encodeURIComponent(value)}`);
      if (NOT_ANSWERED.includes(res.status)) {
        failures.push(`${type}?${param.name}: ${res.status}`);
      }
    }
    for (const [name, values] of [
      ['_include', entry.searchInclude ?? []],
      ['_revinclude', entry.searchRevInclude ?? []],
    ] as const) {
      for (const value of values) {
        const res = await admin().get(`${type}?${name}=${encodeURIComponent(value)}`);
        if (NOT_ANSWERED.includes(res.status)) {
          failures.push(`${type}?${name}=${value}: ${res.status}`);
        }
      }
    }
  }
  expect(failures).toEqual([]);
}, 300_000);

/** A value each listed modifier accepts (a ValueSet and a code of a hierarchy we hold for the terminology ones). */
function modifierValue(modifier: string): string {
  switch (modifier) {
    case 'missing':
      return 'true';
    case 'in':
    case 'not-in':
      return 'https://carecircle.dev/fhir/ValueSet/share-category';
    case 'below':
    case 'above':
      return 'https://carecircle.dev/fhir/CodeSystem/share-category|progress';
    default:
      return 'x';
  }
}

test('every listed modifier, chain, _has and :iterate include of every listed type is answered', async () => {
  const failures: string[] = [];
  const call = async (type: string, query: string) => {
    const res = await admin().get(`${type}?${query}`);
    if (NOT_ANSWERED.includes(res.status)) {
      failures.push(`${type}?${query}: ${res.status}`);
    }
  };
  let modifiers = 0;
  let chains = 0;
  for (const entry of resources().filter((r) => fixtures.has(r.type))) {
    const type = entry.type;
    // Each modifier list a parameter of this type and kind declares, walked on the first parameter declaring it (the
    // lists come from one table per kind, with _id's and _lastUpdated's own): far fewer calls than one per parameter
    // and modifier (about 1700).
    const walkedLists = new Set<string>();
    for (const param of entry.searchParam ?? []) {
      const documentation = param.documentation ?? '';
      const list = /Modifiers: ([^.]*)\./.exec(documentation)?.[1];
      if (list && !walkedLists.has(`${param.type}:${list}`)) {
        walkedLists.add(`${param.type}:${list}`);
        for (const modifier of list.split(', ').map((m) => m.replace(/^:/, ''))) {
          modifiers++;
          await call(type, `${param.name}:${modifier}=${encodeURIComponent(modifierValue(modifier))}`);
        }
      }
      // The first type each reference chains to, by name, and the chain without a type (to every target).
      const [target] = /Chains to: ([A-Za-z, ]*) /.exec(documentation)?.[1]?.split(', ') ?? [];
      if (target) {
        chains++;
        await call(type, `${param.name}:${target}._id=x`);
        await call(type, `${param.name}._lastUpdated=ge2020-01-01`);
      }
      if (param.name === '_has') {
        const [source, code] = (entry.searchRevInclude?.[0] ?? '').split(':');
        await call(type, `_has:${source}:${code}:_id=x`);
      }
    }
    for (const value of (entry.searchInclude ?? []).slice(0, 1)) {
      await call(type, `_include:iterate=${encodeURIComponent(value)}`);
    }
    for (const value of (entry.searchRevInclude ?? []).slice(0, 1)) {
      await call(type, `_revinclude:iterate=${encodeURIComponent(value)}`);
    }
  }
  expect(failures).toEqual([]);
  // The statement does list them (a walk over nothing would pass).
  expect(modifiers).toBeGreaterThan(100);
  expect(chains).toBeGreaterThan(20);
  const patient = resources().find((r) => r.type === 'Patient');
  expect(patient?.searchParam?.map((p) => p.name)).toContain('_has');
  expect(patient?.searchParam?.find((p) => p.name === 'name')?.documentation).toContain(':text');
  expect(patient?.searchParam?.find((p) => p.name === 'gender')?.documentation).toContain(':in, :not-in, :below, :above');
}, 300_000);

test('every listed interaction of every listed type is answered', async () => {
  const failures: string[] = [];
  const check = (what: string, status: number) => {
    if (NOT_ANSWERED.includes(status)) {
      failures.push(`${what}: ${status}`);
    }
  };
  for (const entry of resources()) {
    const type = entry.type;
    const codes = (entry.interaction ?? []).map((i) => i.code);
    if (codes.includes('search-type')) {
      check(`search ${type}`, (await admin().get(type)).status);
    }
    if (codes.includes('history-type')) {
      check(`history ${type}`, (await admin().get(`${type}/_history`)).status);
    }
    const instanceCodes = codes.filter((c) => ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'create'].includes(c));
    if (instanceCodes.length === 0) {
      continue;
    }
    const fixture = fixtures.get(type);
    if (!fixture) {
      // Conformance resources (served from fhir-profiles/) are read by id.
      const any = (await admin().get(type)).body as { entry?: { resource?: Resource }[] };
      const first = any.entry?.[0]?.resource;
      if (!first) {
        failures.push(`${type}: no resource to walk its instance interactions on`);
        continue;
      }
      check(`read ${type}`, (await admin().get(`${type}/${first.id}`)).status);
      continue;
    }
    const path = `${type}/${fixture.id}`;
    if (codes.includes('read')) check(`read ${type}`, (await admin().get(path)).status);
    if (codes.includes('vread')) check(`vread ${type}`, (await admin().get(`${path}/_history/1`)).status);
    if (codes.includes('history-instance')) check(`history ${path}`, (await admin().get(`${path}/_history`)).status);
    if (codes.includes('update')) {
      const current = (await admin().get(path)).body as Resource;
      check(`update ${type}`, (await admin().put(path, current)).status);
    }
    if (codes.includes('patch')) {
      const res = await t.http
        .patch(`/fhir/R4/${path}`)
        .set('Authorization', `Bearer ${t.adminToken}`)
        .set('Content-Type', 'application/json-patch+json')
        .send([{ op: 'test', path: '/id', value: fixture.id }]);
      check(`patch ${type}`, res.status);
    }
    for (const operation of entry.operation ?? []) {
      const query = operation.name === 'disclosure-check' ? '?recipient=Organization/x&category=progress' : '';
      // An operation that changes state is POSTed (a Parameters body), as its definition says.
      const definition = findConformanceResourceByUrl(operation.definition);
      // An operation defined at type level only (`instance: false`) is called on the type.
      const target = definition?.resourceType === 'OperationDefinition' && definition.instance === false ? type : path;
      if (definition?.resourceType === 'OperationDefinition' && definition.affectsState) {
        const parameter = (definition.parameter ?? []).filter((p) => p.use === 'in').map((p) => ({ name: p.name, valueString: 'x' }));
        check(`$${operation.name} on ${type}`, (await admin().post(`${target}/$${operation.name}`, { resourceType: 'Parameters', parameter })).status);
        continue;
      }
      check(`$${operation.name} on ${type}`, (await admin().get(`${target}/$${operation.name}${query}`)).status);
    }
    if (codes.includes('delete')) {
      const res = await t.http.delete(`/fhir/R4/${path}`).set('Authorization', `Bearer ${t.adminToken}`);
      check(`delete ${type}`, res.status);
    }
  }
  expect(failures).toEqual([]);
}, 300_000);

test('conditional reads, Subscription profile and topics are declared as served', () => {
  for (const entry of resources().filter((r) => fixtures.has(r.type))) {
    expect(entry.conditionalRead).toBe('full-support');
  }
  const subscription = resources().find((r) => r.type === 'Subscription');
  expect(subscription?.supportedProfile).toEqual(['http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription']);
  expect(
    subscription?.extension
      ?.filter((e) => e.url === 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/capabilitystatement-subscriptiontopic-canonical')
      .map((e) => e.valueCanonical),
  ).toEqual(SUBSCRIPTION_TOPICS.map((topic) => topic.url));
  expect(subscription?.documentation).toContain('https://carecircle.dev/fhir/StructureDefinition/subscription-secret');
});

test('every OperationDefinition canonical the statement names resolves, by id and by url', async () => {
  const canonicals = resources().flatMap((r) => (r.operation ?? []).map((o) => o.definition));
  expect(canonicals.length).toBeGreaterThan(0);
  for (const canonical of canonicals) {
    const id = canonical.split('/').pop() ?? '';
    const byId = await admin().get(`OperationDefinition/${id}`).expect(200);
    expect(byId.body.url).toBe(canonical);
    const byUrl = await admin().get(`OperationDefinition?url=${encodeURIComponent(canonical)}`).expect(200);
    expect(byUrl.body.entry?.map((e: { resource: Resource }) => e.resource.id)).toEqual([id]);
  }
});

test('searchRevInclude lists only the reference parameters that can point at the type', () => {
  const patient = resources().find((r) => r.type === 'Patient');
  const organization = resources().find((r) => r.type === 'Organization');
  expect(patient?.searchRevInclude).toContain('Observation:subject');
  expect(organization?.searchRevInclude).not.toContain('Observation:subject');
  expect(patient?.searchRevInclude).not.toEqual(organization?.searchRevInclude);
});
