/**
 * Referral follow-through end to end, over HTTP with the real worker on real PostgreSQL and Redis, the worker's clock
 * moved by the test: the practice's business hours set the deadlines by priority; a referral left unanswered past its
 * deadline is escalated, found by a partner's search for overdue referrals sorted by deadline and by the practice's
 * search for escalated ones, and notified to a subscriber filtering on the follow-up state; the CapabilityStatement
 * lists the parameters and the metrics operation, which answers the practice per partner.
 */
import { createTestApp, fhirClient, registerSystemClient, type TestApp } from '@carecircle/api/testing';
import {
  BUSINESS_HOURS_URL,
  businessHoursOf,
  COMPLETION_DUE_URL,
  DEFAULT_REFERRAL_DEADLINES,
  FOLLOW_UP_SYSTEM,
  referralDeadlines,
  type ReferralPriority,
} from '@carecircle/care';
import { buildSharingConsent } from '@carecircle/consent';
import { createLogger } from '@carecircle/log';
import { buildBackportSubscription } from '@carecircle/notify';
import { buildOrganization, buildPatient, buildPractitioner } from '@carecircle/testing';
import { startWorker, type RunningWorker } from '@carecircle/worker';
import type { Bundle, CapabilityStatement, Organization, Parameters, Patient, ServiceRequest, Subscription, Task } from '@medplum/fhirtypes';
import { startNotificationReceiver, type NotificationReceiver } from '../../support/notification-receiver';
import { waitFor as waitForAtMost } from '../../support/wait-for';

const SECRET = 'a-partner-chosen-secret-of-at-least-32-chars';
const REFERRAL = { system: 'http://snomed.info/sct', code: '3457005', display: 'Patient referral' };

/** Opening hours of the practice: Monday to Friday 08:00-18:00 in New York. */
const NEW_YORK_WEEK = {
  url: BUSINESS_HOURS_URL,
  extension: [
    { url: 'timeZone', valueCode: 'America/New_York' },
    {
      url: 'openingHours',
      extension: [
        ...['mon', 'tue', 'wed', 'thu', 'fri'].map((day) => ({ url: 'daysOfWeek', valueCode: day })),
        { url: 'openingTime', valueTime: '08:00:00' },
        { url: 'closingTime', valueTime: '18:00:00' },
      ],
    },
  ],
};

let t: TestApp;
let worker: RunningWorker;
let receiver: NotificationReceiver;
/** The worker's clock (epoch ms). */
let now = Date.now();
let practice: string;
let clinic: string;
let therapist: string;
let practiceToken: string;
let clinicToken: string;
let client: Patient;

beforeAll(async () => {
  receiver = await startNotificationReceiver();
  t = await createTestApp({ NOTIFY_ALLOW_LOOPBACK_HTTP: 'true' });
  worker = await startWorker({
    config: t.services.config,
    db: t.services.db,
    logger: createLogger('silent'),
    notify: {
      allowLoopbackHttp: true,
      relayIntervalMs: 50,
      sweepIntervalMs: 200,
      sweepAfterMs: 1000,
      clock: () => now,
      retryPolicy: { maxAttempts: 6, baseDelayMs: 200, maxDelayMs: 1000, maxRetryAfterMs: 1000, errorAfterFailures: 3 },
    },
  });
  const admin = fhirClient(t, t.adminToken);
  practice = `Organization/${(await admin.post('Organization', buildOrganization({ name: 'Practice' }))).body.id}`;
  clinic = `Organization/${(await admin.post('Organization', buildOrganization({ name: 'Clinic' }))).body.id}`;
  therapist = `Practitioner/${(await admin.post('Practitioner', buildPractitioner())).body.id}`;
  practiceToken = await (await registerSystemClient(t, practice, 'system/*.cruds')).token();
  clinicToken = await (await registerSystemClient(t, clinic, 'system/*.cruds')).token();
  client = (await fhirClient(t, practiceToken).post('Patient', buildPatient({ managingOrganization: { reference: practice } }))).body as Patient;
  const consent = {
    ...buildSharingConsent({ patient: `Patient/${client.id}`, custodian: practice, recipients: [clinic], categories: ['care-plan'] }),
    sourceAttachment: { contentType: 'application/pdf', data: 'JVBERi0=' },
  };
  expect((await fhirClient(t, practiceToken).post('Consent', consent)).status).toBe(201);
});

afterAll(async () => {
  await worker?.close();
  await t?.close();
  await receiver?.close();
});

function referral(priority: ReferralPriority): ServiceRequest {
  return {
    resourceType: 'ServiceRequest',
    status: 'active',
    intent: 'order',
    priority,
    category: [{ coding: [REFERRAL] }],
    code: { text: 'Pelvic floor PT evaluation' },
    subject: { reference: `Patient/${client.id}` },
    requester: { reference: therapist },
    performer: [{ reference: clinic }],
  };
}

