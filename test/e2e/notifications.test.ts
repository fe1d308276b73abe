/**
 * Notifications end to end: a partner subscribes over the FHIR API; a referral made over HTTP reaches the partner's
 * webhook (a real server on loopback) signed, through the outbox, BullMQ on real Redis and the real worker; a
 * notification that waits while the client revokes consent is never delivered; missed events can be fetched again.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSharingConsent } from '@carecircle/consent';
import { createLogger } from '@carecircle/log';
import { buildBackportSubscription, verifyNotificationSignature } from '@carecircle/notify';
import { createTestApp, fhirClient, registerSystemClient, type TestApp } from '@carecircle/api/testing';
import { buildOrganization, buildPatient, buildPractitioner } from '@carecircle/testing';
import { startWorker, type RunningWorker } from '@carecircle/worker';
import type { Bundle, Consent, Parameters, Patient, ServiceRequest, Subscription, Task } from '@medplum/fhirtypes';
import { waitFor } from '../support/wait-for';

const SECRET = 'a-partner-chosen-secret-of-at-least-32-chars';
const REFERRAL = { system: 'http://snomed.info/sct', code: '3457005', display: 'Patient referral' };

interface Received {
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
  bundle: Bundle;
}

let t: TestApp;
let worker: RunningWorker;
let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];
let receiverStatus = 200;
let practice: string;
let clinic: string;
let therapist: string;
let practiceToken: string;
let clinicToken: string;
let client: Patient;
let consent: Consent;
let subscription: Subscription;

const eventNumbers = (r: Received) =>
  ((r.bundle.entry?.[0]?.resource as Parameters).parameter ?? [])
    .filter((p) => p.name === 'notification-event')
    .map((p) => Number(p.part?.find((x) => x.name === 'event-number')?.valueString));
const notificationType = (r: Received) => (r.bundle.entry?.[0]?.resource as Parameters).parameter?.find((p) => p.name === 'type')?.valueCode;
const events = () => received.filter((r) => notificationType(r) === 'event-notification');

function referral(): ServiceRequest {
  return {
    resourceType: 'ServiceRequest',
    status: 'active',
    intent: 'order',
    category: [{ coding: [REFERRAL] }],
    code: { text: 'Pelvic floor PT evaluation' },
    subject: { reference: `Patient/${client.id}` },
    requester: { reference: therapist },
    performer: [{ reference: clinic }],
  };
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      if (receiverStatus !== 200) {
        res.writeHead(receiverStatus, { 'Retry-After': '1' }).end();
        return;
      }
      received.push({ at: Date.now(), headers: req.headers, body, bundle: JSON.parse(body) as Bundle });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

  t = await createTestApp({ NOTIFY_ALLOW_LOOPBACK_HTTP: 'true' });
  worker = await startWorker({
    config: t.services.config,
    db: t.services.db,
    logger: createLogger('silent'),
    notify: { allowLoopbackHttp: true, relayIntervalMs: 50, retryPolicy: { maxAttempts: 6, baseDelayMs: 300, maxDelayMs: 2000, maxRetryAfterMs: 2000, errorAfterFailures: 3 } },
  });
  const admin = fhirClient(t, t.adminToken);
  practice = `Organization/${(await admin.post('Organization', buildOrganization({ name: 'Practice' }))).body.id}`;
  clinic = `Organization/${(await admin.post('Organization', buildOrganization({ name: 'Clinic' }))).body.id}`;
  therapist = `Practitioner/${(await admin.post('Practitioner', buildPractitioner())).body.id}`;
  practiceToken = await (await registerSystemClient(t, practice, 'system/*.cruds')).token();
  clinicToken = await (await registerSystemClient(t, clinic, 'system/*.cruds')).token();
  client = (await fhirClient(t, practiceToken).post('Patient', buildPatient())).body as Patient;
  const signedConsent = {
    ...buildSharingConsent({ patient: `Patient/${client.id}`, custodian: practice, recipients: [clinic], categories: ['care-plan'] }),
    sourceAttachment: { contentType: 'application/pdf', data: 'JVBERi0=' },
  };
  consent = (await fhirClient(t, practiceToken).post('Consent', signedConsent)).body as Consent;
});

afterAll(async () => {
  await worker.close();
  await t.close();
  await new Promise((resolve) => receiver.close(resolve));
});

test('a partner subscribes: the secret is never returned and a handshake activates the subscription', async () => {
  const res = await fhirClient(t, clinicToken).post(
    'Subscription',
    buildBackportSubscription({ topic: 'https://carecircle.dev/fhir/SubscriptionTopic/referral', endpoint: receiverUrl, secret: SECRET, filters: [`Task?owner=${clinic}`] }),
  );
  expect(res.status).toBe(201);
  subscription = res.body as Subscription;
  expect(JSON.stringify(subscription)).not.toContain(SECRET);
  await waitFor('handshake', () => received.find((r) => notificationType(r) === 'handshake'));
  const active = await waitFor('active status', async () => {
    const current = (await fhirClient(t, clinicToken).get(`Subscription/${subscription.id}`)).body as Subscription;
    return current.status === 'active' ? current : undefined;
  });
  expect(JSON.stringify(active)).not.toContain(SECRET);
  // Another organization cannot see it.
  expect((await fhirClient(t, practiceToken).get(`Subscription/${subscription.id}`)).status).toBe(404);
});

test('a referral reaches the partner signed, within a second, with a numbered SubscriptionStatus first', async () => {
  const before = Date.now();
  const created = await fhirClient(t, practiceToken).post('ServiceRequest', referral());
  expect(created.status).toBe(201);
  const notification = await waitFor('referral notification', () => events()[0]);
  expect(notification.at - before).toBeLessThan(1000);
  expect(verifyNotificationSignature(SECRET, notification.body, notification.headers['x-carecircle-signature'] as string)).toBe(true);
  expect(verifyNotificationSignature('not-the-secret-not-the-secret-xx', notification.body, notification.headers['x-carecircle-signature'] as string)).toBe(false);
  expect(notification.headers['x-carecircle-event-id']).toBeTruthy();
  expect(notification.bundle.type).toBe('history');
  expect(notification.bundle.entry?.[0]?.resource?.resourceType).toBe('Parameters');
  expect(eventNumbers(notification)).toEqual([1]);
  const focus = notification.bundle.entry?.[1]?.fullUrl ?? '';
  expect(focus).toBe(`${t.services.config.fhirBaseUrl}/ServiceRequest/${created.body.id}`);
  // id-only: no resource content goes out by default.
  expect(notification.bundle.entry?.[1]?.resource).toBeUndefined();
});

test('a notification waiting while the client revokes consent is never delivered; $events still numbers it', async () => {
  const tasks = (await fhirClient(t, clinicToken).get(`Task?owner=${clinic}`)).body as Bundle;
  const task = tasks.entry?.[0]?.resource as Task;
  // Event 2 (the referral's Task) has arrived before the receiver goes down.
  await waitFor('the Task notification', () => (events().flatMap(eventNumbers).includes(2) ? true : undefined));
  receiverStatus = 503;
  const accepted = await fhirClient(t, clinicToken).put(`Task/${task.id}`, { ...task, status: 'accepted' });
  expect(accepted.status).toBe(200);
  // Event 2 is now retrying against a receiver that answers 503. The client revokes before it recovers.
  await new Promise((r) => setTimeout(r, 400));
  const revoked = await fhirClient(t, practiceToken).put(`Consent/${consent.id}`, { ...consent, status: 'inactive' });
  expect(revoked.status).toBe(200);
  const deliveredBefore = events().flatMap(eventNumbers);
  receiverStatus = 200;
  await new Promise((r) => setTimeout(r, 3000));
  expect(events().flatMap(eventNumbers)).toEqual(deliveredBefore);

  // Consent given again: the next change is delivered, numbered after the withheld ones (numbers are never reused).
  consent = (await fhirClient(t, practiceToken).get(`Consent/${consent.id}`)).body as Consent;
  expect((await fhirClient(t, practiceToken).put(`Consent/${consent.id}`, { ...consent, status: 'active' })).status).toBe(200);
  const current = (await fhirClient(t, clinicToken).get(`Task/${task.id}`)).body as Task;
  expect((await fhirClient(t, clinicToken).put(`Task/${task.id}`, { ...current, status: 'in-progress' })).status).toBe(200);
  const next = await waitFor('the next notification', () => events().find((r) => !deliveredBefore.includes(eventNumbers(r)[0] ?? -1)));
  // Event 3 (accepted) was withheld and never sent; the next change is event 4.
  expect(deliveredBefore).toEqual([1, 2]);
  expect(eventNumbers(next)).toEqual([4]);
  expect(events().flatMap(eventNumbers)).toEqual([1, 2, 4]);

  // $events answers by number: what was delivered with its focus and timestamp, the withheld event by number only.
  const missed = await fhirClient(t, clinicToken).get(`Subscription/${subscription.id}/$events?eventsSinceNumber=1&eventsUntilNumber=5`);
  expect(missed.status).toBe(200);
  const status = (missed.body as Bundle).entry?.[0]?.resource as Parameters;
  expect(status.parameter?.find((p) => p.name === 'events-since-subscription-start')?.valueString).toBe('4');
  const listed = (status.parameter ?? [])
    .filter((p) => p.name === 'notification-event')
    .map((p) => ({
      number: Number(p.part?.find((x) => x.name === 'event-number')?.valueString),
      focus: p.part?.find((x) => x.name === 'focus')?.valueReference?.reference,
      timestamp: p.part?.find((x) => x.name === 'timestamp')?.valueInstant,
    }));
  const base = t.services.config.fhirBaseUrl;
  expect(listed.map(({ number, focus }) => ({ number, focus }))).toEqual([
    { number: 1, focus: `${base}/ServiceRequest/${task.focus?.reference?.split('/')[1]}` },
    { number: 2, focus: `${base}/Task/${task.id}` },
    { number: 3, focus: undefined },
    { number: 4, focus: `${base}/Task/${task.id}` },
  ]);
  expect(listed.map((e) => e.timestamp !== undefined)).toEqual([true, true, false, true]);
  // The bundle names only the events it may show.
  expect((missed.body as Bundle).entry?.slice(1).map((e) => e.fullUrl)).toEqual([
    `${base}/ServiceRequest/${task.focus?.reference?.split('/')[1]}`,
    `${base}/Task/${task.id}`,
    `${base}/Task/${task.id}`,
  ]);
});
