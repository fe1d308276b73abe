import { indexSearchParameter, OperationOutcomeError } from '@medplum/core';
import type { CarePlan, Patient, Resource } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from '@carecircle/fhir';
import { buildTask, minimalObservation, minimalOrganization, minimalPatient, minimalPractitioner, rejectionOf, rejectionStatus } from '@carecircle/testing';
import { fullAccess } from '../access-policy';
import { createRepository } from '../resource-repository';
import type { Repository } from '../repository';
import { openPostgresTestStore, type TestStore } from '../testing/test-store';
import { getSupportedSearchParameters, resetSearchParameterCache } from './search-parameters';

/** A number parameter of our own (R4 has none on the types we store), to exercise number search end to end. */
function registerNumberParameter(): void {
  loadFhirDefinitions();
  indexSearchParameter({
    resourceType: 'SearchParameter',
    url: 'https://carecircle.dev/fhir/SearchParameter/observation-value-integer',
    name: 'value-integer',
    status: 'active',
    description: 'Integer value of the observation',
    code: 'value-integer',
    base: ['Observation'],
    type: 'number',
    expression: 'Observation.value.ofType(integer)',
  });
  resetSearchParameterCache();
}

describe('search (PostgreSQL)', () => {
  let store: TestStore;
  let repo: Repository;
  const ids: Record<string, string> = {};

  const ids$ = (resources: Resource[]) => resources.map((r) => r.id).sort();
  const search = (type: string, query: string | Record<string, string>) => repo.search(type, new URLSearchParams(query));
  const matchIds = async (type: string, query: string | Record<string, string>) => ids$((await search(type, query)).matches);
  const expectIds = (...names: string[]) => names.map((n) => ids[n]).sort();

  beforeAll(async () => {
    registerNumberParameter();
    store = await openPostgresTestStore();
    repo = createRepository(store.db, fullAccess, { now: () => new Date('2025-06-01T00:00:00Z') });
    const create = async (name: string, resource: Resource) => {
      ids[name] = (await repo.create(resource)).resource.id!;
    };
    await create('org', minimalOrganization('Clinic North'));
    await create('doc', minimalPractitioner('House'));
    await create('zoe', minimalPatient('Zoë', 'Anna', {
      birthDate: '1980-05-17',
      gender: 'female',
      identifier: [{ system: 'https://example.org/mrn', value: 'MRN-1' }],
      managingOrganization: { reference: `Organization/${ids.org}` },
      generalPractitioner: [{ reference: `Practitioner/${ids.doc}` }],
      telecom: [{ system: 'email', value: 'zoe@example.org' }],
    }));
    await create('bob', minimalPatient('Smith', 'Bob', {
      birthDate: '1975',
      gender: 'male',
      identifier: [{ value: 'NOSYS-2' }],
      managingOrganization: { reference: `Organization/${ids.org}` },
    }));
    await create('odd', minimalPatient("O'Brien_100%\\x", 'Hostile', { birthDate: '2001-02-03', gender: 'other' }));
    await create('obs1', minimalObservation(ids.zoe!, '1234-5', '2024-05-01T10:00:00Z', { valueInteger: 100 }));
    await create('obs2', minimalObservation(ids.zoe!, '9999-9', '2024-05-02T23:30:00+02:00', { valueInteger: 7 }));
    await create('obs3', minimalObservation(ids.bob!, '1234-5', '2023-12-31', {
      effectiveDateTime: undefined,
      effectivePeriod: { start: '2023-12-30', end: '2024-01-02' },
    }));
    await create('task', buildTask(ids.zoe!, { focus: { reference: `Observation/${ids.obs1}` } }));
  });
  afterAll(async () => {
    await store.close();
  });

  describe('string', () => {
    test('default is a case- and accent-insensitive prefix match on any name part', async () => {
      expect(await matchIds('Patient', 'name=zoe')).toEqual(expectIds('zoe'));
      expect(await matchIds('Patient', 'name=ANN')).toEqual(expectIds('zoe'));
      expect(await matchIds('Patient', 'family=smi')).toEqual(expectIds('bob'));
      expect(await matchIds('Patient', 'name=mith')).toEqual([]);
    });

    test(':exact matches the whole value with case and accents; :contains matches inside', async () => {
      expect(await matchIds('Patient', { 'family:exact': 'Zoë' })).toEqual(expectIds('zoe'));
      expect(await matchIds('Patient', { 'family:exact': 'zoe' })).toEqual([]);
      expect(await matchIds('Patient', 'name:contains=MIT')).toEqual(expectIds('bob'));
    });

    test('hostile values (quotes, LIKE wildcards, backslashes, SQL) are matched literally', async () => {
      expect(await matchIds('Patient', { family: "o'brien_100%\\" })).toEqual(expectIds('odd'));
      expect(await matchIds('Patient', { 'name:contains': '_' })).toEqual(expectIds('odd'));
      expect(await matchIds('Patient', { 'name:contains': '%' })).toEqual(expectIds('odd'));
      expect(await matchIds('Patient', { name: '%' })).toEqual([]);
      expect(await matchIds('Patient', { name: "'; DROP TABLE resource_version; --" })).toEqual([]);
      expect(await matchIds('Patient', { identifier: "x'|\\'; SELECT 1" })).toEqual([]);
      expect(await matchIds('Patient', { organization: "Organization/'--" })).toEqual([]);
    });
  });

  describe('token', () => {
    test('system|code, code, |code and system| forms', async () => {
      expect(await matchIds('Patient', 'identifier=https://example.org/mrn|MRN-1')).toEqual(expectIds('zoe'));
      expect(await matchIds('Patient', 'identifier=MRN-1')).toEqual(expectIds('zoe'));
      expect(await matchIds('Patient', 'identifier=|NOSYS-2')).toEqual(expectIds('bob'));
      expect(await matchIds('Patient', 'identifier=|MRN-1')).toEqual([]);
      expect(await matchIds('Patient', 'identifier=https://example.org/mrn|')).toEqual(expectIds('zoe'));
      expect(await matchIds('Observation', 'code=http://loinc.org|1234-5')).toEqual(expectIds('obs1', 'obs3'));
      expect(await matchIds('Patient', 'email=zoe@example.org')).toEqual(expectIds('zoe'));
    });

    test('comma is OR, repetition is AND, :not excludes, :missing tests presence', async () => {
      expect(await matchIds('Patient', 'gender=female,male')).toEqual(expectIds('zoe', 'bob'));
      expect(await matchIds('Patient', 'gender=female&name=zoe')).toEqual(expectIds('zoe'));
      expect(await matchIds('Patient', 'gender=female&name=bob')).toEqual([]);
      expect(await matchIds('Patient', 'gender:not=female')).toEqual(expectIds('bob', 'odd'));
      expect(await matchIds('Patient', 'identifier:missing=true')).toEqual(expectIds('odd'));
      expect(await matchIds('Patient', 'identifier:missing=false')).toEqual(expectIds('zoe', 'bob'));
    });

    test('_id matches ids, comma separated', async () => {
      expect(await matchIds('Patient', `_id=${ids.zoe},${ids.bob}`)).toEqual(expectIds('zoe', 'bob'));
    });
  });

  describe('reference', () => {
    test('Type/id, bare id with one target type, :Type modifier, and any-type bare id', async () => {
      expect(await matchIds('Observation', `subject=Patient/${ids.zoe}`)).toEqual(expectIds('obs1', 'obs2'));
      expect(await matchIds('Observation', `patient=${ids.zoe}`)).toEqual(expectIds('obs1', 'obs2'));
      expect(await matchIds('Observation', { 'subject:Patient': ids.bob! })).toEqual(expectIds('obs3'));
      expect(await matchIds('Observation', `subject=${ids.bob}`)).toEqual(expectIds('obs3'));
      expect(await matchIds('Patient', `general-practitioner=Practitioner/${ids.doc}`)).toEqual(expectIds('zoe'));
      expect(await rejectionStatus(search('Observation', { 'subject:Basic': 'x' }))).toBe(400);
    });

    test('an absolute URL matches the reference as written', async () => {
      const { resource } = await repo.create(
        minimalObservation('ignored', '1111-1', '2024-01-01', { subject: { reference: 'https://other.example/fhir/Patient/77' } }),
      );
      expect(await matchIds('Observation', 'subject=https://other.example/fhir/Patient/77')).toEqual([resource.id]);
      expect(await matchIds('Observation', 'subject=Patient/77')).toEqual([]);
      await repo.delete('Observation', resource.id!);
    });
  });

  describe('date', () => {
    test('partial dates and prefixes follow FHIR range semantics', async () => {
      expect(await matchIds('Patient', 'birthdate=1980')).toEqual(expectIds('zoe'));
      expect(await matchIds('Patient', 'birthdate=1980-05')).toEqual(expectIds('zoe'));
      expect(await matchIds('Patient', 'birthdate=1980-05-17')).toEqual(expectIds('zoe'));
      // bob's birthDate is the whole of 1975: not within one day of it
      expect(await matchIds('Patient', 'birthdate=1975-06-01')).toEqual([]);
      expect(await matchIds('Patient', 'birthdate=1975')).toEqual(expectIds('bob'));
      expect(await matchIds('Patient', 'birthdate=gt1980')).toEqual(expectIds('odd'));
      expect(await matchIds('Patient', 'birthdate=ge1980')).toEqual(expectIds('zoe', 'odd'));
      expect(await matchIds('Patient', 'birthdate=lt1980-05-17')).toEqual(expectIds('bob'));
      expect(await matchIds('Patient', 'birthdate=le1980-05-17')).toEqual(expectIds('bob', 'zoe'));
      expect(await matchIds('Patient', 'birthdate=ne1980')).toEqual(expectIds('bob', 'odd'));
      expect(await matchIds('Patient', 'birthdate=sa1980-12-31')).toEqual(expectIds('odd'));
      expect(await matchIds('Patient', 'birthdate=eb1980-01-01')).toEqual(expectIds('bob'));
      // 1975 as a whole reaches past mid-1975, so ge admits it (the range above the value intersects)
      expect(await matchIds('Patient', 'birthdate=ge1975-06-01&birthdate=lt1990')).toEqual(expectIds('zoe', 'bob'));
      expect(await matchIds('Patient', 'birthdate=ge1976&birthdate=lt1990')).toEqual(expectIds('zoe'));
    });

    test('datetimes with time zones, periods, and ap', async () => {
      // 2024-05-02T23:30+02:00 is 21:30Z on May 2nd
      expect(await matchIds('Observation', 'date=2024-05-02')).toEqual(expectIds('obs2'));
      expect(await matchIds('Observation', 'date=2024-05-02T21:30Z')).toEqual(expectIds('obs2'));
      expect(await matchIds('Observation', { date: 'eq2024-05-02T23:30:00+02:00' })).toEqual(expectIds('obs2'));
      expect(await matchIds('Observation', 'date=2024-05')).toEqual(expectIds('obs1', 'obs2'));
      // obs3 is a period from 2023-12-30 to 2024-01-02: within 2023 only partly
      expect(await matchIds('Observation', 'date=2023')).toEqual([]);
      expect(await matchIds('Observation', 'date=ge2024-01-01&date=lt2024-02')).toEqual(expectIds('obs3'));
      expect(await matchIds('Observation', 'date=ap2024-05-01')).toEqual(expectIds('obs1', 'obs2'));
    });

    test('_lastUpdated searches the version timestamp', async () => {
      expect((await matchIds('Patient', '_lastUpdated=gt2000-01-01')).length).toBeGreaterThanOrEqual(3);
      expect(await matchIds('Patient', '_lastUpdated=lt2000-01-01')).toEqual([]);
    });
  });

  describe('number and uri', () => {
    test('numbers honour implicit precision and prefixes', async () => {
      expect(await matchIds('Observation', 'value-integer=100')).toEqual(expectIds('obs1'));
      expect(await matchIds('Observation', 'value-integer=100.4')).toEqual([]);
      expect(await matchIds('Observation', 'value-integer=1e2')).toEqual(expectIds('obs1'));
      expect(await matchIds('Observation', 'value-integer=gt7')).toEqual(expectIds('obs1'));
      expect(await matchIds('Observation', 'value-integer=le7')).toEqual(expectIds('obs2'));
      expect(await matchIds('Observation', 'value-integer=ne100')).toEqual(expectIds('obs2', 'obs3'));
      expect(await rejectionStatus(search('Observation', 'value-integer=abc'))).toBe(400);
      expect(await rejectionStatus(search('Observation', 'value-integer=sa5'))).toBe(400);
    });

    test('uri parameters match exactly', async () => {
      const plan: CarePlan = {
        resourceType: 'CarePlan',
        status: 'active',
        intent: 'plan',
        subject: { reference: `Patient/${ids.zoe}` },
        instantiatesUri: ['https://carecircle.dev/protocols/intake'],
      };
      const { resource } = await repo.create(plan);
      expect(await matchIds('CarePlan', 'instantiates-uri=https://carecircle.dev/protocols/intake')).toEqual([resource.id]);
      expect(await matchIds('CarePlan', 'instantiates-uri=https://carecircle.dev/protocols')).toEqual([]);
      expect(await rejectionStatus(search('CarePlan', 'instantiates-uri:below=https://carecircle.dev'))).toBe(400);
      await repo.delete('CarePlan', resource.id!);
    });
  });

  describe('sort, count, total, summary', () => {
    test('_sort by a string ascending and descending, ending with a total order', async () => {
      const asc = (await search('Patient', '_sort=family')).matches.map((p) => (p as Patient).name?.[0]?.family);
      expect(asc).toEqual(["O'Brien_100%\\x", 'Smith', 'Zoë']);
      const desc = (await search('Patient', '_sort=-birthdate')).matches.map((p) => p.id);
      expect(desc).toEqual([ids.odd, ids.zoe, ids.bob]);
      const byId = (await search('Patient', '_sort=-_id')).matches.map((p) => p.id);
      expect(byId).toEqual([...byId].sort().reverse());
      const byUpdated = (await search('Patient', '_sort=_lastUpdated,gender')).matches.map((p) => p.id);
      expect(byUpdated).toEqual([ids.zoe, ids.bob, ids.odd]);
    });

    test('multi-valued parameters sort by their least value ascending and greatest descending', async () => {
      const a = (await repo.create(minimalPatient('Multi', 'A', { name: [{ family: 'Bbb' }, { family: 'Yyy' }] }))).resource;
      const b = (await repo.create(minimalPatient('Multi', 'B', { name: [{ family: 'Ccc' }, { family: 'Xxx' }] }))).resource;
      const query = `_id=${a.id},${b.id}`;
      expect((await search('Patient', `${query}&_sort=family`)).matches.map((p) => p.id)).toEqual([a.id, b.id]);
      expect((await search('Patient', `${query}&_sort=-family`)).matches.map((p) => p.id)).toEqual([a.id, b.id]);
      await repo.delete('Patient', a.id!);
      await repo.delete('Patient', b.id!);
    });

    test('_count limits the page and offers next; _count=0 and _summary=count give only the total', async () => {
      const page = await search('Patient', '_count=2&_sort=_id');
      expect(page.matches).toHaveLength(2);
      expect(page.total).toBe(3);
      expect(page.next).toBeDefined();
      expect(page.previous).toBeUndefined();
      // the next link repeats the query with the token, which is bound to it
      const rest = await search('Patient', { _count: '2', _sort: '_id', _page: page.next! });
      expect(rest.matches).toHaveLength(1);
      expect(rest.previous).toBeDefined();
      expect(rest.next).toBeUndefined();
      expect(await search('Patient', '_count=0')).toEqual({ matches: [], included: [], total: 3 });
      expect(await search('Patient', '_summary=count&gender=male')).toEqual({ matches: [], included: [], total: 1 });
      expect((await search('Patient', '_count=5000')).matches).toHaveLength(3);
    });

    test('_total=none leaves the total out; estimate and accurate give it', async () => {
      expect((await search('Patient', '_total=none')).total).toBeUndefined();
      expect((await search('Patient', '_total=estimate')).total).toBe(3);
      expect((await search('Patient', '_total=accurate')).total).toBe(3);
    });
  });

  describe('_include and _revinclude', () => {
    test('_include adds the referenced resources once, excluding the matches themselves', async () => {
      const result = await search('Observation', `subject=Patient/${ids.zoe}&_include=Observation:subject`);
      expect(ids$(result.matches)).toEqual(expectIds('obs1', 'obs2'));
      expect(ids$(result.included)).toEqual(expectIds('zoe'));
      const typed = await search('Patient', `_include=Patient:general-practitioner:Practitioner&_include=Patient:organization`);
      expect(ids$(typed.included)).toEqual(expectIds('doc', 'org'));
    });

    test('_revinclude adds resources pointing at the matches, with Type:param:Target', async () => {
      const result = await search('Observation', `_id=${ids.obs1}&_revinclude=Task:focus`);
      expect(ids$(result.included)).toEqual(expectIds('task'));
      const patients = await search('Patient', `_id=${ids.zoe}&_revinclude=Observation:subject:Patient&_revinclude=Task:patient`);
      expect(ids$(patients.included)).toEqual(expectIds('obs1', 'obs2', 'task'));
    });

    test('malformed includes are 400', async () => {
      expect(await rejectionStatus(search('Observation', '_include=Patient:organization'))).toBe(400);
      expect(await rejectionStatus(search('Observation', '_include=Observation:code'))).toBe(400);
      expect(await rejectionStatus(search('Observation', '_include=Observation'))).toBe(400);
      expect(await rejectionStatus(search('Observation', '_revinclude=Task:focus:Patient'))).toBe(400);
      expect(await rejectionStatus(search('Observation', '_include=*'))).toBe(400);
    });
  });

  describe('bad input', () => {
    test.each([
      ['unknown parameter', 'shoe-size=42'],
      ['chain through a parameter the type does not have', 'subject.name=zoe'],
      ['chain through a parameter that is not a reference', 'gender.name=zoe'],
      ['unsupported modifier', 'name:below=zoe'],
      ['a ValueSet we cannot expand', 'gender:in=http://x'],
      ['a CodeSystem without a hierarchy we hold', 'gender:below=http://x|y'],
      ['unsupported date prefix', 'birthdate=xx1980'],
      ['malformed date', 'birthdate=1980-13-01'],
      ['impossible date', 'birthdate=2023-02-29'],
      ['quantity parameter', 'value-quantity=5'],
      ['composite parameter', 'code-value-quantity=x$5'],
      ['special parameter', '_text=hello'],
      ['bad _count', '_count=-1'],
      ['bad _sort', '_sort=shoe-size'],
      ['bad _total', '_total=maybe'],
      ['bad _summary', '_summary=everything'],
      ['repeated _count', '_count=1&_count=2'],
      ['bad :missing', 'gender:missing=perhaps'],
      ['garbage _page', '_page=not-a-token'],
    ])('%s is a 400 OperationOutcome', async (_name, query) => {
      const type = query.startsWith('value-') || query.startsWith('code-') ? 'Observation' : 'Patient';
      expect(await rejectionStatus(search(type, query))).toBe(400);
    });

    test('errors name the parameter but never echo the value', async () => {
      const secret = 'Jane-Doe-1234567890-secret-diagnosis';
      for (const query of [`birthdate=${secret}`, `shoe-size=${secret}`, `_count=${secret}`, `gender:missing=${secret}`]) {
        const err = await rejectionOf(search('Patient', query));
        expect(err).toBeInstanceOf(OperationOutcomeError);
        expect(JSON.stringify(err.outcome)).not.toContain('secret');
        expect(JSON.stringify(err.outcome)).not.toContain('Jane');
      }
      const unknown = await rejectionOf(search('Patient', { "x'; DROP TABLE--<script>": '1' }));
      expect(JSON.stringify(unknown.outcome)).not.toMatch(/[<>';]/);
    });

    test('forged page tokens are 400, never a database error', async () => {
      const forge = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      for (const token of [
        forge({ v: 1, s: '10:5:', o: 0, c: 10 }),
        forge({ v: 1, s: '5:10:11', o: 0, c: 10 }),
        forge({ v: 1, s: '5:10:7,6', o: 0, c: 10 }),
        forge({ v: 1, s: "1:2:'", o: 0, c: 10 }),
        forge({ v: 1, s: '1:2:', o: -1, c: 10 }),
        forge({ v: 1, s: '1:2:', o: 1.5, c: 10 }),
        forge({ v: 1, s: '1:2:', o: 0, c: 10, x: 1 }),
        forge({ v: 2, s: '1:2:', o: 0, c: 10 }),
        forge([1, 2]),
        'a'.repeat(5000),
      ]) {
        expect(await rejectionStatus(search('Patient', { _page: token }))).toBe(400);
      }
    });
  });

  test('getSupportedSearchParameters lists exactly the parameters that work, with their definitions', async () => {
    const params = getSupportedSearchParameters('Patient');
    const names = params.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['_id', '_lastUpdated', 'name', 'birthdate', 'identifier', 'organization']));
    expect(names).not.toContain('_project');
    expect(names).not.toContain('_compartment');
    expect(params.find((p) => p.name === 'name')).toMatchObject({
      type: 'string',
      definition: 'http://hl7.org/fhir/SearchParameter/Patient-name',
    });
    const observation = getSupportedSearchParameters('Observation').map((p) => p.name);
    expect(observation).not.toContain('value-quantity');
    expect(observation).not.toContain('code-value-quantity');
    expect(getSupportedSearchParameters('Medication')).toEqual([]);
    // every advertised parameter can be searched and sorted without error
    for (const type of ['Patient', 'Observation', 'Task', 'Consent', 'CarePlan', 'Communication', 'AuditEvent']) {
      for (const param of getSupportedSearchParameters(type)) {
        const value = { string: 'a', token: 'a', reference: 'Patient/a', date: '2024', number: '1', uri: 'http://a' }[param.type];
        await expect(search(type, { [param.name]: value, _sort: param.name })).resolves.toBeDefined();
      }
    }
  });
});