// The worker's steps run from delayed jobs and sweeps: up to 15 s.
const waitFor = <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => waitForAtMost(what, probe, 15_000, 50);

async function taskOf(serviceRequestId: string): Promise<Task> {
  const found = (await fhirClient(t, practiceToken).get(`Task?focus=ServiceRequest/${serviceRequestId}`)).body as Bundle;
  return found.entry?.[0]?.resource as Task;
}

const ids = (bundle: Bundle) => (bundle.entry ?? []).map((e) => e.resource?.id);
const followUpOf = (task: Task) => task.businessStatus?.coding?.find((c) => c.system === FOLLOW_UP_SYSTEM)?.code;

let urgent: Task;
let routine: Task;

test("the practice's business hours are checked when written: a malformed set is a 400 naming the extension", async () => {
  const stored = (await fhirClient(t, practiceToken).get(practice)).body as Organization;
  const bad = { ...stored, extension: [{ url: BUSINESS_HOURS_URL, extension: [{ url: 'timeZone', valueCode: 'Atlantis/Capital' }] }] };
  const refused = await fhirClient(t, t.adminToken).put(practice, bad);
  expect(refused.status).toBe(400);
  expect(refused.body.issue[0].expression).toEqual(['Organization.extension']);
  expect(refused.body.issue[0].details.text).toContain('IANA time zone');
  const saved = await fhirClient(t, t.adminToken).put(practice, { ...stored, extension: [NEW_YORK_WEEK] });
  expect(saved.status).toBe(200);
});

test('a referral is due by its priority in the practice business hours, on time, its consult due too', async () => {
  const organization = (await fhirClient(t, practiceToken).get(practice)).body as Organization;
  const hours = businessHoursOf(organization, 'UTC');
  for (const priority of ['urgent', 'routine'] as const) {
    const created = await fhirClient(t, practiceToken).post('ServiceRequest', referral(priority));
    expect(created.status).toBe(201);
    const task = await taskOf(created.body.id as string);
    const expected = referralDeadlines(new Date(task.authoredOn as string), priority, hours, DEFAULT_REFERRAL_DEADLINES);
    expect(task.priority).toBe(priority);
    expect(task.restriction?.period?.end).toBe(expected.acknowledgeBy.toISOString());
    expect(task.extension?.find((e) => e.url === COMPLETION_DUE_URL)?.valueDateTime).toBe(expected.completeBy.toISOString());
    expect(followUpOf(task)).toBe('on-time');
    if (priority === 'urgent') {
      urgent = task;
    } else {
      routine = task;
    }
  }
  // Urgent: 8 business hours; routine: 16. The routine deadline is the later, by one business day of ten hours' opening.
  expect(Date.parse(routine.restriction?.period?.end ?? '')).toBeGreaterThan(Date.parse(urgent.restriction?.period?.end ?? ''));
});

test('past its deadline the referral is escalated, found as overdue by search, and notified to a subscriber', async () => {
  const subscribed = await fhirClient(t, clinicToken).post(
    'Subscription',
    buildBackportSubscription({
      topic: 'https://carecircle.dev/fhir/SubscriptionTopic/referral',
      endpoint: receiver.url('/escalations'),
      secret: SECRET,
      filters: [`Task?owner=${clinic}&follow-up=escalated`],
    }),
  );
  expect(subscribed.status).toBe(201);
  const subscription = subscribed.body as Subscription;
  await waitFor('the subscription to be active', async () => {
    const current = (await fhirClient(t, clinicToken).get(`Subscription/${subscription.id}`)).body as Subscription;
    return current.status === 'active' ? current : undefined;
  });

  // A minute past the urgent deadline (the worker's clock), and Redis has lost every job meanwhile.
  const due = Date.parse(urgent.restriction?.period?.end ?? '');
  now = due + 60_000;
  const keys = await t.services.redis.keys(`${t.services.config.redisPrefix}:*`);
  if (keys.length > 0) {
    await t.services.redis.del(...keys);
  }
  const escalated = await waitFor('the escalation', async () => {
    const task = (await fhirClient(t, practiceToken).get(`Task/${urgent.id}`)).body as Task;
    return followUpOf(task) === 'escalated' ? task : undefined;
  });
  expect(escalated.status).toBe('requested');
  expect(followUpOf((await fhirClient(t, practiceToken).get(`Task/${routine.id}`)).body as Task)).toBe('on-time');

  // The partner's overdue referrals, sorted by deadline.
  const overdueAt = new Date(now).toISOString();
  const overdue = await fhirClient(t, clinicToken).get(`Task?owner=${clinic}&ack-due=lt${overdueAt}&status=requested&_sort=ack-due`);
  expect(overdue.status).toBe(200);
  expect(ids(overdue.body as Bundle)).toEqual([urgent.id]);
  const byDeadline = await fhirClient(t, clinicToken).get(`Task?owner=${clinic}&_sort=ack-due`);
  expect(ids(byDeadline.body as Bundle)).toEqual([urgent.id, routine.id]);
  const latestFirst = await fhirClient(t, clinicToken).get(`Task?owner=${clinic}&_sort=-ack-due`);
  expect(ids(latestFirst.body as Bundle)).toEqual([routine.id, urgent.id]);
  // The practice's escalated referrals.
  const needPerson = await fhirClient(t, practiceToken).get(`Task?follow-up=${encodeURIComponent(`${FOLLOW_UP_SYSTEM}|escalated`)}`);
  expect(ids(needPerson.body as Bundle)).toEqual([urgent.id]);
  // Search stays gated: a stranger's system finds nothing.
  const stranger = `Organization/${(await fhirClient(t, t.adminToken).post('Organization', buildOrganization({ name: 'Stranger' }))).body.id}`;
  const strangerToken = await (await registerSystemClient(t, stranger, 'system/*.cruds')).token();
  expect(ids((await fhirClient(t, strangerToken).get(`Task?ack-due=lt${overdueAt}`)).body as Bundle)).toEqual([]);

  // The subscriber filtering on escalated hears of exactly that version of the urgent Task.
  const notification = await receiver.waitFor('the escalation notification', () => receiver.events('/escalations')[0]);
  expect(notification.bundle.entry?.[1]?.fullUrl).toBe(`${t.services.config.fhirBaseUrl}/Task/${urgent.id}`);
  await new Promise((r) => setTimeout(r, 500));
  expect(receiver.events('/escalations')).toHaveLength(1);
});

