/**
 * Coordinated updates end to end (issue 12), through HTTP on real PostgreSQL, Redis and the worker: a therapist drafts
 * an update for a pelvic-floor PT clinic (a trauma-history summary and homework adherence) and submits it; the client
 * approves it with their own token and an electronic signature; the clinic's subscriber is notified and reads exactly
 * the approved content, marked against re-disclosure. A draft, an update awaiting approval and a declined update are
 * never visible to the clinic; an update naming a category outside the consent, or a psychotherapy note, is refused;
 * every step is in the client's accounting; a revocation stops further reads at once.
 */
import { buildSharingConsent } from '@carecircle/consent';
import { fhirClient, logInUser, registerApp, registerSystemClient } from '@carecircle/api/testing';
import { buildObservation, buildOrganization, buildPatient, buildPractitioner } from '@carecircle/testing';
import type { AuditEvent, Bundle, Communication, Composition, Condition, Consent, DocumentReference, Observation, Parameters, Patient, Resource } from '@medplum/fhirtypes';
import { startNotifyStack, type NotifyStack } from '../../support/notify-stack';

const TOPIC = 'https://carecircle.dev/fhir/SubscriptionTopic/coordinated-update';
const PROFILE = 'https://carecircle.dev/fhir/StructureDefinition/coordinated-update';
const STATE = 'https://carecircle.dev/fhir/StructureDefinition/update-state';
const RECIPIENT = 'https://carecircle.dev/fhir/StructureDefinition/update-recipient';
const CATEGORY = 'https://carecircle.dev/fhir/CodeSystem/share-category';
const SECTION = 'https://carecircle.dev/fhir/CodeSystem/update-section';
const EVENT = 'https://carecircle.dev/fhir/CodeSystem/update-event';
const NORDSCLCD = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'NORDSCLCD' };

let stack: NotifyStack;
let practice: string;
let clinic: string;
let otherClinic: string;
let therapist: string;
let practiceToken: string;
let therapistToken: string;
let clinicToken: string;
let otherClinicToken: string;
let clientToken: string;
let client: Patient;
let trauma: Condition;
let homework: Observation;
let mood: Observation;
let note: DocumentReference;
let consent: Consent;
let released: Composition;

const as = (token: string) => fhirClient(stack.t, token);
const tagged = (category: string) => ({ tag: [{ system: CATEGORY, code: category }] });
const hasLabel = (resource: Resource | undefined, label: { system: string; code: string }) =>
  (resource?.meta?.security ?? []).some((s) => s.system === label.system && s.code === label.code);
const stateOf = (c: Composition) => c.extension?.find((e) => e.url === STATE)?.valueCode;

function section(category: string, ...entries: Resource[]) {
  return {
    title: category,
    code: { coding: [{ system: CATEGORY, code: category }] },
    text: { status: 'generated' as const, div: `<div xmlns="http://www.w3.org/1999/xhtml"><p>${category}</p></div>` },
    entry: entries.map((r) => ({ reference: `${r.resourceType}/${r.id}` })),
  };
}

function draft(...sections: ReturnType<typeof section>[]): Composition {
  return {
    resourceType: 'Composition',
    meta: { profile: [PROFILE] },
    extension: [{ url: RECIPIENT, valueReference: { reference: clinic } }],
    status: 'preliminary',
    type: { coding: [{ system: 'http://loinc.org', code: '34133-9' }] },
    subject: { reference: `Patient/${client.id}` },
    date: '2026-12-07',
    author: [{ reference: therapist }],
    custodian: { reference: practice },
    title: 'Update for your pelvic-floor physiotherapist',
    section: [
      {
        title: 'Why I am writing',
        code: { coding: [{ system: SECTION, code: 'letter' }] },
        text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><p>So you do not have to ask again.</p></div>' },
      },
      ...sections,
    ],
  };
}

async function remove(token: string, path: string) {
  return stack.t.http.delete(`/fhir/R4/${path}`).set('Authorization', `Bearer ${token}`);
}

async function post(token: string, path: string, body: unknown) {
  return as(token).post(path, body);
}

function parameters(values: Record<string, string>): Parameters {
  return { resourceType: 'Parameters', parameter: Object.entries(values).map(([name, valueString]) => ({ name, valueString })) };
}

