/**
 * One request's id followed end to end (HTTP -> outbox -> BullMQ on real Redis -> worker -> webhook): the worker's log
 * lines for relaying, matching and delivering the change a write made all carry the id of that HTTP request (its
 * `X-Request-Id`), with ids and codes only, and the delivery shows in the process's /metrics (attempts by outcome,
 * latency from commit to 2xx, subscriptions by status).
 */
import { randomBytes } from 'node:crypto';
import { buildSharingConsent } from '@carecircle/consent';
import { fhirClient, registerSystemClient, type TestApp } from '@carecircle/api/testing';
import { buildOrganization, buildPatient } from '@carecircle/testing';
import type { Consent, Patient } from '@medplum/fhirtypes';
import { startNotifyStack, type NotifyStack } from '../support/notify-stack';

const CONSENT_TOPIC = 'https://carecircle.dev/fhir/SubscriptionTopic/consent';

let stack: NotifyStack;
let t: TestApp;
let practice: string;
let partner: string;
let practiceToken: string;
let client: Patient;

beforeAll(async () => {
  stack = await startNotifyStack();
  ({ t } = stack);
  const admin = fhirClient(t, t.adminToken);
  practice = `Organization/${(await admin.post('Organization', buildOrganization({ name: 'Practice' }))).body.id}`;
  partner = `Organization/${(await admin.post('Organization', buildOrganization({ name: 'Partner' }))).body.id}`;
  practiceToken = await (await registerSystemClient(t, practice, 'system/*.cruds')).token();
  client = (await fhirClient(t, practiceToken).post('Patient', buildPatient())).body as Patient;
});

afterAll(async () => {
  await stack.close();
});

interface LogLine {
  msg: string;
  requestId?: string;
  [field: string]: unknown;
}

const linesOf = (requestId: string): LogLine[] =>
  stack.workerLogLines.map((line) => JSON.parse(line) as LogLine).filter((line) => line.requestId === requestId);

test("the worker's relay, matching and delivery log lines carry the id of the request whose write caused them", async () => {
  await stack.subscribe(practiceToken, '/practice', CONSENT_TOPIC);
  const requestId = `trail-${randomBytes(8).toString('hex')}`;
  const res = await fhirClient(t, practiceToken, { 'X-Request-Id': requestId }).post('Consent', {
    ...buildSharingConsent({ patient: `Patient/${client.id}`, custodian: practice, recipients: [partner], categories: ['care-plan'] }),
    sourceAttachment: { contentType: 'application/pdf', title: 'Signed release', data: Buffer.from('%PDF-1.4 signed').toString('base64') },
  });
  expect(res.status).toBe(201);
  expect(res.headers['x-request-id']).toBe(requestId);
  const consent = res.body as Consent;

  await stack.receiver.waitFor('the notification', () => stack.receiver.events('/practice')[0], 15_000);
  const delivered = await stack.receiver.waitFor(
    'the delivery log line',
    () => linesOf(requestId).find((line) => line.msg === 'notification attempt'),
    5_000,
  );
  expect(delivered).toMatchObject({ outcome: 'delivered', status: 200, attempt: 1, eventNumber: 1 });
  const trail = linesOf(requestId);
  expect(trail.map((line) => line.msg)).toEqual(['outbox event relayed', 'outbox event matched', 'notification attempt']);
  expect(trail[0]).toMatchObject({ kind: 'create', resourceType: 'Consent' });
  expect(trail[1]).toMatchObject({ resourceType: 'Consent', subscriptions: 1 });
  // Ids and codes only: no resource id or reference the client chose, no content.
  for (const line of trail) {
    expect(JSON.stringify(line)).not.toContain(client.id);
    expect(JSON.stringify(line)).not.toContain(consent.id);
  }

  // The event is settled (and counted so) just after the attempt is logged: scrape until it shows.
  let metrics = '';
  for (let i = 0; i < 100 && !/^carecircle_notification_events_settled_total\{outcome="delivered"\} [1-9]/m.test(metrics); i++) {
    await new Promise((r) => setTimeout(r, i === 0 ? 0 : 50));
    metrics = (await t.http.get('/metrics').set('Authorization', `Bearer ${t.adminToken}`)).text;
  }
  expect(metrics).toMatch(/^carecircle_notification_attempts_total\{outcome="delivered"\} [1-9]\d*$/m);
  expect(metrics).toMatch(/^carecircle_notification_events_settled_total\{outcome="delivered"\} [1-9]\d*$/m);
  expect(metrics).toMatch(/^carecircle_notification_delivery_seconds_count [1-9]\d*$/m);
  expect(metrics).toMatch(/^carecircle_subscriptions\{status="active"\} 1$/m);
});
