/**
 * Referral follow-through against real Redis, BullMQ and PostgreSQL, with two workers running and a clock the test
 * moves (no sleeping for days): an unacknowledged referral Task is reminded, escalated and expired in order, once
 * each, although Redis loses every job between the steps (the sweeper rebuilds the next step from the Task); an
 * acknowledged referral gets none of them; two runners of one step write it once; a subscriber to the referral topic
 * hears of the escalation and the expiry.
 */
import type { Communication, Organization, Patient, Task } from '@medplum/fhirtypes';
import { Queue } from 'bullmq';
import { BUSINESS_HOURS_URL, defaultBusinessHours, DEFAULT_REFERRAL_DEADLINES, EXPIRED_REASON, FOLLOW_UP_IDENTIFIER_SYSTEM, FOLLOW_UP_SYSTEM, followUpConcept, runFollowUpStep } from '@carecircle/care';
import { createServerRepository } from '@carecircle/access';
import { NOTIFY_QUEUES } from '@carecircle/notify';
import { buildTask } from '@carecircle/testing';
import { createNotifyTestEnv, deleteRedisPrefix, TEST_NOTIFY_OPTIONS, type NotifyTestEnv } from './testing/notify-test-env';

let env: NotifyTestEnv;
let queue: Queue;
/** The workers' clock (epoch ms), moved by the tests. */
let now = Date.parse('2026-12-04T16:00:00Z');

/** Mon-Fri 09:00-17:00 in Berlin (UTC+1 in December): Friday 17:00 there is 16:00Z. */
const berlinWeek = {
  url: BUSINESS_HOURS_URL,
  extension: [
    { url: 'timeZone', valueCode: 'Europe/Berlin' },
    {
      url: 'openingHours',
      extension: [
        ...['mon', 'tue', 'wed', 'thu', 'fri'].map((day) => ({ url: 'daysOfWeek', valueCode: day })),
        { url: 'openingTime', valueTime: '09:00:00' },
        { url: 'closingTime', valueTime: '17:00:00' },
      ],
    },
  ],
};

/** Sent Friday 17:00 Berlin, routine: due Tuesday 17:00 (16:00Z); reminded 4 business hours before, expired 16 after. */
const DUE = '2026-12-08T16:00:00.000Z';
const REMIND_AT = Date.parse('2026-12-08T12:00:00Z');
const ESCALATE_AT = Date.parse(DUE);
const EXPIRE_AT = Date.parse('2026-12-10T16:00:00Z');

beforeAll(async () => {
  env = await createNotifyTestEnv();
  await env.writer.update<Organization>({ resourceType: 'Organization', id: 'practice-fu', name: 'Practice', extension: [berlinWeek] });
  await env.writer.update<Patient>({ resourceType: 'Patient', id: 'p-fu', managingOrganization: { reference: 'Organization/practice-fu' } });
  // Matching and delivery jobs lost with Redis are handed back after a second (sweepAfterMs), not the default 30.
  const options = { ...TEST_NOTIFY_OPTIONS, clock: () => now, sweepIntervalMs: 100, sweepAfterMs: 1000, referralFollowUp: DEFAULT_REFERRAL_DEADLINES };
  await env.startWorker(options);
  await env.startWorker(options);
  queue = new Queue(NOTIFY_QUEUES.referralReminders, { connection: { url: env.config.redisUrl }, prefix: env.config.redisPrefix });
});
afterAll(async () => {
  await queue.close();
  await env.close();
});

function unacknowledged(): Task {
  return buildTask('p-fu', {
    owner: { reference: 'Organization/clinic' },
    requester: { reference: 'Practitioner/therapist' },
    authoredOn: '2026-12-04T16:00:00.000Z',
    priority: 'routine',
    businessStatus: followUpConcept('on-time'),
    restriction: { period: { end: DUE } },
  });
}

async function messagesAbout(taskId: string): Promise<Communication[]> {
  const { matches } = await env.writer.search('Communication', new URLSearchParams({ identifier: `${FOLLOW_UP_IDENTIFIER_SYSTEM}|`, _count: '100' }));
  return (matches as Communication[]).filter((c) => c.about?.[0]?.reference === `Task/${taskId}`);
}

/** The identifier values' step and side (`reminder-owner` ...), sorted. */
async function stepsWritten(taskId: string): Promise<string[]> {
  return (await messagesAbout(taskId)).map((c) => (c.identifier?.[0]?.value ?? '').replace(`${taskId}-due-${Date.parse(DUE)}-`, '')).sort();
}

