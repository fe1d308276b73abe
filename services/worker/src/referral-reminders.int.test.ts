/**
 * Referral reminders against real Redis, BullMQ and PostgreSQL: an unacknowledged referral Task reminds both sides
 * when it comes due; acknowledging it in time removes the reminder; a retried job writes nothing twice.
 */
import type { Communication, Task } from '@medplum/fhirtypes';
import { Queue } from 'bullmq';
import { buildTask } from '@carecircle/testing';
import { createNotifyTestEnv, type NotifyTestEnv } from './testing/notify-test-env';
import { REMINDER_IDENTIFIER_SYSTEM } from './referral-reminders-queue';

let env: NotifyTestEnv;

beforeAll(async () => {
  env = await createNotifyTestEnv();
  await env.startWorker();
});
afterAll(async () => {
  await env.close();
});

function dueIn(ms: number): Task {
  return buildTask('p-reminders', {
    owner: { reference: 'Organization/clinic' },
    requester: { reference: 'Practitioner/therapist' },
    restriction: { period: { end: new Date(Date.now() + ms).toISOString() } },
  });
}

async function remindersAbout(taskId: string): Promise<Communication[]> {
  const { matches } = await env.writer.search('Communication', new URLSearchParams({ identifier: `${REMINDER_IDENTIFIER_SYSTEM}|`, _count: '100' }));
  return (matches as Communication[]).filter((c) => c.about?.[0]?.reference === `Task/${taskId}`);
}

async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) {
      return value;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('an unacknowledged referral reminds the partner and tells the therapist when it comes due', async () => {
  const { resource: task } = await env.writer.create(dueIn(700));
  const reminders = await eventually(() => remindersAbout(task.id as string), (r) => r.length === 2);
  expect(reminders.map((c) => c.recipient?.[0]?.reference).sort()).toEqual(['Organization/clinic', 'Practitioner/therapist']);
  expect(reminders.every((c) => c.subject?.reference === 'Patient/p-reminders')).toBe(true);
});

test('acknowledging in time removes the scheduled reminder', async () => {
  const queue = new Queue('referral-reminders', { connection: { url: env.config.redisUrl }, prefix: env.config.redisPrefix });
  try {
    const { resource: task } = await env.writer.create(dueIn(60_000));
    const jobId = `reminder_${task.id}`;
    const scheduled = await eventually(() => queue.getJob(jobId), (job) => job !== undefined);
    expect(await scheduled?.isDelayed()).toBe(true);
    await env.writer.update({ ...task, status: 'accepted' });
    expect(await eventually(() => queue.getJob(jobId), (job) => job === undefined)).toBeUndefined();
    expect(await remindersAbout(task.id as string)).toEqual([]);
  } finally {
    await queue.close();
  }
});

test('a reminder job that runs again writes nothing twice', async () => {
  const { resource: task } = await env.writer.create(dueIn(300));
  await eventually(() => remindersAbout(task.id as string), (r) => r.length === 2);
  // Simulate an at-least-once redelivery of the same job: run the processor again through a fresh job.
  const again = new Queue('referral-reminders', { connection: { url: env.config.redisUrl }, prefix: env.config.redisPrefix });
  await again.add('remind', { taskId: task.id }, { jobId: `again_${task.id}` });
  await new Promise((r) => setTimeout(r, 1500));
  await again.close();
  expect(await remindersAbout(task.id as string)).toHaveLength(2);
});