beforeAll(async () => {
  stack = await startNotifyStack();
  const { t } = stack;
  const admin = as(t.adminToken);
  practice = `Organization/${(await admin.post('Organization', buildOrganization({ name: 'Practice' }))).body.id}`;
  clinic = `Organization/${(await admin.post('Organization', buildOrganization({ name: 'Pelvic floor PT' }))).body.id}`;
  otherClinic = `Organization/${(await admin.post('Organization', buildOrganization({ name: 'Another clinic' }))).body.id}`;
  therapist = `Practitioner/${(await admin.post('Practitioner', buildPractitioner())).body.id}`;
  practiceToken = await (await registerSystemClient(t, practice, 'system/*.cruds')).token();
  clinicToken = await (await registerSystemClient(t, clinic, 'system/*.cruds')).token();
  otherClinicToken = await (await registerSystemClient(t, otherClinic, 'system/*.cruds')).token();
  const practiceApp = await registerApp(t, 'user/*.cruds');
  therapistToken = (await logInUser(t, practiceApp, { fhirUser: therapist, organization: practice }, 'user/*.cruds')).access_token;

  client = (await as(practiceToken).post('Patient', buildPatient({ managingOrganization: { reference: practice } }))).body as Patient;
  const clientApp = await registerApp(t, 'launch/patient patient/*.rs patient/Consent.cru');
  clientToken = (await logInUser(t, clientApp, { fhirUser: `Patient/${client.id}` }, 'patient/*.rs patient/Consent.cru')).access_token;

  trauma = (
    await as(practiceToken).post('Condition', {
      resourceType: 'Condition',
      meta: tagged('trauma-history'),
      subject: { reference: `Patient/${client.id}` },
      code: { text: 'Summary of trauma history relevant to pelvic-floor care' },
    })
  ).body as Condition;
  homework = (await as(practiceToken).post('Observation', { ...buildObservation(client.id ?? ''), meta: tagged('progress') })).body as Observation;
  mood = (await as(practiceToken).post('Observation', { ...buildObservation(client.id ?? ''), meta: tagged('mental-health') })).body as Observation;
  note = (
    await as(practiceToken).post('DocumentReference', {
      resourceType: 'DocumentReference',
      meta: tagged('psychotherapy-notes'),
      status: 'current',
      subject: { reference: `Patient/${client.id}` },
      content: [{ attachment: { contentType: 'text/plain', data: 'bm90ZQ==' } }],
    })
  ).body as DocumentReference;
  for (const resource of [trauma, homework, mood, note]) {
    expect(resource.id).toBeDefined();
  }
  // The client shares trauma history and progress with both clinics, from the client's own token.
  for (const recipient of [clinic, otherClinic]) {
    const given = await as(clientToken).post('Consent', buildSharingConsent({ patient: `Patient/${client.id}`, custodian: practice, recipients: [recipient], categories: ['trauma-history', 'progress'] }));
    expect(given.status).toBe(201);
    if (recipient === clinic) {
      consent = given.body as Consent;
    }
  }
}, 120_000);

afterAll(async () => {
  await stack.close();
});

test('the clinic subscribes to the coordinated-update topic', async () => {
  await stack.subscribe(clinicToken, '/clinic', TOPIC, { content: 'full-resource' });
});

test('an update naming a category outside the consent, or a psychotherapy note, is refused and nothing is stored', async () => {
  const outside = await post(therapistToken, 'Composition', draft(section('progress', homework), section('mental-health', mood)));
  expect(outside.status).toBe(422);
  expect(JSON.stringify(outside.body)).toContain('mental-health');
  const withNote = await post(therapistToken, 'Composition', draft(section('psychotherapy-notes', note)));
  expect(withNote.status).toBe(422);
  expect(JSON.stringify(withNote.body)).toContain('sychotherapy');
  const misfiled = await post(therapistToken, 'Composition', draft(section('progress', trauma)));
  expect(misfiled.status).toBe(422);
  const search = await as(practiceToken).get(`Composition?subject=Patient/${client.id}`);
  expect((search.body as Bundle).total).toBe(0);
});