async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) {
      return value;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const followUpOf = (task: Task) => task.businessStatus?.coding?.find((c) => c.system === FOLLOW_UP_SYSTEM)?.code;
const readTask = (id: string) => env.writer.read<Task>('Task', id);

/** Moves the clock to `at` and has Redis lose every job of the suite, as a restart without persistence does. */
async function advanceAndLoseRedis(at: number): Promise<void> {
  now = at;
  await deleteRedisPrefix(env.config.redisUrl, env.config.redisPrefix);
}

test('reminder, escalation and expiry happen in order, once each, with two workers and Redis lost before each step', async () => {
  const subscription = await env.subscribe('/hook/follow-up', { filters: ['Task?owner=Organization/clinic&follow-up=escalated,expired'] });
  const { resource: created } = await env.writer.create(unacknowledged());
  const id = created.id as string;

  // Friday evening: the reminder waits (for Tuesday 13:00 Berlin), nothing is written.
  const reminderJob = await eventually(() => queue.getJob(`reminder_${id}`), (job) => job !== undefined);
  expect(await reminderJob?.isDelayed()).toBe(true);
  expect(reminderJob?.data).toMatchObject({ taskId: id, step: 'reminder', due: REMIND_AT });
  expect(await stepsWritten(id)).toEqual([]);

  // Tuesday 13:00 Berlin: the reminder, to the owner only.
  await advanceAndLoseRedis(REMIND_AT);
  expect(followUpOf(await eventually(() => readTask(id), (t) => followUpOf(t) === 'reminded'))).toBe('reminded');
  expect(await eventually(() => stepsWritten(id), (s) => s.length >= 1)).toEqual(['reminder-owner']);
  const escalationJob = await eventually(() => queue.getJob(`escalation_${id}`), (job) => job !== undefined);
  expect(await escalationJob?.isDelayed()).toBe(true);

  // Tuesday 17:00: the escalation, to the owner's organization and the therapist.
  await advanceAndLoseRedis(ESCALATE_AT);
  expect(followUpOf(await eventually(() => readTask(id), (t) => followUpOf(t) === 'escalated'))).toBe('escalated');
  expect(await eventually(() => stepsWritten(id), (s) => s.length >= 3)).toEqual(['escalation-owner-organization', 'escalation-requester', 'reminder-owner']);
  expect((await readTask(id)).status).toBe('requested');
  // The subscriber hears of it before the next step (a version overtaken before it is matched is folded into the next).
  await env.receiver.waitFor(() => env.receiver.events('/hook/follow-up').length >= 1, 30_000);

  // Thursday 17:00: the expiry. The Task fails; the therapist is told.
  await advanceAndLoseRedis(EXPIRE_AT);
  const expired = await eventually(() => readTask(id), (t) => t.status === 'failed');
  expect(expired).toMatchObject({ status: 'failed', statusReason: { text: EXPIRED_REASON } });
  expect(followUpOf(expired)).toBe('expired');
  expect(await eventually(() => stepsWritten(id), (s) => s.length >= 4)).toEqual([
    'escalation-owner-organization',
    'escalation-requester',
    'expiry-requester',
    'reminder-owner',
  ]);

  // Later still, Redis lost once more: nothing runs again.
  await advanceAndLoseRedis(EXPIRE_AT + 7 * 86_400_000);
  await new Promise((r) => setTimeout(r, 1000));
  expect(await stepsWritten(id)).toHaveLength(4);
  const { entries } = await env.writer.history('Task', id, new URLSearchParams());
  expect(entries.map((e) => (e.resource as Task | undefined)?.businessStatus?.coding?.[0]?.code)).toEqual(['expired', 'escalated', 'reminded', 'on-time']);
  expect(recipients(await messagesAbout(id))).toEqual(['Organization/clinic', 'Organization/clinic', 'Practitioner/therapist', 'Practitioner/therapist']);

  // The subscriber filtering on the follow-up state heard of the escalation and the expiry, not of the rest.
  await env.receiver.waitFor(() => env.receiver.events('/hook/follow-up').length >= 2, 30_000);
  expect(env.receiver.events('/hook/follow-up').flatMap((n) => n.eventNumbers)).toEqual([1, 2]);
  expect(subscription.status).toBe('active');
});

test('an acknowledged referral gets no reminder, escalation or expiry', async () => {
  now = Date.parse('2026-12-04T16:00:00Z');
  const { resource: created } = await env.writer.create(unacknowledged());
  const id = created.id as string;
  await eventually(() => queue.getJob(`reminder_${id}`), (job) => job !== undefined);
  await env.writer.update({ ...(await readTask(id)), status: 'accepted' });
  expect(await eventually(() => queue.getJob(`reminder_${id}`), (job) => job === undefined)).toBeUndefined();

  for (const at of [REMIND_AT, ESCALATE_AT, EXPIRE_AT]) {
    await advanceAndLoseRedis(at);
    await new Promise((r) => setTimeout(r, 600));
  }
  expect(await stepsWritten(id)).toEqual([]);
  const task = await readTask(id);
  expect(task.status).toBe('accepted');
  expect(followUpOf(task)).toBe('on-time');
});

test('two runners of the same step at once write it once', async () => {
  now = Date.parse('2026-12-04T16:00:00Z');
  // A Task no worker follows up on (no deadline yet), then run by hand: two escalations at once.
  const { resource: created } = await env.writer.create({ ...unacknowledged(), businessStatus: followUpConcept('reminded'), restriction: undefined });
  const id = created.id as string;
  const due = { ...(await readTask(id)), restriction: { period: { end: DUE } } };
  const server = createServerRepository(env.db, { allowLoopbackHttp: true });
  const hours = defaultBusinessHours('Europe/Berlin');
  // Written straight by the test, so the workers' own escalation job (due now by the clock) cannot run first.
  now = Date.parse('2026-12-01T00:00:00Z');
  await env.writer.update(due);
  const at = new Date(ESCALATE_AT);
  const outcomes = await Promise.all([1, 2, 3].map(() => runFollowUpStep(server, id, 'escalation', at, hours, DEFAULT_REFERRAL_DEADLINES)));
  expect(outcomes.filter((o) => o === 'done')).toHaveLength(1);
  expect(outcomes.filter((o) => o === 'not-waiting')).toHaveLength(2);
  expect(await stepsWritten(id)).toEqual(['escalation-owner-organization', 'escalation-requester']);
  expect(followUpOf(await readTask(id))).toBe('escalated');
});

function recipients(messages: Communication[]): string[] {
  return messages.map((m) => m.recipient?.[0]?.reference ?? '').sort();
}
