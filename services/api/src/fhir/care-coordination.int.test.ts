/**
 * Care coordination (issue 5, workflow part) end to end over HTTP: the therapist's practice refers a client to a
 * partner clinic under the client's consent; the clinic acknowledges, works and completes the referral's Task with a
 * consult note, and replies — each step only by the party allowed to take it. The practice keeps a care plan with
 * goals and homework; every change to it is versioned with Provenance; the consented partner reads it and reports
 * progress.
 */
import { DEFAULT_REFERRAL_DEADLINES, defaultBusinessHours, referralDeadlines } from '@carecircle/care';
import { buildSharingConsent } from '@carecircle/consent';
import { buildOrganization, buildPatient, buildPractitioner } from '@carecircle/testing';
import type { Bundle, CarePlan, Communication, DocumentReference, Goal, Patient, Provenance, ServiceRequest, Task } from '@medplum/fhirtypes';
import { registerSystemClient } from '../smart-test-clients';
import { createTestApp, fhirClient, type TestApp } from '../test-harness';

const REFERRAL = { system: 'http://snomed.info/sct', code: '3457005', display: 'Patient referral' };
const SIGNED_FORM = { contentType: 'application/pdf', data: 'JVBERi0=' };

let t: TestApp;
let practice: string;
let clinic: string;
let otherClinic: string;
let therapist: string;
let practiceToken: string;
let clinicToken: string;
let otherClinicToken: string;
let client: Patient;

function as(token: string) {
  return fhirClient(t, token);
}

function referralTo(performer: string): ServiceRequest {
  return {
    resourceType: 'ServiceRequest',
    status: 'active',
    intent: 'order',
    category: [{ coding: [REFERRAL] }],
    code: { text: 'Pelvic floor physical therapy evaluation' },
    subject: { reference: `Patient/${client.id}` },
    requester: { reference: therapist },
    performer: [{ reference: performer }],
    reasonCode: [{ text: 'Pain with penetration' }],
  };
}

async function refer(): Promise<{ request: ServiceRequest; task: Task }> {
  const res = await as(practiceToken).post('ServiceRequest', referralTo(clinic));
  expect(res.status).toBe(201);
  const request = res.body as ServiceRequest;
  const tasks = (await as(practiceToken).get(`Task?focus=ServiceRequest/${request.id}`)).body as Bundle;
  expect(tasks.total).toBe(1);
  return { request, task: tasks.entry?.[0]?.resource as Task };
}

async function move(token: string, task: Task, changes: Partial<Task>) {
  return as(token).put(`Task/${task.id}`, { ...task, ...changes }).set('If-Match', `W/"${task.meta?.versionId}"`);
}

beforeAll(async () => {
  t = await createTestApp();
  const admin = t.adminToken;
  const create = async (resource: object) => (await as(admin).post((resource as { resourceType: string }).resourceType, resource)).body as { id: string };
  practice = `Organization/${(await create(buildOrganization({ name: 'Riverside Sex Therapy' }))).id}`;
  clinic = `Organization/${(await create(buildOrganization({ name: 'Harbour Pelvic Health' }))).id}`;
  otherClinic = `Organization/${(await create(buildOrganization({ name: 'Hillside Urology' }))).id}`;
  therapist = `Practitioner/${(await create(buildPractitioner())).id}`;
  practiceToken = await (await registerSystemClient(t, practice, 'system/*.cruds')).token();
  clinicToken = await (await registerSystemClient(t, clinic, 'system/*.cruds')).token();
  otherClinicToken = await (await registerSystemClient(t, otherClinic, 'system/*.cruds')).token();
  client = (await as(practiceToken).post('Patient', buildPatient())).body as Patient;
  const consent = buildSharingConsent({ patient: `Patient/${client.id}`, custodian: practice, recipients: [clinic], categories: ['care-plan', 'progress'] });
  expect((await as(practiceToken).post('Consent', { ...consent, sourceAttachment: SIGNED_FORM })).status).toBe(201);
});
afterAll(async () => {
  await t.close();
});

