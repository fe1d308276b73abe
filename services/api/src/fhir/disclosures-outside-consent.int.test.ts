/**
 * Disclosures outside consent (issue 17, findings 1-4), over HTTP with real tokens, PostgreSQL and Redis: a role
 * outside its period or an organization marked inactive names nobody (on every read path, and in
 * `$disclosure-check`), also when the period ends while nothing is written; a resource naming a second client is
 * disclosed only under both clients' consents; a reference to a resource the reader may not see is withheld on every
 * read path; a Consent whose references the server cannot resolve as it will match them is refused.
 */
import type { Bundle, CarePlan, Consent, Goal, Parameters as FhirParameters, Patient, Practitioner, PractitionerRole, Resource } from '@medplum/fhirtypes';
import { buildSharingConsent, type SharingConsentFacts } from '@carecircle/consent';
import { buildOrganization, buildPatient, buildPractitioner } from '@carecircle/testing';
import { logInUser, registerApp, registerSystemClient } from '../smart-test-clients';
import { createdAs, createTestApp, fhirClient, type TestApp } from '../test-harness';

let t: TestApp;
let admin: string;
let practice: string;
let partner: string;
let practiceToken: string;
let partnerToken: string;
let appId: string;

const ref = (r: Resource) => `${r.resourceType}/${r.id}`;
const SIGNED = { sourceAttachment: { contentType: 'application/pdf', title: 'Signed release', data: 'JVBERi0=' } };

function as(token: string, headers: Record<string, string> = {}) {
  return fhirClient(t, token, headers);
}

const created = <T extends Resource>(token: string, resource: T): Promise<T> => createdAs(t, token, resource);

async function recordConsent(facts: Omit<SharingConsentFacts, 'custodian'>): Promise<Consent> {
  return created(practiceToken, { ...buildSharingConsent({ custodian: practice, ...facts }), ...SIGNED });
}

async function userToken(fhirUser: string, organization: string): Promise<string> {
  return (await logInUser(t, appId, { fhirUser, organization }, 'user/*.rs user/Goal.u')).access_token;
}

async function permit(patient: Patient, recipient: string, category: string): Promise<boolean | undefined> {
  const res = await as(practiceToken).get(`Patient/${patient.id}/$disclosure-check?recipient=${recipient}&category=${category}`);
  expect({ status: res.status, body: res.status === 200 ? undefined : res.body }).toEqual({ status: 200, body: undefined });
  return (res.body as FhirParameters).parameter?.find((p) => p.name === 'permit')?.valueBoolean;
}

/** What `token` gets for `goal` and its client on every read path: one status (or match count) per path. */
async function readPaths(token: string, goal: Goal, patient: Patient) {
  const client = as(token);
  const batch = (await client.post('', { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: ref(goal) } }] })).body as Bundle;
  return {
    read: (await client.get(ref(goal))).status,
    vread: (await client.get(`${ref(goal)}/_history/1`)).status,
    search: ((await client.get(`Goal?subject=${ref(patient)}`)).body as Bundle).total,
    batch: batch.entry?.[0]?.response?.status?.split(' ')[0],
    summary: (await client.get(`Patient/${patient.id}/$summary`)).status,
    ifNoneMatch: (await as(token, { 'If-None-Match': 'W/"1"' }).get(ref(goal))).status,
    write: (await client.put(ref(goal), { ...goal, description: { text: 'changed' } })).status,
  };
}
const HIDDEN = { read: 404, vread: 404, search: 0, batch: '404', summary: 404, ifNoneMatch: 404, write: 404 };

beforeAll(async () => {
  t = await createTestApp();
  admin = t.adminToken;
  practice = `Organization/${(await created(admin, buildOrganization({ name: 'Riverside Therapy' }))).id}`;
  partner = `Organization/${(await created(admin, buildOrganization({ name: 'Eastside Clinic' }))).id}`;
  practiceToken = await (await registerSystemClient(t, practice, 'system/*.cruds')).token();
  partnerToken = await (await registerSystemClient(t, partner, 'system/*.rs')).token();
  appId = await registerApp(t, 'launch/patient patient/*.rs user/*.rs user/Goal.u');
});
afterAll(async () => {
  await t.close();
});

