/**
 * The search features stock clients call (issue 15), end to end over HTTP with real tokens, PostgreSQL and Redis:
 * chained parameters and `_has`, `_include:iterate` / `_revinclude:iterate`, `:text` on strings and tokens, and the
 * terminology modifiers `:in`, `:not-in`, `:below`, `:above` against our and R4's ValueSets and CodeSystems. Each new
 * way to reach other resources goes only through what the caller may see: a partner's `_has` over a Condition its
 * consent does not cover finds nothing, exactly as over one never stored, and an iterated include never brings it in.
 */
import type { AuditEvent, Bundle, Condition, Observation, OperationOutcome, Organization, Patient, Resource } from '@medplum/fhirtypes';
import { buildSharingConsent, SHARE_CATEGORY_SYSTEM, type ShareCategory } from '@carecircle/consent';
import { buildObservation, buildOrganization, buildPatient } from '@carecircle/testing';
import { registerSystemClient } from '../smart-test-clients';
import { createdAs, createTestApp, fhirClient, type TestApp } from '../test-harness';

let t: TestApp;
let practice: Organization;
let partner: Organization;
let practiceToken: string;
let partnerToken: string;
let smith: Patient;
let jones: Patient;
let progress: Observation;
let psy: Observation;
let trauma: Condition;

const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const SHARE_VALUE_SET = 'https://carecircle.dev/fhir/ValueSet/share-category';
const TRAUMA_CODE = { system: 'http://snomed.info/sct', code: '417746004', display: 'Traumatic injury' };
const SIGNED = { sourceAttachment: { contentType: 'application/pdf', title: 'Signed release', data: 'JVBERi0=' } };

const ref = (r: Resource) => `${r.resourceType}/${r.id}`;

function tagged<T extends Resource>(resource: T, category: ShareCategory): T {
  return { ...resource, meta: { ...resource.meta, tag: [{ system: SHARE_CATEGORY_SYSTEM, code: category }] } };
}

const created = <T extends Resource>(token: string, resource: T): Promise<T> => createdAs(t, token, resource);

/** The search's answer: status, and the `Type/id` of its matches and of its includes, each sorted. */
async function search(token: string, query: string): Promise<{ status: number; matches: string[]; included: string[]; total?: number; body: unknown }> {
  const res = await fhirClient(t, token).get(query);
  const bundle = res.body as Bundle;
  const refs = (mode: string) => (bundle.entry ?? []).filter((e) => e.search?.mode === mode).map((e) => ref(e.resource as Resource)).sort();
  return { status: res.status, matches: refs('match'), included: refs('include'), ...(bundle.total === undefined ? {} : { total: bundle.total }), body: res.body };
}

/** The bundle without what differs between any two answers (id, time, the self link that repeats the query). */
function comparable(body: unknown): unknown {
  const bundle = body as Bundle;
  return { type: bundle.type, total: bundle.total, entry: bundle.entry ?? [] };
}

beforeAll(async () => {
  t = await createTestApp();
  practice = await created(t.adminToken, buildOrganization({ name: 'Riverside Practice' }));
  partner = await created(t.adminToken, buildOrganization({ name: 'Partner Clinic' }));
  practiceToken = await (await registerSystemClient(t, ref(practice), 'system/*.cruds')).token();
  partnerToken = await (await registerSystemClient(t, ref(partner), 'system/*.rs')).token();
  smith = await created(practiceToken, buildPatient({ name: [{ family: 'Smith-Jones', given: ['Ana'] }], managingOrganization: { reference: ref(practice) } }));
  jones = await created(practiceToken, buildPatient({ name: [{ family: 'Okoro', given: ['Ben'] }], managingOrganization: { reference: ref(practice) } }));
  // The partner may see Smith's demographics and progress, never the trauma history.
  await created(practiceToken, { ...buildSharingConsent({ patient: ref(smith), custodian: ref(practice), recipients: [ref(partner)], categories: ['demographics', 'progress'] }), ...SIGNED });
  trauma = await created(
    practiceToken,
    tagged<Condition>({ resourceType: 'Condition', subject: { reference: ref(smith) }, code: { coding: [TRAUMA_CODE], text: 'Major traumatic event, childhood' } }, 'trauma-history'),
  );
  progress = await created(
    practiceToken,
    tagged(buildObservation(smith.id ?? '', { code: { coding: [{ system: 'http://loinc.org', code: '89574-8', display: 'Exercise adherence' }], text: 'Weekly exercise adherence' }, focus: [{ reference: ref(trauma) }] }), 'progress'),
  );
  psy = await created(
    practiceToken,
    tagged(buildObservation(jones.id ?? '', { code: { coding: [{ system: ACT_CODE, code: 'PSY' }] } }), 'progress'),
  );
}, 60_000);
afterAll(async () => {
  await t.close();
});