describe('referring', () => {
  test('creates the ServiceRequest and its Task together, owned by the performer and due for acknowledgement', async () => {
    const before = Date.now();
    const { request, task } = await refer();
    expect(task).toMatchObject({
      status: 'requested',
      intent: 'order',
      code: { coding: [expect.objectContaining({ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'fulfill' })] },
      focus: { reference: `ServiceRequest/${request.id}` },
      for: { reference: `Patient/${client.id}` },
      requester: { reference: therapist },
      owner: { reference: clinic },
    });
    // Routine (no priority given): 16 business hours of the practice, which names none (Mon-Fri 09:00-17:00 UTC).
    const sent = new Date(task.authoredOn as string);
    expect(sent.getTime()).toBeGreaterThanOrEqual(before - 1000);
    const expected = referralDeadlines(sent, 'routine', defaultBusinessHours('UTC'), DEFAULT_REFERRAL_DEADLINES);
    expect(task.restriction?.period?.end).toBe(expected.acknowledgeBy.toISOString());
    expect(task.priority).toBe('routine');
  });

  test('without a consent naming the performer: 422, and nothing is stored', async () => {
    const count = async () => ((await as(practiceToken).get('ServiceRequest?_summary=count')).body as Bundle).total;
    const tasks = async () => ((await as(practiceToken).get('Task?_summary=count')).body as Bundle).total;
    const [requestsBefore, tasksBefore] = [await count(), await tasks()];
    const res = await as(practiceToken).post('ServiceRequest', referralTo(otherClinic));
    expect(res.status).toBe(422);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect([await count(), await tasks()]).toEqual([requestsBefore, tasksBefore]);
  });

  test('a conditional referral is checked and tracked like any other; a match answers 200 and writes nothing', async () => {
    const count = async () => ((await as(practiceToken).get('ServiceRequest?_summary=count')).body as Bundle).total;
    const tasks = async () => ((await as(practiceToken).get('Task?_summary=count')).body as Bundle).total;
    const [requestsBefore, tasksBefore] = [await count(), await tasks()];
    const unconsented = await as(practiceToken).post('ServiceRequest', referralTo(otherClinic)).set('If-None-Exist', 'identifier=http://x|never-matches');
    expect(unconsented.status).toBe(422);
    expect(unconsented.body.issue[0].expression).toContain('ServiceRequest.performer');
    expect([await count(), await tasks()]).toEqual([requestsBefore, tasksBefore]);

    const identifier = `referral-${Date.now()}`;
    const conditional = { ...referralTo(clinic), identifier: [{ system: 'http://x', value: identifier }] };
    const created = await as(practiceToken).post('ServiceRequest', conditional).set('If-None-Exist', `identifier=http://x|${identifier}`);
    expect(created.status).toBe(201);
    const id = (created.body as ServiceRequest).id;
    expect(((await as(practiceToken).get(`Task?focus=ServiceRequest/${id}`)).body as Bundle).total).toBe(1);
    const again = await as(practiceToken).post('ServiceRequest', conditional).set('If-None-Exist', `identifier=http://x|${identifier}`);
    expect(again.status).toBe(200);
    expect((again.body as ServiceRequest).id).toBe(id);
    expect(((await as(practiceToken).get(`Task?focus=ServiceRequest/${id}`)).body as Bundle).total).toBe(1);
  });

  test("the operator's PUT to a new id is a referral's create: consent checked, Task made with it", async () => {
    const unconsented = await as(t.adminToken).put('ServiceRequest/operator-referral-1', { ...referralTo(otherClinic), id: 'operator-referral-1' });
    expect(unconsented.status).toBe(422);
    expect((await as(t.adminToken).get('ServiceRequest/operator-referral-1')).status).toBe(404);
    const created = await as(t.adminToken).put('ServiceRequest/operator-referral-2', { ...referralTo(clinic), id: 'operator-referral-2' });
    expect(created.status).toBe(201);
    expect(((await as(practiceToken).get('Task?focus=ServiceRequest/operator-referral-2')).body as Bundle).total).toBe(1);
    // An update of it stays an update.
    const updated = await as(t.adminToken).put('ServiceRequest/operator-referral-2', { ...(created.body as ServiceRequest), priority: 'urgent' });
    expect(updated.status).toBe(200);
    expect(((await as(practiceToken).get('Task?focus=ServiceRequest/operator-referral-2')).body as Bundle).total).toBe(1);
  });

  test('a conditional referral in a transaction is checked too: an unknown performer is 422 and nothing is stored', async () => {
    const count = async () => ((await as(practiceToken).get('ServiceRequest?_summary=count')).body as Bundle).total;
    const before = await count();
    const res = await as(practiceToken).post('', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:0b7e3c1a-2f4d-4e5a-9c8b-1d2e3f4a5b6c',
          resource: referralTo('Organization/nonexistent'),
          request: { method: 'POST', url: 'ServiceRequest', ifNoneExist: 'identifier=http://x|never-matches' },
        },
      ],
    });
    expect(res.status).toBe(422);
    expect(await count()).toBe(before);
  });

  test('an update or patch may not make, unmake or redirect a referral (422); other changes of a referral pass', async () => {
    const plain = { ...referralTo(clinic), category: [{ text: 'Lab order' }] };
    const stored = (await as(practiceToken).post('ServiceRequest', plain)).body as ServiceRequest;
    expect(stored.id).toBeDefined();
    const made = await as(practiceToken).put(`ServiceRequest/${stored.id}`, { ...stored, category: [{ coding: [REFERRAL] }] });
    expect(made.status).toBe(422);
    expect(made.body.issue[0].expression).toContain('ServiceRequest.category');
    const patched = await t.http
      .patch(`/fhir/R4/ServiceRequest/${stored.id}`)
      .set('Authorization', `Bearer ${practiceToken}`)
      .set('Content-Type', 'application/json-patch+json')
      .send(JSON.stringify([{ op: 'add', path: '/category/-', value: { coding: [REFERRAL] } }]));
    expect(patched.status).toBe(422);
    expect(((await as(practiceToken).get(`Task?focus=ServiceRequest/${stored.id}`)).body as Bundle).total).toBe(0);
    expect((await as(practiceToken).get(`ServiceRequest/${stored.id}`)).body.meta.versionId).toBe('1');

    const { request } = await refer();
    const changes: [Partial<ServiceRequest>, string][] = [
      [{ performer: [{ reference: otherClinic }] }, 'ServiceRequest.performer'],
      [{ subject: { reference: `Patient/${((await as(practiceToken).post('Patient', buildPatient())).body as Patient).id}` } }, 'ServiceRequest.subject'],
      [{ category: [{ text: 'Lab order' }] }, 'ServiceRequest.category'],
    ];
    for (const [change, expression] of changes) {
      const res = await as(practiceToken).put(`ServiceRequest/${request.id}`, { ...request, ...change });
      expect(res.status).toBe(422);
      expect(res.body.issue[0].expression).toContain(expression);
    }
    const noted = await as(practiceToken).put(`ServiceRequest/${request.id}`, { ...request, note: [{ text: 'Client prefers mornings' }] });
    expect(noted.status).toBe(200);

    // Nor may a deleted ServiceRequest come back as a referral through an update.
    expect((await t.http.delete(`/fhir/R4/ServiceRequest/${stored.id}`).set('Authorization', `Bearer ${practiceToken}`)).status).toBe(204);
    const revived = await as(practiceToken).put(`ServiceRequest/${stored.id}`, { ...stored, category: [{ coding: [REFERRAL] }] });
    expect(revived.status).toBe(422);
  });

  test('the partner reads referrals addressed to it; another clinic does not', async () => {
    const { request, task } = await refer();
    expect((await as(clinicToken).get(`ServiceRequest/${request.id}`)).status).toBe(200);
    expect((await as(clinicToken).get(`Task/${task.id}`)).status).toBe(200);
    const mine = (await as(clinicToken).get(`Task?owner=${clinic}&status=requested`)).body as Bundle;
    expect(mine.entry?.map((e) => e.resource?.id)).toContain(task.id);
    expect((await as(otherClinicToken).get(`Task/${task.id}`)).status).toBe(404);
  });
});