test('the therapist drafts, submits, and the client approves: the clinic is notified and reads exactly the approved content', async () => {
  const created = await post(therapistToken, 'Composition', draft(section('trauma-history', trauma), section('progress', homework)));
  expect(created.status).toBe(201);
  const drafted = created.body as Composition;
  expect(stateOf(drafted)).toBe('draft');
  expect(drafted.status).toBe('preliminary');
  expect(drafted.meta?.tag).toContainEqual({ system: CATEGORY, code: 'trauma-history' });
  expect(hasLabel(drafted, { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'SDV' })).toBe(true);

  // A draft is the practice's: neither the clinic nor the client sees it; a PUT cannot move its state.
  expect((await as(clinicToken).get(`Composition/${drafted.id}`)).status).toBe(404);
  expect((await as(clientToken).get(`Composition/${drafted.id}`)).status).toBe(404);
  const jumped = await as(therapistToken).put(`Composition/${drafted.id}`, { ...drafted, status: 'final', extension: [...(drafted.extension ?? []).filter((e) => e.url !== STATE), { url: STATE, valueCode: 'released' }] });
  expect(jumped.status).toBe(422);
  // The client cannot approve what was never submitted (it does not see it), nor can the practice approve at all.
  expect((await post(clientToken, `Composition/${drafted.id}/$approve`, parameters({ 'signature-name': 'Alex Rivera', statement: 'I agree' }))).status).toBe(404);

  const submitted = await post(therapistToken, `Composition/${drafted.id}/$submit`, {});
  expect(submitted.status).toBe(200);
  const awaiting = submitted.body as Composition;
  expect(stateOf(awaiting)).toBe('awaiting-approval');
  const entries = (awaiting.section ?? []).flatMap((s) => s.entry ?? []).map((e) => e.reference);
  expect(entries).toEqual([`Condition/${trauma.id}/_history/1`, `Observation/${homework.id}/_history/1`]);
  expect((await as(clinicToken).get(`Composition/${drafted.id}`)).status).toBe(404);
  expect((await as(clientToken).get(`Composition/${drafted.id}`)).status).toBe(200);
  // The client's "waiting for you" list.
  const waiting = (await as(clientToken).get(`Composition?subject=Patient/${client.id}&update-state=awaiting-approval`)).body as Bundle;
  expect(waiting.entry?.map((e) => e.resource?.id)).toEqual([drafted.id]);
  expect((await as(therapistToken).put(`Composition/${drafted.id}`, awaiting)).status).toBe(422);
  expect((await post(practiceToken, `Composition/${drafted.id}/$approve`, parameters({ 'signature-name': 'Alex Rivera', statement: 'I agree' }))).status).toBe(403);
  expect((await post(clientToken, `Composition/${drafted.id}/$approve`, parameters({ statement: 'I agree' }))).status).toBe(400);

  // The homework changes after submission: the update still names the version the client saw.
  const changed = await as(practiceToken).put(`Observation/${homework.id}`, { ...homework, valueQuantity: { value: 10, unit: '%', system: 'http://unitsofmeasure.org', code: '%' } });
  expect(changed.status).toBe(200);

  const approved = await post(clientToken, `Composition/${drafted.id}/$approve`, parameters({ 'signature-name': 'Alex Rivera', statement: 'I agree to send this update to my physiotherapist.' }));
  expect(approved.status).toBe(200);
  released = approved.body as Composition;
  expect(stateOf(released)).toBe('released');
  expect(released.status).toBe('final');
  expect(released.attester?.[0]).toMatchObject({ mode: 'personal', party: { reference: `Patient/${client.id}` } });
  const notice = released.section?.find((s) => s.code?.coding?.some((c) => c.code === 'redisclosure-notice'));
  expect(notice?.text?.div).toContain('not sufficient');
  expect((await as(therapistToken).put(`Composition/${drafted.id}`, released)).status).toBe(422);

  // The clinic's system is notified, with the released update marked against re-disclosure.
  const event = await stack.receiver.waitFor('the release notification', () => stack.receiver.events('/clinic')[0], 15_000);
  const sent = event.bundle.entry?.map((e) => e.resource).find((r) => r?.resourceType === 'Composition') as Composition | undefined;
  expect(sent?.id).toBe(drafted.id);
  expect(stateOf(sent as Composition)).toBe('released');
  expect(hasLabel(sent, NORDSCLCD)).toBe(true);

  // It reads the update and exactly the versions it names, each marked against re-disclosure.
  const read = await as(clinicToken).get(`Composition/${drafted.id}`);
  expect(read.status).toBe(200);
  expect(hasLabel(read.body as Composition, NORDSCLCD)).toBe(true);
  const frozen = await as(clinicToken).get(`Observation/${homework.id}/_history/1`);
  expect(frozen.status).toBe(200);
  expect((frozen.body as Observation).valueQuantity?.value).toBe(80);
  expect(hasLabel(frozen.body as Observation, NORDSCLCD)).toBe(true);
  const found = await as(clinicToken).get(`Composition?recipient=${clinic}&update-state=released`);
  expect((found.body as Bundle).entry?.map((e) => e.resource?.id)).toEqual([drafted.id]);
  expect(hasLabel((found.body as Bundle).entry?.[0]?.resource, NORDSCLCD)).toBe(true);
  expect(hasLabel(found.body as Bundle, NORDSCLCD)).toBe(true);
  // Its summary of the client holds the update too, the document and every entry marked.
  const summary = (await as(clinicToken).get(`Patient/${client.id}/$summary`)).body as Bundle;
  expect(hasLabel(summary, NORDSCLCD)).toBe(true);
  expect(summary.entry?.every((e) => hasLabel(e.resource, NORDSCLCD))).toBe(true);
  expect(summary.entry?.some((e) => e.resource?.id === drafted.id)).toBe(true);
  // The steps' Provenances (the client's signature among them) are the client's and the practice's, not the clinic's.
  const provenances = (await as(clinicToken).get(`Provenance?patient=Patient/${client.id}`)).body as Bundle;
  expect(JSON.stringify(provenances)).not.toContain(EVENT);
  const own = (await as(practiceToken).get(`Provenance?patient=Patient/${client.id}`)).body as Bundle;
  expect(JSON.stringify(own)).toContain('Approval Signature');
  // A released update stays on record; a draft may be deleted.
  expect((await remove(therapistToken, `Composition/${drafted.id}`)).status).toBe(422);
  const scrap = (await post(therapistToken, 'Composition', draft(section('progress', homework)))).body as Composition;
  expect((await remove(therapistToken, `Composition/${scrap.id}`)).status).toBe(204);
  // Its history shows the released version only: the draft and the version awaiting approval were never its to see.
  const history = (await as(clinicToken).get(`Composition/${drafted.id}/_history`)).body as Bundle<Composition>;
  expect(history.entry?.map((e) => stateOf(e.resource as Composition))).toEqual(['released']);
  expect((await as(clinicToken).get(`Composition/${drafted.id}/_history/1`)).status).toBe(404);
  // Another clinic with the same consent is not its recipient: the update is as absent as one never stored.
  expect((await as(otherClinicToken).get(`Composition/${drafted.id}`)).status).toBe(404);
}, 60_000);