describe('1. a role outside its period, or at an organization marked inactive, names nobody', () => {
  let client: Patient;
  let goal: Goal;
  let drEnded: Practitioner;
  let drCurrent: Practitioner;
  let endedRole: PractitionerRole;
  let currentRole: PractitionerRole;

  beforeAll(async () => {
    client = await created(practiceToken, buildPatient({ name: [{ family: 'Period' }] }));
    goal = await created<Goal>(practiceToken, { resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'Sleep' }, subject: { reference: ref(client) } });
    drEnded = await created(admin, buildPractitioner({ name: [{ family: 'Ended' }] }));
    drCurrent = await created(admin, buildPractitioner({ name: [{ family: 'Current' }] }));
    endedRole = await created<PractitionerRole>(admin, {
      resourceType: 'PractitionerRole',
      active: true,
      period: { start: '2019-01-01', end: '2020-01-01' },
      practitioner: { reference: ref(drEnded) },
      organization: { reference: partner },
    });
    currentRole = await created<PractitionerRole>(admin, {
      resourceType: 'PractitionerRole',
      active: true,
      period: { start: '2019-01-01' },
      practitioner: { reference: ref(drCurrent) },
      organization: { reference: partner },
    });
    await recordConsent({ patient: ref(client), recipients: [ref(endedRole), ref(currentRole)], categories: ['treatment-goals'] });
  });

  test('the practitioner of an ended role is shown nothing, on any read path; a role in its period still grants', async () => {
    expect(await readPaths(await userToken(ref(drEnded), partner), goal, client)).toEqual(HIDDEN);
    const current = await readPaths(await userToken(ref(drCurrent), partner), goal, client);
    expect(current).toEqual({ read: 200, vread: 200, search: 1, batch: '200', summary: 200, ifNoneMatch: 304, write: 403 });
  });

  test('$disclosure-check answers the same', async () => {
    expect(await permit(client, ref(endedRole), 'treatment-goals')).toBe(false);
    expect(await permit(client, ref(drEnded), 'treatment-goals')).toBe(false);
    expect(await permit(client, ref(currentRole), 'treatment-goals')).toBe(true);
  });

  test('a role whose period ends stops granting when it ends, with nothing written', async () => {
    const dr = await created<Practitioner>(admin, buildPractitioner({ name: [{ family: 'Soon' }] }));
    const end = new Date(Date.now() + 3000).toISOString();
    const role = await created<PractitionerRole>(admin, {
      resourceType: 'PractitionerRole',
      period: { start: '2019-01-01', end },
      practitioner: { reference: ref(dr) },
      organization: { reference: partner },
    });
    const soonClient = await created(practiceToken, buildPatient({ name: [{ family: 'Soon' }] }));
    const soonGoal = await created<Goal>(practiceToken, { resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'Walk' }, subject: { reference: ref(soonClient) } });
    await recordConsent({ patient: ref(soonClient), recipients: [ref(role)], categories: ['treatment-goals'] });
    const token = await userToken(ref(dr), partner);
    expect((await as(token).get(ref(soonGoal))).status).toBe(200);
    expect(await permit(soonClient, ref(role), 'treatment-goals')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(end) - Date.now()) + 200));
    expect((await as(token).get(ref(soonGoal))).status).toBe(404);
    expect(await permit(soonClient, ref(role), 'treatment-goals')).toBe(false);
  });

  test('a referral to a role outside its period is refused (422), as to an inactive one', async () => {
    await recordConsent({ patient: ref(client), recipients: [ref(endedRole), ref(currentRole)], categories: ['care-plan'] });
    const referral = (performer: string) => ({
      resourceType: 'ServiceRequest',
      status: 'active',
      intent: 'order',
      category: [{ coding: [{ system: 'http://snomed.info/sct', code: '3457005' }] }],
      code: { text: 'Consultation' },
      subject: { reference: ref(client) },
      requester: { reference: practice },
      performer: [{ reference: performer }],
    });
    const ended = await as(practiceToken).post('ServiceRequest', referral(ref(endedRole)));
    expect({ status: ended.status, expression: (ended.body as { issue?: Array<{ expression?: string[] }> }).issue?.[0]?.expression }).toEqual({ status: 422, expression: ['ServiceRequest.performer'] });
    expect((await as(practiceToken).post('ServiceRequest', referral(ref(currentRole)))).status).toBe(201);
  });

  test("a Task owned by a role is the role's organization's to move only while the role is in force", async () => {
    const taskClient = await created(practiceToken, buildPatient({ name: [{ family: 'Owner' }] }));
    const dr = await created<Practitioner>(admin, buildPractitioner({ name: [{ family: 'Owner' }] }));
    const end = new Date(Date.now() + 4000).toISOString();
    const endingRole = await created<PractitionerRole>(admin, { resourceType: 'PractitionerRole', period: { end }, practitioner: { reference: ref(dr) }, organization: { reference: partner } });
    await recordConsent({ patient: ref(taskClient), recipients: [partner, ref(endingRole)], categories: ['care-plan'] });
    const referral = await as(practiceToken).post('ServiceRequest', {
      resourceType: 'ServiceRequest',
      status: 'active',
      intent: 'order',
      category: [{ coding: [{ system: 'http://snomed.info/sct', code: '3457005' }] }],
      code: { text: 'Consultation' },
      subject: { reference: ref(taskClient) },
      requester: { reference: practice },
      performer: [{ reference: ref(endingRole) }],
    });
    expect(referral.status).toBe(201);
    const partnerWriter = await (await registerSystemClient(t, partner, 'system/*.rs system/Task.u')).token();
    const task = ((await as(partnerWriter).get(`Task?focus=ServiceRequest/${(referral.body as Resource).id}`)).body as Bundle).entry?.[0]?.resource as Resource;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(end) - Date.now()) + 200));
    expect((await as(partnerWriter).put(ref(task), { ...task, status: 'accepted' })).status).toBe(403);
  });

  test('an organization marked inactive acts for nobody: its systems, and the roles at it', async () => {
    const closed = await created(admin, buildOrganization({ name: 'Closed Clinic' }));
    const closedToken = await (await registerSystemClient(t, ref(closed), 'system/*.rs')).token();
    const dr = await created<Practitioner>(admin, buildPractitioner({ name: [{ family: 'Closed' }] }));
    const role = await created<PractitionerRole>(admin, { resourceType: 'PractitionerRole', practitioner: { reference: ref(dr) }, organization: { reference: ref(closed) } });
    const closedClient = await created(practiceToken, buildPatient({ name: [{ family: 'Closed' }] }));
    const closedGoal = await created<Goal>(practiceToken, { resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'Rest' }, subject: { reference: ref(closedClient) } });
    await recordConsent({ patient: ref(closedClient), recipients: [ref(closed)], categories: ['treatment-goals'] });
    await recordConsent({ patient: ref(closedClient), recipients: [ref(role)], categories: ['treatment-goals'] });
    const drToken = await userToken(ref(dr), ref(closed));
    expect((await as(closedToken).get(ref(closedGoal))).status).toBe(200);
    expect((await as(drToken).get(ref(closedGoal))).status).toBe(200);
    expect((await as(admin).put(ref(closed), { ...closed, active: false })).status).toBe(200);
    expect((await as(closedToken).get(ref(closedGoal))).status).toBe(404);
    expect((await as(drToken).get(ref(closedGoal))).status).toBe(404);
    expect(await permit(closedClient, ref(closed), 'treatment-goals')).toBe(false);
    expect(await permit(closedClient, ref(role), 'treatment-goals')).toBe(false);
  });
});