describe('chained parameters', () => {
  test('follow a reference to a resource meeting the chained parameter, with or without a type, one or more links', async () => {
    expect((await search(practiceToken, 'Observation?subject.family=smith')).matches).toEqual([ref(progress)]);
    expect((await search(practiceToken, 'Observation?subject:Patient.name=okoro')).matches).toEqual([ref(psy)]);
    expect((await search(practiceToken, 'Observation?subject:Patient.organization.name=riverside')).matches).toEqual([ref(progress), ref(psy)].sort());
    expect((await search(practiceToken, 'Observation?subject:Patient.organization.name=partner')).matches).toEqual([]);
    expect((await search(practiceToken, 'Observation?subject.family=nobody')).matches).toEqual([]);
  });

  test('a chain through a resource the caller may not see finds nothing, as through one never stored', async () => {
    // The practice sees the Condition the progress note focuses on; the partner sees the note but not the Condition.
    expect((await search(practiceToken, `Observation?focus:Condition.code=${TRAUMA_CODE.code}`)).matches).toEqual([ref(progress)]);
    const hidden = await search(partnerToken, `Observation?focus:Condition.code=${TRAUMA_CODE.code}`);
    const absent = await search(partnerToken, 'Observation?focus:Condition.code=never-stored');
    expect(hidden.status).toBe(200);
    expect(comparable(hidden.body)).toEqual(comparable(absent.body));
    expect(hidden.total).toBe(0);
    // Through what the partner may see, the chain works for it too.
    expect((await search(partnerToken, 'Observation?subject:Patient.family=smith')).matches).toEqual([ref(progress)]);
  });

  test('pages of a chained search and of a _has', async () => {
    const paged = async (query: string): Promise<string[]> => {
      const first = (await fhirClient(t, practiceToken).get(`${query}&_count=1`)).body as Bundle;
      expect(first.total).toBe(2);
      const next = first.link?.find((l) => l.relation === 'next')?.url?.replace(`${t.services.config.fhirBaseUrl}/`, '') ?? '';
      const second = (await fhirClient(t, practiceToken).get(next)).body as Bundle;
      return [...(first.entry ?? []), ...(second.entry ?? [])].map((e) => ref(e.resource as Resource)).sort();
    };
    expect(await paged('Observation?subject:Patient.organization.name=riverside')).toEqual([ref(progress), ref(psy)].sort());
    expect(await paged('Patient?_has:Observation:subject:status=final')).toEqual([ref(smith), ref(jones)].sort());
  });

  test('bad chains are 400 naming the parameter, never 500', async () => {
    for (const query of ['Observation?code.name=x', 'Observation?subject:Practitioner.family=x', 'Observation?subject.nonsense=x', 'Observation?subject.organization.partof.partof.name=x']) {
      const res = await fhirClient(t, practiceToken).get(query);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect((res.body as OperationOutcome).resourceType).toBe('OperationOutcome');
    }
  });
});

