/**
 * Dead letters end to end (HTTP -> outbox -> BullMQ on real Redis -> worker -> webhook on loopback): a notification
 * whose receiver stayed down through every retry is listed by the operator's admin API, and replayed to the receiver
 * once it is back, signed with its original event id; a dead letter about a resource the partner may no longer read
 * (the client revoked the consent) is withheld on replay, nothing sent; every replay is audited, outside any client's
 * record.
 */
import { buildSharingConsent } from '@carecircle/consent';
import { fhirClient, registerSystemClient, type TestApp } from '@carecircle/api/testing';
import { readSubscriptionEvent } from '@carecircle/store';
import { buildOrganization, buildPatient } from '@carecircle/testing';
import type { AuditEvent, Bundle, Communication, Consent, Patient, Subscription } from '@medplum/fhirtypes';
import request from 'supertest';
import type { NotificationReceiver } from '../support/notification-receiver';
import { startNotifyStack, type NotifyStack } from '../support/notify-stack';
import { waitFor } from '../support/wait-for';

const SHARE = 'https://carecircle.dev/fhir/CodeSystem/share-category';
const TOPIC = 'https://carecircle.dev/fhir/SubscriptionTopic/communication';
const ADMIN_ACTION = 'https://carecircle.dev/fhir/CodeSystem/admin-action';

interface ListedDeadLetter {
  id: string;
  subscriptionId: string;
  eventNumber: number;
  failedAt: string;
  attempts: number;
  lastStatus?: number;
  reason?: string;
}

let stack: NotifyStack;
let t: TestApp;
let receiver: NotificationReceiver;
let practiceToken: string;
let clinicToken: string;
let client: Patient;
let consent: Consent;
let subscription: Subscription;

const admin = () => `Bearer ${t.adminToken}`;

// Dead-lettering waits out the delivery retries: up to 20 s.
const waitUntil = <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => waitFor(what, probe, 20_000, 50);

async function listDeadLetters(query = ''): Promise<{ total: number; deadLetters: ListedDeadLetter[]; next?: string }> {
  const res = await request(t.app).get(`/admin/dead-letters${query}`).set('Authorization', admin()).expect(200);
  return res.body as { total: number; deadLetters: ListedDeadLetter[]; next?: string };
}

/** Writes a Communication the clinic's consent covers; resolves once its event is numbered for the subscription. */
async function writeCommunication(text: string): Promise<void> {
  const res = await fhirClient(t, practiceToken).post('Communication', {
    resourceType: 'Communication',
    meta: { tag: [{ system: SHARE, code: 'progress' }] },
    status: 'completed',
    subject: { reference: `Patient/${client.id}` },
    payload: [{ contentString: text }],
  } satisfies Communication);
  expect(res.status).toBe(201);
}

async function outcomeOf(eventNumber: number): Promise<string | undefined> {
  return (await readSubscriptionEvent(t.services.db, subscription.id as string, eventNumber))?.outcome;
}

beforeAll(async () => {
  stack = await startNotifyStack();
  ({ t, receiver } = stack);
  const operator = fhirClient(t, t.adminToken);
  const practice = `Organization/${(await operator.post('Organization', buildOrganization({ name: 'Practice' }))).body.id}`;
  const clinic = `Organization/${(await operator.post('Organization', buildOrganization({ name: 'Clinic' }))).body.id}`;
  practiceToken = await (await registerSystemClient(t, practice, 'system/*.cruds')).token();
  clinicToken = await (await registerSystemClient(t, clinic, 'system/*.cruds')).token();
  client = (await fhirClient(t, practiceToken).post('Patient', buildPatient())).body as Patient;
  const signed = {
    ...buildSharingConsent({ patient: `Patient/${client.id}`, custodian: practice, recipients: [clinic], categories: ['progress'] }),
    sourceAttachment: { contentType: 'application/pdf', data: 'JVBERi0=' },
  };
  const created = await fhirClient(t, practiceToken).post('Consent', signed);
  expect(created.status).toBe(201);
  consent = created.body as Consent;
  subscription = await stack.subscribe(clinicToken, '/clinic', TOPIC);
}, 60_000);

afterAll(async () => {
  await stack.close();
});

