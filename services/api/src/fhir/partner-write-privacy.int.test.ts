/**
 * A partner's writes tell it nothing about what it may not see, and stay with the client they are about, end to end
 * over HTTP: the practice keeps two clients, X (who lets the clinic see demographics, progress and the care plan) and
 * Y (no consent), and refers X to the clinic. Whatever the clinic links its consult notes, replies, progress reports
 * and Task completions to, a resource it may not see answers exactly as one that does not exist; and whatever Patient
 * its writes name must be the client of the referral or care plan they answer, so nothing it writes lands in another
 * client's record.
 */
import { buildSharingConsent, SHARE_CATEGORY_SYSTEM } from '@carecircle/consent';
import { buildOrganization, buildPatient, buildPractitioner } from '@carecircle/testing';
import type { Bundle, CarePlan, Communication, DocumentReference, Patient, Provenance, Reference, ServiceRequest, Task } from '@medplum/fhirtypes';
import type { Response } from 'supertest';
import { registerSystemClient } from '../smart-test-clients';
import { createTestApp, fhirClient, type TestApp } from '../test-harness';

const REFERRAL = { system: 'http://snomed.info/sct', code: '3457005', display: 'Patient referral' };
const CONSULT_NOTE = { system: 'http://loinc.org', code: '11488-4', display: 'Consult note' };
const SIGNED_FORM = { contentType: 'application/pdf', data: 'JVBERi0=' };
const TRAUMA_HISTORY = [{ system: SHARE_CATEGORY_SYSTEM, code: 'trauma-history' }];

let t: TestApp;
let practice: string;
let clinic: string;
let otherClinic: string;
let therapist: string;
let practiceToken: string;
let clinicToken: string;
/** The practice's clients: X consented to the clinic, Y did not. */
let x: string;
let y: string;
/** The practice's referral of X to the clinic. */
let referral: ServiceRequest;
/** ServiceRequests the clinic may not see: about Y, and about X but trauma history (both addressed to the clinic). */
let hiddenAboutY: string;
let hiddenAboutX: string;
/** A request about X the clinic sees (care plan) but that is addressed to another clinic. */
let visibleForOtherClinic: string;
let carePlan: CarePlan;

function as(token: string) {
  return fhirClient(t, token);
}

/** What a refusal tells the caller: the status and the outcome's issues. */
interface Answer {
  status: number;
  issue: unknown;
}

function answerOf(res: Response): Answer {
  return { status: res.status, issue: res.body.issue };
}

function created<T>(res: Response): T {
  expect([res.status, res.body.issue]).toEqual([201, undefined]);
  return res.body as T;
}

async function total(token: string, query: string): Promise<number | undefined> {
  return ((await as(token).get(`${query}${query.includes('?') ? '&' : '?'}_summary=count`)).body as Bundle).total;
}

function serviceRequest(subject: string, performer: string, overrides: Partial<ServiceRequest> = {}): ServiceRequest {
  return {
    resourceType: 'ServiceRequest',
    status: 'active',
    intent: 'order',
    code: { text: 'Urology consultation' },
    subject: { reference: subject },
    requester: { reference: therapist },
    performer: [{ reference: performer }],
    ...overrides,
  };
}

function consultNote(related: string[], overrides: Partial<DocumentReference> = {}): DocumentReference {
  return {
    resourceType: 'DocumentReference',
    status: 'current',
    type: { coding: [CONSULT_NOTE] },
    subject: { reference: x },
    author: [{ reference: clinic }],
    content: [{ attachment: { contentType: 'text/plain', data: Buffer.from('Findings unremarkable').toString('base64') } }],
    context: { related: related.map((reference) => ({ reference })) },
    ...overrides,
  };
}

function reply(overrides: Partial<Communication> = {}): Communication {
  return {
    resourceType: 'Communication',
    status: 'completed',
    basedOn: [{ reference: `ServiceRequest/${referral.id}` }],
    subject: { reference: x },
    sender: { reference: clinic },
    recipient: [{ reference: therapist }],
    payload: [{ contentString: 'First appointment booked.' }],
    ...overrides,
  };
}

function progressReport(overrides: Partial<Communication> = {}): Communication {
  return {
    resourceType: 'Communication',
    status: 'completed',
    about: [{ reference: `CarePlan/${carePlan.id}` }],
    subject: { reference: x },
    sender: { reference: clinic },
    payload: [{ contentString: 'Exercises done 5 of 7 days.' }],
    ...overrides,
  };
}