describe('2. a resource about one client that names another is disclosed only under both clients\' consent', () => {
  let alex: Patient;
  let blake: Patient;
  let aboutBoth: Resource[];
  let alexOnly: Resource;

  beforeAll(async () => {
    alex = await created(practiceToken, buildPatient({ name: [{ family: 'Alex' }] }));
    blake = await created(practiceToken, buildPatient({ name: [{ family: 'Blake' }] }));
    const blakeRef = { reference: ref(blake), display: 'Blake (partner)' };
    aboutBoth = [
      await created(practiceToken, { resourceType: 'Observation', status: 'final', code: { text: 'couple session' }, subject: { reference: ref(alex) }, focus: [blakeRef] }),
      await created(practiceToken, { resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'Talk weekly' }, subject: { reference: ref(alex) }, expressedBy: blakeRef }),
      await created(practiceToken, {
        resourceType: 'Observation',
        status: 'final',
        code: { text: 'noted by' },
        subject: { reference: ref(alex) },
        contained: [{ resourceType: 'RelatedPerson', id: 'p', patient: blakeRef }],
        performer: [{ reference: '#p' }],
      }),
      await created(practiceToken, { resourceType: 'Observation', status: 'final', code: { text: 'absolute' }, subject: { reference: ref(alex) }, focus: [{ reference: `${t.services.config.fhirBaseUrl}/${ref(blake)}/_history/1` }] }),
    ];
    alexOnly = await created(practiceToken, { resourceType: 'Observation', status: 'final', code: { text: 'alone' }, subject: { reference: ref(alex) } });
    await recordConsent({ patient: ref(alex), recipients: [partner], categories: ['progress', 'treatment-goals'] });
  });

  test('under the first client\'s consent only, nothing naming the second is disclosed, on any read path', async () => {
    const client = as(partnerToken);
    for (const resource of aboutBoth) {
      expect({ resource: ref(resource), status: (await client.get(ref(resource))).status }).toEqual({ resource: ref(resource), status: 404 });
    }
    expect((await client.get(ref(alexOnly))).status).toBe(200);
    const search = (await client.get(`Observation?subject=${ref(alex)}`)).body as Bundle;
    expect(search.entry?.map((e) => ref(e.resource as Resource))).toEqual([ref(alexOnly)]);
    const summary = (await client.get(`Patient/${alex.id}/$summary`)).body as Bundle;
    expect((summary.entry ?? []).slice(1).map((e) => ref(e.resource as Resource)).sort()).toEqual([ref(alex), ref(alexOnly)].sort());
    const batch = (await client.post('', { resourceType: 'Bundle', type: 'batch', entry: aboutBoth.map((r) => ({ request: { method: 'GET', url: ref(r) } })) })).body as Bundle;
    expect(batch.entry?.map((e) => e.response?.status?.split(' ')[0])).toEqual(aboutBoth.map(() => '404'));
  });

  test('a search by the second client is no oracle: it finds nothing, as for anyone else', async () => {
    const stranger = await created(practiceToken, buildPatient({ name: [{ family: 'Stranger' }] }));
    for (const patient of [blake, stranger]) {
      expect(((await as(partnerToken).get(`Observation?focus=${ref(patient)}`)).body as Bundle).total).toBe(0);
      expect(((await as(partnerToken).get(`Goal?subject=${ref(alex)}&_count=0&_total=accurate`)).body as Bundle).total).toBe(0);
    }
  });

  test('once the second client consents too, they are disclosed', async () => {
    await recordConsent({ patient: ref(blake), recipients: [partner], categories: ['progress', 'treatment-goals'] });
    for (const resource of aboutBoth) {
      expect({ resource: ref(resource), status: (await as(partnerToken).get(ref(resource))).status }).toEqual({ resource: ref(resource), status: 200 });
    }
    // The relative focus; the absolute one is indexed as written.
    expect(((await as(partnerToken).get(`Observation?focus=${ref(blake)}`)).body as Bundle).entry?.map((e) => ref(e.resource as Resource))).toEqual([ref(aboutBoth[0] as Resource)]);
  });
});