test('a declined update is never visible to the clinic; the reason reaches the therapist only', async () => {
  const created = (await post(therapistToken, 'Composition', draft(section('progress', homework)))).body as Composition;
  expect((await post(therapistToken, `Composition/${created.id}/$submit`, {})).status).toBe(200);
  const declined = await post(clientToken, `Composition/${created.id}/$decline`, parameters({ reason: 'Not yet, please' }));
  expect(declined.status).toBe(200);
  expect(stateOf(declined.body as Composition)).toBe('declined');
  expect((declined.body as Composition).status).toBe('entered-in-error');
  expect((await as(clinicToken).get(`Composition/${created.id}`)).status).toBe(404);
  expect((await post(clientToken, `Composition/${created.id}/$approve`, parameters({ 'signature-name': 'Alex Rivera', statement: 'I agree' }))).status).toBe(422);

  const reasons = (await as(therapistToken).get(`Communication?subject=Patient/${client.id}`)).body as Bundle<Communication>;
  const reason = reasons.entry?.map((e) => e.resource).find((c) => c?.category?.some((cat) => cat.coding?.some((x) => x.system === EVENT)));
  expect(reason?.payload?.[0]?.contentString).toBe('Not yet, please');
  expect(reason?.recipient).toEqual([{ reference: therapist }]);
  const clinicSees = (await as(clinicToken).get(`Communication?subject=Patient/${client.id}`)).body as Bundle;
  expect(clinicSees.total).toBe(0);
  const listed = (await as(clinicToken).get(`Composition?subject=Patient/${client.id}`)).body as Bundle;
  expect(listed.entry?.map((e) => e.resource?.id)).toEqual([released.id]);
});