describe('_has', () => {
  test('finds what a resource meeting the parameter points at', async () => {
    expect((await search(practiceToken, `Patient?_has:Condition:subject:code=${TRAUMA_CODE.code}`)).matches).toEqual([ref(smith)]);
    expect((await search(practiceToken, `Patient?_has:Observation:subject:code=${ACT_CODE}|PSY`)).matches).toEqual([ref(jones)]);
    expect((await search(partnerToken, 'Patient?_has:Observation:subject:code=89574-8')).matches).toEqual([ref(smith)]);
    // Nested: the practice whose clients have a trauma Condition.
    expect((await search(practiceToken, `Organization?_has:Patient:organization:_has:Condition:subject:code=${TRAUMA_CODE.code}`)).matches).toEqual([ref(practice)]);
  });

  test("a partner's _has over a Condition it may not see finds nothing, the same answer as over one never stored", async () => {
    const hidden = await search(partnerToken, `Patient?_has:Condition:subject:code=${TRAUMA_CODE.code}`);
    const absent = await search(partnerToken, 'Patient?_has:Condition:subject:code=never-stored');
    expect(hidden.status).toBe(200);
    expect(hidden.matches).toEqual([]);
    expect(comparable(hidden.body)).toEqual(comparable(absent.body));
    const count = await search(partnerToken, `Patient?_has:Condition:subject:code:text=traumatic&_summary=count`);
    expect(count.total).toBe(0);
  });

  test('a Consent a partner is shown in part is no link: its other recipients cannot be found through it', async () => {
    const other = await created(t.adminToken, buildOrganization({ name: 'Other Clinic' }));
    const lee = await created(practiceToken, buildPatient({ name: [{ family: 'Lee' }] }));
    await created(practiceToken, { ...buildSharingConsent({ patient: ref(lee), custodian: ref(practice), recipients: [ref(partner), ref(other)], categories: ['demographics'] }), ...SIGNED });
    const query = `Organization?_has:Consent:actor:patient=${ref(lee)}`;
    expect((await search(practiceToken, query)).matches).toEqual([ref(partner), ref(other)].sort());
    // The partner is shown that Consent without the other recipient, so neither is found through its actors.
    expect((await search(partnerToken, query)).matches).toEqual([]);
    expect((await search(partnerToken, `Consent?actor:Organization.name=other`)).matches).toEqual([]);
    expect((await search(practiceToken, `Consent?actor:Organization.name=other`)).total).toBe(1);
  });

  test('_has from a type the caller may not search is 403; a malformed one 400', async () => {
    const appOnly = await (await registerSystemClient(t, ref(partner), 'system/Patient.rs')).token();
    expect((await fhirClient(t, appOnly).get(`Patient?_has:Condition:subject:code=${TRAUMA_CODE.code}`)).status).toBe(403);
    expect((await fhirClient(t, appOnly).get(`Observation?subject.family=x`)).status).toBe(403);
    for (const query of ['Patient?_has:Condition:subject=x', 'Patient?_has:Condition:code:code=x', 'Patient?_has:Nothing:subject:code=x']) {
      expect({ query, status: (await fhirClient(t, practiceToken).get(query)).status }).toEqual({ query, status: 400 });
    }
  });
});

describe('_include:iterate and _revinclude:iterate', () => {
  test('follow references from what was included, level by level', async () => {
    const plain = await search(practiceToken, `Observation?_id=${progress.id}&_include=Observation:subject`);
    expect(plain.included).toEqual([ref(smith)]);
    // Without :iterate, an _include starts from the matches only.
    expect((await fhirClient(t, practiceToken).get(`Observation?_id=${progress.id}&_include=Patient:organization`)).status).toBe(400);
    const iterated = await search(practiceToken, `Observation?_id=${progress.id}&_include=Observation:subject&_include:iterate=Patient:organization`);
    expect(iterated.included).toEqual([ref(practice), ref(smith)].sort());
    const back = await search(practiceToken, `Organization?_id=${practice.id}&_revinclude=Patient:organization&_revinclude:iterate=Observation:subject`);
    // The practice's clients (others made by later tests too) and, one level on, their Observations.
    expect(back.included).toEqual(expect.arrayContaining([ref(smith), ref(jones), ref(progress), ref(psy)]));
    expect(back.included.filter((r) => !r.startsWith('Patient/'))).toEqual([ref(progress), ref(psy)].sort());
  });

  test('an iterated include only shapes the answer: it is no criterion of a conditional update or delete', async () => {
    const put = await fhirClient(t, practiceToken).put('Observation?_include:iterate=Observation:subject', { ...progress, id: undefined });
    expect(put.status).toBe(400);
    const del = await t.http.delete('/fhir/R4/Observation?_revinclude:iterate=Provenance:target').set('Authorization', `Bearer ${practiceToken}`);
    expect(del.status).toBe(400);
  });

  test('an iterated include passes the same gate as a plain one: what the partner may not see is never included', async () => {
    const query = `Patient?_id=${smith.id}&_revinclude:iterate=Observation:subject&_include:iterate=Observation:focus&_revinclude:iterate=Condition:subject`;
    expect((await search(practiceToken, query)).included).toEqual([ref(progress), ref(trauma)].sort());
    const audited = async (resource: Resource) =>
      ((await fhirClient(t, t.adminToken).get(`AuditEvent?entity=${ref(resource)}&_summary=count`)).body as Bundle<AuditEvent>).total ?? 0;
    const before = { progress: await audited(progress), trauma: await audited(trauma) };
    const seen = await search(partnerToken, query);
    expect(seen.matches).toEqual([ref(smith)]);
    expect(seen.included).toEqual([ref(progress)]);
    // The included note is disclosed as the search's result, and recorded so; the Condition it was not shown is not.
    expect({ progress: await audited(progress), trauma: await audited(trauma) }).toEqual({ progress: before.progress + 1, trauma: before.trauma });
  });
});