describe('3. a reference to a resource the reader may not see is withheld, on every read path', () => {
  const WITHHELD = { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'masked' }] };
  const SUBSETTED = expect.objectContaining({ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' });
  let client: Patient;
  let trauma: Resource;
  let plan: CarePlan;
  let pointer: Resource;

  /** Checks one shown CarePlan: the trauma reference withheld (no id, no display), the rest as stored. */
  function expectWithheld(shown: Resource | undefined, path: string): void {
    const body = JSON.stringify(shown);
    expect({ path, id: shown?.id, leaks: [trauma.id as string, 'assault'].filter((text) => body.includes(text)) }).toEqual({ path, id: plan.id, leaks: [] });
    expect((shown as CarePlan).supportingInfo).toEqual([WITHHELD, { reference: 'Condition/never-stored', display: 'Dangling' }]);
    expect((shown as CarePlan).subject).toEqual({ reference: ref(client) });
    expect(shown?.meta?.tag).toEqual(expect.arrayContaining([SUBSETTED]));
    expect(shown?.meta?.versionId).toBe(plan.meta?.versionId);
  }

  beforeAll(async () => {
    client = await created(practiceToken, buildPatient({ name: [{ family: 'Withheld' }] }));
    trauma = await created(practiceToken, {
      resourceType: 'Condition',
      meta: { tag: [{ system: 'https://carecircle.dev/fhir/CodeSystem/share-category', code: 'trauma-history' }] },
      code: { text: 'assault' },
      subject: { reference: ref(client) },
    });
    plan = await created<CarePlan>(practiceToken, {
      resourceType: 'CarePlan',
      status: 'active',
      intent: 'plan',
      subject: { reference: ref(client) },
      supportingInfo: [
        { reference: ref(trauma), display: 'Trauma history: assault 2024' },
        { reference: 'Condition/never-stored', display: 'Dangling' },
      ],
    });
    pointer = await created(practiceToken, {
      resourceType: 'Observation',
      meta: { tag: [{ system: 'https://carecircle.dev/fhir/CodeSystem/share-category', code: 'care-plan' }] },
      status: 'final',
      code: { text: 'see' },
      subject: { reference: ref(client) },
      focus: [{ reference: ref(trauma), display: 'Trauma history: assault 2024' }],
    });
    await recordConsent({ patient: ref(client), recipients: [partner], categories: ['care-plan'] });
  });

  test('a search through a reference to what the reader may not see finds nothing: no oracle of what is referenced', async () => {
    const found = async (query: string) => ((await as(partnerToken).get(query)).body as Bundle).entry?.map((e) => ref(e.resource as Resource)) ?? [];
    expect(await found(`Observation?subject=${ref(client)}`)).toEqual([ref(pointer)]);
    expect(await found(`Observation?focus=${ref(trauma)}`)).toEqual([]);
    expect(await found(`Observation?focus=${trauma.id}`)).toEqual([]);
    expect(await found(`Observation?focus:Condition=${trauma.id}`)).toEqual([]);
    expect(await found(`Observation?focus=${ref(trauma)},${ref(client)}`)).toEqual([]);
    expect(await found(`Observation?focus=${ref(trauma)}`.replace('Observation?', 'Observation?_id=' + pointer.id + '&'))).toEqual([]);
    expect(await found(`Observation?focus=${ref(trauma)}`)).toEqual(await found('Observation?focus=Condition/never-stored'));
    // The practice sees the target, so its search finds the reference.
    expect(((await as(practiceToken).get(`Observation?focus=${trauma.id}`)).body as Bundle).entry?.map((e) => ref(e.resource as Resource))).toEqual([ref(pointer)]);
  });

  test('read, vread, search, history, batch and $summary show the marker, never the id or display', async () => {
    const client_ = as(partnerToken);
    expect(((await client_.get(ref(trauma))).status)).toBe(404);
    expectWithheld((await client_.get(ref(plan))).body as Resource, 'read');
    expectWithheld((await client_.get(`${ref(plan)}/_history/1`)).body as Resource, 'vread');
    expectWithheld(((await client_.get(`CarePlan?subject=${ref(client)}`)).body as Bundle).entry?.[0]?.resource, 'search');
    expectWithheld(((await client_.get(`CarePlan?_id=${plan.id}&_include=CarePlan:subject`)).body as Bundle).entry?.[0]?.resource, 'search with include');
    expectWithheld(((await client_.get(`Patient?_id=${client.id}&_revinclude=CarePlan:subject`)).body as Bundle).entry?.find((e) => e.resource?.resourceType === 'CarePlan')?.resource, 'revinclude');
    expectWithheld(((await client_.get(`${ref(plan)}/_history`)).body as Bundle).entry?.[0]?.resource, 'instance history');
    const typeHistory = (await client_.get('CarePlan/_history')).body as Bundle;
    expectWithheld(typeHistory.entry?.find((e) => e.resource?.id === plan.id)?.resource, 'type history');
    const batch = (await client_.post('', { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: ref(plan) } }, { request: { method: 'GET', url: `CarePlan?_id=${plan.id}` } }] })).body as Bundle;
    expectWithheld(batch.entry?.[0]?.resource, 'batch read');
    expectWithheld((batch.entry?.[1]?.resource as Bundle | undefined)?.entry?.[0]?.resource, 'batch search');
    const summary = (await client_.get(`Patient/${client.id}/$summary`)).body as Bundle;
    expect(JSON.stringify(summary)).not.toContain('assault');
    expect(JSON.stringify(summary)).not.toContain(trauma.id as string);
    expectWithheld(summary.entry?.find((e) => e.resource?.resourceType === 'CarePlan')?.resource, '$summary');
  });

  test('whoever may see the target sees the reference as stored: the practice, the client, and the partner once the consent covers it', async () => {
    const stored = plan.supportingInfo;
    expect(((await as(practiceToken).get(ref(plan))).body as CarePlan).supportingInfo).toEqual(stored);
    const clientToken = (await logInUser(t, appId, { fhirUser: ref(client) }, 'launch/patient patient/*.rs')).access_token;
    expect(((await as(clientToken).get(ref(plan))).body as CarePlan).supportingInfo).toEqual(stored);
    await recordConsent({ patient: ref(client), recipients: [partner], categories: ['trauma-history'] });
    const shown = (await as(partnerToken).get(ref(plan))).body as CarePlan;
    expect(shown.supportingInfo).toEqual(stored);
    expect(shown.meta?.tag).not.toEqual(expect.arrayContaining([SUBSETTED]));
    expect(((await as(partnerToken).get(`Observation?focus=${ref(trauma)}`)).body as Bundle).entry?.map((e) => ref(e.resource as Resource))).toEqual([ref(pointer)]);
  });
});