test('a notification that used up its retries is listed, and replayed to the receiver once it is back', async () => {
  receiver.down('/clinic');
  await writeCommunication('first');
  const listed = await waitUntil('the dead letter', async () => (await listDeadLetters()).deadLetters[0]);
  expect(listed).toEqual({
    id: `${subscription.id}_1`,
    subscriptionId: subscription.id,
    eventNumber: 1,
    failedAt: expect.any(String),
    attempts: 8,
    lastStatus: 503,
    reason: 'status 503',
  });
  expect(Date.parse(listed.failedAt)).toBeLessThanOrEqual(Date.now());
  const refused = receiver.received.filter((r) => r.path === '/clinic' && r.type === 'event-notification');
  expect(refused.every((r) => r.answered === 503)).toBe(true);
  const eventId = refused[0]?.headers['x-carecircle-event-id'];
  expect(eventId).toEqual(expect.any(String));

  receiver.up('/clinic');
  const replay = await request(t.app)
    .post(`/admin/dead-letters/${listed.id}/replay`)
    .set('Authorization', admin())
    .set('X-Request-Id', 'replay-request-1')
    .expect(202);
  expect(replay.body).toEqual({ id: listed.id, subscriptionId: subscription.id, eventNumber: 1, status: 'queued' });
  const delivered = await receiver.waitFor('the replayed notification', () => receiver.events('/clinic')[0], 15_000);
  expect(delivered.eventNumbers).toEqual([1]);
  expect(delivered.headers['x-carecircle-event-id']).toBe(eventId);
  await waitUntil('the event settled as delivered', async () => ((await outcomeOf(1)) === 'delivered' ? true : undefined));
  expect((await listDeadLetters()).total).toBe(0);

  // Replayed once: asking again finds nothing to replay.
  await request(t.app).post(`/admin/dead-letters/${listed.id}/replay`).set('Authorization', admin()).expect(404);
  const audits = (await fhirClient(t, t.adminToken).get(`AuditEvent?type=${encodeURIComponent('http://dicom.nema.org/resources/ontology/DCM|110100')}&_count=1000`))
    .body as Bundle<AuditEvent>;
  const replays = (audits.entry ?? []).map((e) => e.resource as AuditEvent).filter((e) => e.subtype?.[0]?.code === 'dead-letter-replay');
  expect(replays).toHaveLength(1);
  expect(replays[0]).toMatchObject({
    subtype: [{ system: ADMIN_ACTION, code: 'dead-letter-replay' }],
    action: 'E',
    source: { site: 'replay-request-1' },
    entity: [{ what: { identifier: { system: 'https://carecircle.dev/fhir/dead-letter', value: listed.id } } }],
  });
  const inRecord = (await fhirClient(t, t.adminToken).get(`AuditEvent?patient=Patient/${client.id}&_count=1000`)).body as Bundle<AuditEvent>;
  expect(JSON.stringify(inRecord)).not.toContain(ADMIN_ACTION);
}, 60_000);

test('dead letters page; one about what the partner may no longer read is withheld on replay, nothing sent', async () => {
  receiver.down('/clinic');
  await writeCommunication('second');
  await writeCommunication('third');
  const both = await waitUntil('two dead letters', async () => {
    const page = await listDeadLetters();
    return page.total === 2 ? page : undefined;
  });
  const [second, third] = both.deadLetters.map((d) => d.eventNumber) as [number, number];
  expect(third).toBe(second + 1);
  const firstPage = await listDeadLetters('?count=1');
  expect(firstPage).toMatchObject({ total: 2, deadLetters: [{ eventNumber: second }], next: '/admin/dead-letters?offset=1&count=1' });
  const secondPage = await listDeadLetters('?offset=1&count=1');
  expect(secondPage.deadLetters.map((d) => d.eventNumber)).toEqual([third]);
  expect(secondPage.next).toBeUndefined();
  const deliveredBefore = receiver.events('/clinic').flatMap((r) => r.eventNumbers);

  // The client revokes the consent; the receiver comes back; the operator replays both.
  const revoked = await fhirClient(t, practiceToken).put(`Consent/${consent.id}`, { ...consent, status: 'inactive' });
  expect(revoked.status).toBe(200);
  receiver.up('/clinic');
  for (const deadLetter of both.deadLetters) {
    await request(t.app).post(`/admin/dead-letters/${deadLetter.id}/replay`).set('Authorization', admin()).expect(202);
  }
  await waitUntil('both replays settled', async () =>
    (await outcomeOf(second)) === 'withheld' && (await outcomeOf(third)) === 'withheld' ? true : undefined,
  );
  expect(receiver.events('/clinic').flatMap((r) => r.eventNumbers)).toEqual(deliveredBefore);
  const sent = receiver.received.filter((r) => r.path === '/clinic').map((r) => r.body).join('\n');
  expect(sent).not.toContain('third');
  expect((await listDeadLetters()).total).toBe(0);
}, 60_000);

test('bad listing parameters are 400 naming them; an unknown or malformed dead letter is 404; the admin token is required', async () => {
  for (const [query, name] of [
    ['?count=0', 'count'],
    ['?count=201', 'count'],
    ['?offset=-1', 'offset'],
    ['?offset=x', 'offset'],
    ['?count=1&count=2', 'count'],
    ['?status=failed', 'status'],
  ] as const) {
    const res = await request(t.app).get(`/admin/dead-letters${query}`).set('Authorization', admin()).expect(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].details.text).toContain(name);
  }
  for (const id of [`${subscription.id}_999`, 'no-such-subscription_1', 'not-an-id', '%00_1', `${subscription.id}_0`]) {
    const res = await request(t.app).post(`/admin/dead-letters/${id}/replay`).set('Authorization', admin()).expect(404);
    expect(res.body.resourceType).toBe('OperationOutcome');
  }
  await request(t.app).get('/admin/dead-letters').expect(401);
  await request(t.app).post(`/admin/dead-letters/${subscription.id}_1/replay`).expect(401);
});