test('the CapabilityStatement lists ack-due, follow-up and $referral-metrics on Task', async () => {
  const statement = (await t.http.get('/fhir/R4/metadata')).body as CapabilityStatement;
  const task = statement.rest?.[0]?.resource?.find((r) => r.type === 'Task');
  expect(task?.searchParam?.find((p) => p.name === 'ack-due')).toMatchObject({ type: 'date', definition: 'https://carecircle.dev/fhir/SearchParameter/Task-ack-due' });
  expect(task?.searchParam?.find((p) => p.name === 'follow-up')).toMatchObject({ type: 'token', definition: 'https://carecircle.dev/fhir/SearchParameter/Task-follow-up' });
  expect(task?.operation?.find((o) => o.name === 'referral-metrics')?.definition).toBe('https://carecircle.dev/fhir/OperationDefinition/Task-referral-metrics');
});

test('$referral-metrics answers the practice per partner; a partner learns nothing; a bad organization is a 400', async () => {
  const accepted = await fhirClient(t, clinicToken).put(`Task/${routine.id}`, { ...((await fhirClient(t, clinicToken).get(`Task/${routine.id}`)).body as Task), status: 'accepted' });
  expect(accepted.status).toBe(200);

  const metrics = await fhirClient(t, practiceToken).get(`Task/$referral-metrics?organization=${clinic}`);
  expect(metrics.status).toBe(200);
  const parts = (metrics.body as Parameters).parameter ?? [];
  expect(parts).toHaveLength(1);
  const value = (name: string) => {
    const part = parts[0]?.part?.find((p) => p.name === name);
    return part?.valueInteger ?? part?.valueDecimal ?? part?.valueReference?.reference;
  };
  expect(value('organization')).toBe(clinic);
  expect(value('referrals')).toBe(2);
  expect(value('acknowledged')).toBe(1);
  expect(value('acknowledgement-median-hours')).toBeGreaterThanOrEqual(0);
  expect(value('acknowledgement-median-hours')).toBeLessThan(1);
  expect(value('acknowledgement-p90-hours')).toBe(value('acknowledgement-median-hours'));
  expect(value('completed')).toBe(0);
  expect(parts[0]?.part?.some((p) => p.name === 'completion-median-hours')).toBe(false);
  expect(value('overdue')).toBe(0);
  expect(value('overdue-share')).toBe(0);

  const all = await fhirClient(t, practiceToken).get('Task/$referral-metrics');
  expect((all.body as Parameters).parameter?.map((p) => p.part?.[0]?.valueReference?.reference)).toEqual([clinic]);

  const asPartner = await fhirClient(t, clinicToken).get('Task/$referral-metrics');
  expect(asPartner.status).toBe(200);
  expect((asPartner.body as Parameters).parameter ?? []).toEqual([]);

  const bad = await fhirClient(t, practiceToken).get('Task/$referral-metrics?organization=Patient/x');
  expect(bad.status).toBe(400);
  expect(bad.body.issue[0].expression).toEqual(['organization']);
  expect((await fhirClient(t, practiceToken).get('Task/$referral-metrics?shoe=9')).status).toBe(400);
});