/** A copy of the referral's Task, moved by the clinic to in-progress (a fresh referral each time). */
async function taskInProgress(): Promise<Task> {
  const request = created<ServiceRequest>(await as(practiceToken).post('ServiceRequest', serviceRequest(x, clinic, { category: [{ coding: [REFERRAL] }] })));
  const task = ((await as(practiceToken).get(`Task?focus=ServiceRequest/${request.id}`)).body as Bundle).entry?.[0]?.resource as Task;
  const accepted = await as(clinicToken).put(`Task/${task.id}`, { ...task, status: 'accepted' });
  expect(accepted.status).toBe(200);
  const working = await as(clinicToken).put(`Task/${task.id}`, { ...(accepted.body as Task), status: 'in-progress' });
  expect(working.status).toBe(200);
  return working.body as Task;
}

function completion(task: Task, ...notes: (string | undefined)[]): Task {
  return {
    ...task,
    status: 'completed',
    output: notes.map((id) => ({ type: { text: 'Consult note' }, valueReference: { reference: `DocumentReference/${id}` } })),
  };
}

beforeAll(async () => {
  t = await createTestApp();
  const admin = t.adminToken;
  const create = async (resource: object) => (await as(admin).post((resource as { resourceType: string }).resourceType, resource)).body as { id: string };
  practice = `Organization/${(await create(buildOrganization({ name: 'Riverside Sex Therapy' }))).id}`;
  clinic = `Organization/${(await create(buildOrganization({ name: 'Harbour Urology' }))).id}`;
  otherClinic = `Organization/${(await create(buildOrganization({ name: 'Hillside Pelvic Health' }))).id}`;
  therapist = `Practitioner/${(await create(buildPractitioner())).id}`;
  practiceToken = await (await registerSystemClient(t, practice, 'system/*.cruds')).token();
  clinicToken = await (await registerSystemClient(t, clinic, 'system/*.cruds')).token();

  x = `Patient/${created<Patient>(await as(practiceToken).post('Patient', buildPatient())).id}`;
  y = `Patient/${created<Patient>(await as(practiceToken).post('Patient', buildPatient({ name: [{ family: 'Chen', given: ['Sam'] }] }))).id}`;
  const consent = buildSharingConsent({ patient: x, custodian: practice, recipients: [clinic], categories: ['demographics', 'progress', 'care-plan'] });
  created(await as(practiceToken).post('Consent', { ...consent, sourceAttachment: SIGNED_FORM }));

  referral = created<ServiceRequest>(await as(practiceToken).post('ServiceRequest', serviceRequest(x, clinic, { category: [{ coding: [REFERRAL] }] })));
  hiddenAboutY = `ServiceRequest/${created<ServiceRequest>(await as(practiceToken).post('ServiceRequest', serviceRequest(y, clinic))).id}`;
  hiddenAboutX = `ServiceRequest/${created<ServiceRequest>(await as(practiceToken).post('ServiceRequest', serviceRequest(x, clinic, { meta: { tag: TRAUMA_HISTORY } }))).id}`;
  visibleForOtherClinic = `ServiceRequest/${created<ServiceRequest>(await as(practiceToken).post('ServiceRequest', serviceRequest(x, otherClinic))).id}`;
  carePlan = created<CarePlan>(
    await as(practiceToken).post('CarePlan', { resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: x }, title: 'Treatment plan' }),
  );

  // What the clinic may see and what it may not, as the tests below rely on it.
  expect((await as(clinicToken).get(`ServiceRequest/${referral.id}`)).status).toBe(200);
  expect((await as(clinicToken).get(visibleForOtherClinic)).status).toBe(200);
  expect((await as(clinicToken).get(`CarePlan/${carePlan.id}`)).status).toBe(200);
  for (const hidden of [hiddenAboutY, hiddenAboutX, y]) {
    expect([hidden, (await as(clinicToken).get(hidden)).status]).toEqual([hidden, 404]);
  }
});
afterAll(async () => {
  await t.close();
});