describe('the Task state machine, by the allowed party only', () => {
  test('the owner accepts, works, pauses with a reason, and completes with a consult note', async () => {
    const { request, task } = await refer();
    const accepted = await move(clinicToken, task, { status: 'accepted' });
    expect(accepted.status).toBe(200);
    const inProgress = await move(clinicToken, accepted.body as Task, { status: 'in-progress' });
    expect(inProgress.status).toBe(200);
    const pausedWithoutReason = await move(clinicToken, inProgress.body as Task, { status: 'on-hold' });
    expect(pausedWithoutReason.status).toBe(400);
    const paused = await move(clinicToken, inProgress.body as Task, { status: 'on-hold', statusReason: { text: 'Client travelling' } });
    expect(paused.status).toBe(200);
    const resumed = await move(clinicToken, paused.body as Task, { status: 'in-progress', statusReason: undefined });
    expect(resumed.status).toBe(200);

    const withoutNote = await move(clinicToken, resumed.body as Task, { status: 'completed' });
    expect(withoutNote.status).toBe(422);

    const note: DocumentReference = {
      resourceType: 'DocumentReference',
      status: 'current',
      type: { coding: [{ system: 'http://loinc.org', code: '11488-4', display: 'Consult note' }] },
      subject: { reference: `Patient/${client.id}` },
      author: [{ reference: clinic }],
      content: [{ attachment: { contentType: 'text/plain', data: Buffer.from('Pelvic floor hypertonicity; 6 sessions planned').toString('base64') } }],
      context: { related: [{ reference: `ServiceRequest/${request.id}` }] },
    };
    const noteRes = await as(clinicToken).post('DocumentReference', note);
    expect(noteRes.status).toBe(201);
    const completed = await move(clinicToken, resumed.body as Task, {
      status: 'completed',
      output: [{ type: { text: 'Consult note' }, valueReference: { reference: `DocumentReference/${noteRes.body.id}` } }],
    });
    expect(completed.status).toBe(200);
    expect((completed.body as Task).status).toBe('completed');
  });

  test('the owner cannot file its referral Task as a psychotherapy note, by label or by category (403, naming nothing)', async () => {
    const { request, task } = await refer();
    // A CarePlan the clinic may not see (trauma history is not consented) points at the Task.
    const hidden = await as(practiceToken).post('CarePlan', {
      resourceType: 'CarePlan',
      meta: { tag: [{ system: 'https://carecircle.dev/fhir/CodeSystem/share-category', code: 'trauma-history' }] },
      status: 'active',
      intent: 'plan',
      subject: { reference: `Patient/${client.id}` },
      activity: [{ reference: { reference: `Task/${task.id}` } }],
    });
    expect(hidden.status).toBe(201);
    expect((await as(clinicToken).get(`CarePlan/${hidden.body.id}`)).status).toBe(404);
    const byLabel = await move(clinicToken, task, {
      status: 'accepted',
      meta: { ...task.meta, security: [...(task.meta?.security ?? []), { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'PSYTHPN' }] },
    });
    const byCategory = await move(clinicToken, task, {
      status: 'accepted',
      meta: { ...task.meta, tag: [{ system: 'https://carecircle.dev/fhir/CodeSystem/share-category', code: 'psychotherapy-notes' }] },
    });
    for (const res of [byLabel, byCategory]) {
      expect(res.status).toBe(403);
      expect(JSON.stringify(res.body)).not.toContain(hidden.body.id as string);
    }
    expect(((await as(clinicToken).get(`Task/${task.id}`)).body as Task).status).toBe('requested');
    expect(request.id).toBeDefined();
  });

  test('wrong transitions and wrong parties are refused', async () => {
    const { task } = await refer();
    expect((await move(clinicToken, task, { status: 'completed' })).status).toBe(422);
    expect((await move(clinicToken, task, { status: 'cancelled' })).status).toBe(403);
    expect((await move(clinicToken, task, { status: 'rejected' })).status).toBe(400);
    expect([403, 404]).toContain((await move(otherClinicToken, task, { status: 'accepted' })).status);
    expect((await move(clinicToken, task, { owner: { reference: otherClinic } })).status).toBe(400);
    const stale = await as(clinicToken).put(`Task/${task.id}`, { ...task, status: 'accepted' }).set('If-Match', 'W/"99"');
    expect(stale.status).toBe(412);
  });

  test('the owner may reject with a reason; the requester cancels', async () => {
    const first = await refer();
    expect((await move(clinicToken, first.task, { status: 'rejected', statusReason: { text: 'Not accepting new clients' } })).status).toBe(200);
    const second = await refer();
    expect((await move(practiceToken, second.task, { status: 'cancelled' })).status).toBe(200);
  });
});