describe(':text', () => {
  test('on a token, the words of CodeableConcept.text or Coding.display', async () => {
    expect((await search(practiceToken, 'Condition?code:text=traumatic')).matches).toEqual([ref(trauma)]);
    expect((await search(practiceToken, 'Condition?code:text=CHILD major')).matches).toEqual([ref(trauma)]);
    expect((await search(practiceToken, 'Observation?code:text=adherence')).matches).toEqual([ref(progress)]);
    expect((await search(practiceToken, 'Condition?code:text=raumatic')).matches).toEqual([]);
    expect((await search(partnerToken, 'Condition?code:text=traumatic')).matches).toEqual([]);
  });

  test('on a string, each word begins a word of the value', async () => {
    expect((await search(practiceToken, 'Patient?name:text=jones')).matches).toEqual([ref(smith)]);
    expect((await search(practiceToken, 'Patient?name:text=ana smi')).matches).toEqual([ref(smith)]);
    expect((await search(practiceToken, 'Patient?name:text=ones')).matches).toEqual([]);
  });
});

describe(':in, :not-in, :below, :above', () => {
  test('against our ValueSet and R4 ones', async () => {
    expect((await search(practiceToken, `Observation?_tag:in=${SHARE_VALUE_SET}`)).matches).toEqual([ref(progress), ref(psy)].sort());
    expect((await search(practiceToken, `Observation?_id=${progress.id},${psy.id}&_tag:not-in=${SHARE_VALUE_SET}`)).matches).toEqual([]);
    expect((await search(practiceToken, `Patient?_id=${smith.id}&gender:in=http://hl7.org/fhir/ValueSet/administrative-gender`)).matches).toEqual([ref(smith)]);
    expect((await search(practiceToken, `Patient?_id=${smith.id}&gender:not-in=http://hl7.org/fhir/ValueSet/administrative-gender`)).matches).toEqual([]);
  });

  test('in a CodeSystem hierarchy (v3 ActCode) and in our flat share categories', async () => {
    expect((await search(practiceToken, `Observation?code:below=${ACT_CODE}|_InformationSensitivityPolicy`)).matches).toEqual([ref(psy)]);
    expect((await search(practiceToken, `Observation?code:below=${ACT_CODE}|PSY`)).matches).toEqual([ref(psy)]);
    expect((await search(practiceToken, `Observation?code:below=${ACT_CODE}|ETH`)).matches).toEqual([]);
    expect((await search(practiceToken, `Observation?code:above=${ACT_CODE}|PSY`)).matches).toEqual([ref(psy)]);
    expect((await search(practiceToken, `Observation?_tag:below=${SHARE_CATEGORY_SYSTEM}|progress`)).matches).toEqual([ref(progress), ref(psy)].sort());
  });

  test('an unknown ValueSet or CodeSystem is 400 naming it', async () => {
    const unknownSet = await fhirClient(t, practiceToken).get('Observation?code:in=https://example.org/ValueSet/nothing-here');
    expect(unknownSet.status).toBe(400);
    expect(JSON.stringify(unknownSet.body)).toContain('https://example.org/ValueSet/nothing-here');
    const unknownSystem = await fhirClient(t, practiceToken).get('Observation?code:below=https://example.org/CodeSystem/none|x');
    expect(unknownSystem.status).toBe(400);
    expect(JSON.stringify(unknownSystem.body)).toContain('https://example.org/CodeSystem/none');
    expect((await fhirClient(t, practiceToken).get('Observation?code:below=PSY')).status).toBe(400);
    expect((await fhirClient(t, practiceToken).get('Observation?_id:in=x')).status).toBe(400);
  });
});