describe("a consult note's referrals (context.related)", () => {
  test('every ServiceRequest must be a referral addressed to the clinic that it may see: made-up, hidden and foreign answer alike', async () => {
    const own = `ServiceRequest/${referral.id}`;
    const notesBefore = await total(practiceToken, 'DocumentReference');
    const answers: Answer[] = [];
    for (const probe of ['ServiceRequest/made-up', hiddenAboutY, hiddenAboutX, visibleForOtherClinic]) {
      for (const related of [[own, probe], [probe, own], [probe]]) {
        answers.push(answerOf(await as(clinicToken).post('DocumentReference', consultNote(related))));
      }
    }
    expect(answers[0]).toMatchObject({ status: 403, issue: [{ details: { text: expect.stringContaining('referrals addressed to it') } }] });
    expect(answers).toEqual(answers.map(() => answers[0]));
    expect(await total(practiceToken, 'DocumentReference')).toBe(notesBefore);
    // Its own referral alone is what a consult note answers.
    created(await as(clinicToken).post('DocumentReference', consultNote([own])));
  });

  test('a practice writing about its own client learns nothing of another practice\'s requests either', async () => {
    // The clinic is a custodian too: a consult note about its own client passes its own policy, then the write rule.
    const own = created<Patient>(await as(clinicToken).post('Patient', buildPatient({ name: [{ family: 'Berg', given: ['Jo'] }] })));
    const note = (related: string) => consultNote([related], { subject: { reference: `Patient/${own.id}` } });
    const madeUp = answerOf(await as(clinicToken).post('DocumentReference', note('ServiceRequest/made-up')));
    expect(madeUp.status).toBe(422);
    for (const hidden of [hiddenAboutY, hiddenAboutX]) {
      expect([hidden, answerOf(await as(clinicToken).post('DocumentReference', note(hidden)))]).toEqual([hidden, madeUp]);
    }
  });
});

describe('completing a Task counts only consult notes the owner may see', () => {
  test("a hidden consult note answers as a made-up one, and the Task stays open", async () => {
    const task = await taskInProgress();
    const focus = task.focus?.reference as string;
    // The practice's own consult note on this referral, filed as trauma history: the clinic may not read it.
    const hiddenNote = created<DocumentReference>(
      await as(practiceToken).post('DocumentReference', consultNote([focus], { author: [{ reference: therapist }], meta: { tag: TRAUMA_HISTORY } })),
    );
    expect((await as(clinicToken).get(`DocumentReference/${hiddenNote.id}`)).status).toBe(404);

    const madeUp = answerOf(await as(clinicToken).put(`Task/${task.id}`, completion(task, 'made-up')));
    expect(madeUp.status).toBe(422);
    expect(answerOf(await as(clinicToken).put(`Task/${task.id}`, completion(task, hiddenNote.id)))).toEqual(madeUp);
    expect(((await as(clinicToken).get(`Task/${task.id}`)).body as Task).status).toBe('in-progress');

    const ownNote = created<DocumentReference>(await as(clinicToken).post('DocumentReference', consultNote([focus])));
    const completed = await as(clinicToken).put(`Task/${task.id}`, completion(task, ownNote.id));
    expect([completed.status, (completed.body as Task).status]).toEqual([200, 'completed']);
  });
});