describe('replies and limits', () => {
  test('the partner replies to a referral addressed to it, but writes nothing else about the client', async () => {
    const { request } = await refer();
    const reply: Communication = {
      resourceType: 'Communication',
      status: 'completed',
      basedOn: [{ reference: `ServiceRequest/${request.id}` }],
      subject: { reference: `Patient/${client.id}` },
      sender: { reference: clinic },
      recipient: [{ reference: therapist }],
      payload: [{ contentString: 'First appointment booked.' }],
    };
    expect((await as(clinicToken).post('Communication', reply)).status).toBe(201);
    expect([403, 404]).toContain((await as(clinicToken).post('Communication', { ...reply, sender: { reference: otherClinic } })).status);
    expect([403, 404]).toContain((await as(clinicToken).post('Observation', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${client.id}` } })).status);
    expect([403, 404]).toContain((await as(otherClinicToken).post('Communication', { ...reply, sender: { reference: otherClinic } })).status);
  });
});

describe('care plans', () => {
  test('goals, homework and the care team are versioned with Provenance; the partner reads them and reports progress', async () => {
    const goal = (await as(practiceToken).post('Goal', {
      resourceType: 'Goal',
      lifecycleStatus: 'active',
      description: { text: 'Comfortable penetration without pain' },
      subject: { reference: `Patient/${client.id}` },
    } satisfies Goal)).body as Goal;
    const plan: CarePlan = {
      resourceType: 'CarePlan',
      status: 'active',
      intent: 'plan',
      title: 'Vaginismus treatment plan',
      subject: { reference: `Patient/${client.id}` },
      goal: [{ reference: `Goal/${goal.id}` }],
      activity: [
        { detail: { status: 'in-progress', description: 'Sensate focus, stage 1: non-genital touch, 3x weekly' } },
        { detail: { status: 'scheduled', description: 'Pelvic floor down-training exercises, daily (with PT)' } },
      ],
    };
    const created = await as(practiceToken).post('CarePlan', plan);
    expect(created.status).toBe(201);
    const updated = await as(practiceToken).put(`CarePlan/${created.body.id}`, {
      ...created.body,
      activity: [...(plan.activity ?? []), { detail: { status: 'not-started', description: 'Sensate focus, stage 2' } }],
    });
    expect(updated.status).toBe(200);
    const team = await as(practiceToken).post('CareTeam', {
      resourceType: 'CareTeam',
      status: 'active',
      subject: { reference: `Patient/${client.id}` },
      participant: [{ member: { reference: therapist } }, { member: { reference: clinic } }],
    });
    expect(team.status).toBe(201);

    const provenance = (await as(practiceToken).get(`Provenance?target=CarePlan/${created.body.id}/_history/1,CarePlan/${created.body.id}/_history/2`)).body as Bundle;
    const activities = provenance.entry?.map((e) => (e.resource as Provenance).activity?.coding?.[0]?.code).sort();
    expect(activities).toEqual(['CREATE', 'UPDATE']);
    expect((provenance.entry?.[0]?.resource as Provenance).agent[0]?.who).toEqual({ reference: practice });
    expect(((await as(practiceToken).get(`Provenance?target=Goal/${goal.id}/_history/1`)).body as Bundle).total).toBe(1);

    expect((await as(clinicToken).get(`CarePlan/${created.body.id}`)).status).toBe(200);
    // The partner may read the plan but not change it: 403 (a 404 would pretend it cannot see what it just read).
    expect((await as(clinicToken).put(`CarePlan/${created.body.id}`, { ...updated.body, status: 'revoked' })).status).toBe(403);
    const progress: Communication = {
      resourceType: 'Communication',
      status: 'completed',
      about: [{ reference: `CarePlan/${created.body.id}` }],
      subject: { reference: `Patient/${client.id}` },
      sender: { reference: clinic },
      payload: [{ contentString: 'Down-training exercises done 5 of 7 days this week.' }],
    };
    const reported = await as(clinicToken).post('Communication', progress);
    expect(reported.status).toBe(201);
    const seen = (await as(practiceToken).get(`Communication?subject=Patient/${client.id}&sender=${clinic}`)).body as Bundle;
    expect(seen.entry?.some((e) => (e.resource as Communication).about?.[0]?.reference === `CarePlan/${created.body.id}`)).toBe(true);
    // The progress report is recorded with a Provenance naming the partner, like changes to the plan itself.
    const reportProvenance = (await as(practiceToken).get(`Provenance?target=Communication/${reported.body.id}/_history/1`)).body as Bundle;
    expect(reportProvenance.total).toBe(1);
    expect((reportProvenance.entry?.[0]?.resource as Provenance).agent[0]?.who).toEqual({ reference: clinic });
    expect((reportProvenance.entry?.[0]?.resource as Provenance).activity?.coding?.[0]?.code).toBe('CREATE');
  });
});

describe('malformed input answers 400, never 500', () => {
  const malformed: [string, string, (patient: string) => object][] = [
    ['a referral whose category is a string', 'ServiceRequest', (patient) => ({ resourceType: 'ServiceRequest', status: 'active', intent: 'order', category: 'referral', subject: { reference: patient } })],
    ['a referral whose category coding is an object', 'ServiceRequest', (patient) => ({ resourceType: 'ServiceRequest', status: 'active', intent: 'order', category: [{ coding: { system: 'http://snomed.info/sct', code: '3457005' } }], subject: { reference: patient } })],
    ['meta.tag as a string', 'Observation', (patient) => ({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, meta: { tag: 'x' }, subject: { reference: patient } })],
    ['a referral with meta.tag as a string', 'ServiceRequest', (patient) => ({ ...referralTo(clinic), meta: { tag: 'x' }, subject: { reference: patient } })],
    ['a Task whose code.coding is a string', 'Task', (patient) => ({ resourceType: 'Task', status: 'requested', intent: 'order', code: { coding: 'x' }, for: { reference: patient } })],
    ['a Communication whose about is a string', 'Communication', (patient) => ({ resourceType: 'Communication', status: 'completed', about: 'x', subject: { reference: patient }, sender: { reference: clinic } })],
    ['a consult note whose context.related is a string', 'DocumentReference', (patient) => ({ resourceType: 'DocumentReference', status: 'current', type: { coding: [{ system: 'http://loinc.org', code: '11488-4' }] }, content: [{ attachment: { contentType: 'text/plain' } }], context: { related: 'x' }, subject: { reference: patient } })],
    ['Subscription criteria as a number', 'Subscription', () => ({ resourceType: 'Subscription', status: 'requested', reason: 'x', criteria: 5, channel: { type: 'rest-hook', endpoint: 'https://partner.example/hook', payload: 'application/fhir+json' } })],
    ['Subscription headers that are not strings', 'Subscription', () => ({ resourceType: 'Subscription', status: 'requested', reason: 'x', criteria: 'https://carecircle.dev/fhir/SubscriptionTopic/referral', channel: { type: 'rest-hook', endpoint: 'https://partner.example/hook', payload: 'application/fhir+json', header: [5, {}] } })],
    ['Subscription headers as one string', 'Subscription', () => ({ resourceType: 'Subscription', status: 'requested', reason: 'x', criteria: 'https://carecircle.dev/fhir/SubscriptionTopic/referral', channel: { type: 'rest-hook', endpoint: 'https://partner.example/hook', payload: 'application/fhir+json', header: 'X-A: b' } })],
    ['a Subscription filter with :missing=maybe', 'Subscription', () => ({ resourceType: 'Subscription', status: 'requested', reason: 'x', criteria: 'https://carecircle.dev/fhir/SubscriptionTopic/referral', _criteria: { extension: [{ url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-filter-criteria', valueString: 'Task?owner:missing=maybe' }] }, extension: [{ url: 'https://carecircle.dev/fhir/StructureDefinition/subscription-secret', valueString: 'a-subscriber-secret-of-forty-characters!' }], channel: { type: 'rest-hook', endpoint: 'https://partner.example/hook', payload: 'application/fhir+json' } })],
  ];
  test.each(malformed)('%s, written by the practice or the partner', async (_name, type, body) => {
    for (const token of [practiceToken, clinicToken]) {
      const res = await as(token).post(type, body(`Patient/${client.id}`));
      expect(res.status).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
  });
});