test('the practice withdraws an update awaiting approval: the client still sees it, the clinic never does', async () => {
  const created = (await post(therapistToken, 'Composition', draft(section('trauma-history', trauma)))).body as Composition;
  expect((await post(therapistToken, `Composition/${created.id}/$submit`, {})).status).toBe(200);
  expect((await post(clientToken, `Composition/${created.id}/$withdraw`, {})).status).toBe(403);
  const withdrawn = await post(therapistToken, `Composition/${created.id}/$withdraw`, {});
  expect(withdrawn.status).toBe(200);
  expect(stateOf(withdrawn.body as Composition)).toBe('withdrawn');
  expect((await as(clientToken).get(`Composition/${created.id}`)).status).toBe(200);
  expect((await as(clinicToken).get(`Composition/${created.id}`)).status).toBe(404);
  expect((await post(therapistToken, `Composition/${created.id}/$submit`, {})).status).toBe(422);
});

test('where the client chose no approval for a provider (update-approval false), $submit releases at once', async () => {
  const physician = `Organization/${(await as(stack.t.adminToken).post('Organization', buildOrganization({ name: 'Physician' }))).body.id}`;
  const physicianToken = await (await registerSystemClient(stack.t, physician, 'system/*.cruds')).token();
  const noApproval = {
    ...buildSharingConsent({ patient: `Patient/${client.id}`, custodian: practice, recipients: [physician], categories: ['progress'] }),
    extension: [{ url: 'https://carecircle.dev/fhir/StructureDefinition/update-approval', valueBoolean: false }],
  };
  expect((await as(clientToken).post('Consent', noApproval)).status).toBe(201);
  const forPhysician = { ...draft(section('progress', homework)), extension: [{ url: RECIPIENT, valueReference: { reference: physician } }] };
  const created = (await post(therapistToken, 'Composition', forPhysician)).body as Composition;
  const submitted = await post(therapistToken, `Composition/${created.id}/$submit`, {});
  expect(submitted.status).toBe(200);
  expect(stateOf(submitted.body as Composition)).toBe('released');
  expect((submitted.body as Composition).section?.some((s) => s.code?.coding?.some((c) => c.code === 'redisclosure-notice'))).toBe(true);
  const read = await as(physicianToken).get(`Composition/${created.id}`);
  expect(read.status).toBe(200);
  expect((read.body as Composition).section?.flatMap((s) => s.entry ?? []).map((e) => e.reference)).toEqual([`Observation/${homework.id}/_history/2`]);
});

test('every step is in the client accounting, the clinic reads included', async () => {
  const events = (await as(clientToken).get(`AuditEvent?patient=Patient/${client.id}&_count=200`)).body as Bundle<AuditEvent>;
  const steps = new Set(events.entry?.flatMap((e) => e.resource?.subtype?.filter((s) => s.system === EVENT).map((s) => s.code) ?? []));
  expect([...steps].sort()).toEqual(['approved', 'declined', 'drafted', 'released', 'submitted', 'withdrawn']);
  const readsOfTheUpdate = events.entry?.filter(
    (e) => e.resource?.outcome === '0' && e.resource.agent?.some((a) => a.who?.reference === clinic) && e.resource.entity?.some((x) => x.what?.reference?.startsWith(`Composition/${released.id}/`)),
  );
  expect(readsOfTheUpdate?.length).toBeGreaterThan(0);
});

test('a revocation after release stops further reads of the update at once', async () => {
  const stopped = await as(clientToken).put(`Consent/${consent.id}`, { ...consent, status: 'inactive' });
  expect(stopped.status).toBe(200);
  expect((await as(clinicToken).get(`Composition/${released.id}`)).status).toBe(404);
  expect((await as(clinicToken).get(`Observation/${homework.id}/_history/1`)).status).toBe(404);
});