describe('3. the clients a resource is about are shown, and searched, as stored', () => {
  test('a recipient of a revoked consent still finds it by its client, whom it may no longer see', async () => {
    const client = await created(practiceToken, buildPatient({ name: [{ family: 'Revoked' }] }));
    const consent = await recordConsent({ patient: ref(client), recipients: [partner], categories: ['progress'] });
    expect((await as(practiceToken).put(ref(consent), { ...consent, status: 'inactive' })).status).toBe(200);
    expect((await as(partnerToken).get(ref(client))).status).toBe(404);
    const found = (await as(partnerToken).get(`Consent?patient=${ref(client)}`)).body as Bundle;
    expect(found.entry?.map((e) => ref(e.resource as Resource))).toEqual([ref(consent)]);
    expect((found.entry?.[0]?.resource as Consent).patient).toEqual({ reference: ref(client) });
  });
});

describe('4. a Consent names what it shares with as the server matches it, or is refused', () => {
  let client: Patient;

  beforeAll(async () => {
    client = await created(practiceToken, buildPatient({ name: [{ family: 'Versioned' }] }));
  });

  test.each([
    ['a versioned actor', (c: Consent) => ({ ...c, provision: { ...c.provision, actor: [{ ...c.provision?.actor?.[0], reference: { reference: `${partner}/_history/1` } }] } }), 'Consent.provision.actor[0].reference'],
    ['a versioned patient', (c: Consent) => ({ ...c, patient: { reference: `${c.patient?.reference}/_history/1` }, performer: [{ reference: `${c.patient?.reference}/_history/1` }] }), 'Consent.patient'],
    ['a versioned performer', (c: Consent) => ({ ...c, performer: [{ reference: `${c.patient?.reference}/_history/1` }] }), 'Consent.performer[0]'],
    ['a versioned organization', (c: Consent) => ({ ...c, organization: [{ reference: `${practice}/_history/1` }] }), 'Consent.organization[0]'],
  ])('%s is 422 naming it, and nothing is stored', async (_name, change, expression) => {
    const consent = { ...buildSharingConsent({ custodian: practice, patient: ref(client), recipients: [partner], categories: ['treatment-goals'] }), ...SIGNED };
    const res = await as(practiceToken).post('Consent', change(consent));
    expect({ status: res.status, expression: (res.body as { issue?: Array<{ expression?: string[] }> }).issue?.[0]?.expression }).toEqual({ status: 422, expression: [expression] });
    expect(((await as(practiceToken).get(`Consent?patient=${ref(client)}`)).body as Bundle).total).toBe(0);
  });

  test('the same consent naming the actor as Type/id is stored and grants', async () => {
    const goal = await created<Goal>(practiceToken, { resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'Swim' }, subject: { reference: ref(client) } });
    await recordConsent({ patient: ref(client), recipients: [partner], categories: ['treatment-goals'] });
    expect((await as(partnerToken).get(ref(goal))).status).toBe(200);
  });
});