describe("a partner's writes stay in their client's record", () => {
  /** Everything the practice finds in Y's record, by type. */
  async function recordOfY(): Promise<number[]> {
    return Promise.all([
      total(practiceToken, `Communication?recipient=${y}`),
      total(practiceToken, `Communication?subject=${y}`),
      total(practiceToken, `Communication?sender=${y}`),
      total(practiceToken, `DocumentReference?patient=${y}`),
      total(practiceToken, `Provenance?patient=${y}`),
      total(practiceToken, `Task?patient=${y}`),
    ]).then((totals) => totals.map((n) => n ?? -1));
  }

  test('a reply naming another client, or a made-up one, anywhere is refused alike, and lands nowhere', async () => {
    const before = await recordOfY();
    // A link (about) must also be something the clinic sees: 403 there, as for any link it may not use.
    const replies: [string, number, (patient: string) => Partial<Communication>][] = [
      ['recipient', 422, (patient) => ({ recipient: [{ reference: therapist }, { reference: patient }] })],
      ['subject', 422, (patient) => ({ subject: { reference: patient } })],
      ['payload', 422, (patient) => ({ payload: [{ contentReference: { reference: patient } }] })],
      ['about', 403, (patient) => ({ about: [{ reference: patient }] })],
    ];
    for (const [where, status, naming] of replies) {
      const other = answerOf(await as(clinicToken).post('Communication', reply(naming(y))));
      expect([where, other.status]).toEqual([where, status]);
      expect(other.issue).toEqual([expect.objectContaining({ details: { text: expect.stringContaining(status === 422 ? 'names no client but' : 'links only to') } })]);
      expect([where, answerOf(await as(clinicToken).post('Communication', reply(naming('Patient/made-up'))))]).toEqual([where, other]);
      expect(JSON.stringify(other.issue)).not.toContain(y.slice('Patient/'.length));
    }
    expect(await recordOfY()).toEqual(before);
    // Naming the referral's own client is fine.
    created(await as(clinicToken).post('Communication', reply({ recipient: [{ reference: therapist }, { reference: x }] })));
  });

  test("a reply links only to referrals addressed to the clinic that it may see: made-up and hidden answer alike", async () => {
    const own = `ServiceRequest/${referral.id}`;
    const answers: Answer[] = [];
    for (const probe of ['ServiceRequest/made-up', hiddenAboutY, hiddenAboutX, visibleForOtherClinic]) {
      answers.push(answerOf(await as(clinicToken).post('Communication', reply({ basedOn: [{ reference: own }, { reference: probe }] }))));
    }
    expect(answers[0]?.status).toBe(403);
    expect(answers).toEqual(answers.map(() => answers[0]));
  });

  test('a consult note naming another client (subject, author) is refused alike, and lands nowhere', async () => {
    const before = await recordOfY();
    const own = `ServiceRequest/${referral.id}`;
    for (const naming of [(patient: string) => ({ subject: { reference: patient } }), (patient: string) => ({ author: [{ reference: clinic }, { reference: patient }] })]) {
      const other = answerOf(await as(clinicToken).post('DocumentReference', consultNote([own], naming(y))));
      expect(other.status).toBe(422);
      expect(answerOf(await as(clinicToken).post('DocumentReference', consultNote([own], naming('Patient/made-up'))))).toEqual(other);
    }
    expect(await recordOfY()).toEqual(before);
  });

  test('a progress report on a care plan naming another client is refused alike, with no Provenance', async () => {
    const before = await recordOfY();
    const provenanceBefore = await total(practiceToken, 'Provenance');
    const other = answerOf(await as(clinicToken).post('Communication', progressReport({ recipient: [{ reference: y }] })));
    expect(other.status).toBe(422);
    expect(answerOf(await as(clinicToken).post('Communication', progressReport({ recipient: [{ reference: 'Patient/made-up' }] })))).toEqual(other);
    expect(await recordOfY()).toEqual(before);
    expect(await total(practiceToken, 'Provenance')).toBe(provenanceBefore);
    created(await as(clinicToken).post('Communication', progressReport()));
  });

  test("a Provenance of the clinic's own progress names only that report and its client", async () => {
    const report = created<Communication>(await as(clinicToken).post('Communication', progressReport()));
    const provenance = (extra: Reference[]): Provenance => ({
      resourceType: 'Provenance',
      target: [{ reference: `Communication/${report.id}/_history/${report.meta?.versionId}` }, { reference: x }, ...extra],
      recorded: new Date().toISOString(),
      agent: [{ who: { reference: clinic } }],
    });
    // Extra targets would give the record their labels (and file it with their clients): a hidden one must answer as
    // a made-up one, and another client is refused.
    const madeUp = answerOf(await as(clinicToken).post('Provenance', provenance([{ reference: 'ServiceRequest/made-up' }])));
    expect(madeUp.status).toBeGreaterThanOrEqual(400);
    expect(answerOf(await as(clinicToken).post('Provenance', provenance([{ reference: hiddenAboutX }])))).toEqual(madeUp);
    expect((await as(clinicToken).post('Provenance', provenance([{ reference: y }]))).status).toBeGreaterThanOrEqual(400);
    expect(await total(practiceToken, `Provenance?patient=${y}`)).toBe(0);
  });

  test('a Task update by its owner names no other client', async () => {
    const task = await taskInProgress();
    const withInput = (patient: string): Task => ({ ...task, input: [{ type: { text: 'Seen with' }, valueReference: { reference: patient } }] });
    const other = answerOf(await as(clinicToken).put(`Task/${task.id}`, withInput(y)));
    expect(other.status).toBe(422);
    expect(answerOf(await as(clinicToken).put(`Task/${task.id}`, withInput('Patient/made-up')))).toEqual(other);
    expect((await as(clinicToken).put(`Task/${task.id}`, withInput(x))).status).toBe(200);
  });
});
