/**
 * A write's request id travels with every job its change leads to, against real Redis, BullMQ and PostgreSQL: the
 * delivery job and the referral reminder job carry it, and the worker's lines for matching and delivering name it
 * (the matching job's logger is bound to it; each delivery attempt names its event's write).
 */
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { NOTIFY_QUEUES } from '@carecircle/notify';
import { withOriginRequestId } from '@carecircle/store';
import { buildTask } from '@carecircle/testing';
import type { Task } from '@medplum/fhirtypes';
import { Queue } from 'bullmq';
import { createNotifyTestEnv, type NotifyTestEnv } from './testing/notify-test-env';

let env: NotifyTestEnv;
const lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  const logDestination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  env = await createNotifyTestEnv({ logDestination });
  await env.startWorker();
});

afterAll(async () => {
  await env.close();
});

test("a delivery's log line, its delivery job and the reminder job it scheduled carry the request id of the write", async () => {
  const subscription = await env.subscribe('/hook/trail');
  const requestId = `trail-${randomBytes(8).toString('hex')}`;
  const task = buildTask('p-trail', {
    owner: { reference: 'Organization/partner' },
    // Due in 30 days: its first follow-up step, the reminder, is still to come (business hours before the deadline).
    restriction: { period: { end: new Date(Date.now() + 30 * 86_400_000).toISOString() } },
  });
  const { resource } = await withOriginRequestId(requestId, () => env.writer.create<Task>(task));
  await env.receiver.waitFor(() => env.receiver.events('/hook/trail').length === 1);

  const ofRequest = () => lines.filter((line) => line.requestId === requestId);
  for (let i = 0; i < 100 && !ofRequest().some((line) => line.msg === 'notification attempt'); i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(ofRequest().find((line) => line.msg === 'outbox event matched')).toMatchObject({ resourceType: 'Task', subscriptions: 1 });
  expect(ofRequest().find((line) => line.msg === 'notification attempt')).toMatchObject({
    subscriptionId: subscription.id,
    eventNumber: 1,
    outcome: 'delivered',
  });

  const connection = { url: env.config.redisUrl };
  const delivery = new Queue(NOTIFY_QUEUES.delivery, { connection, prefix: env.config.redisPrefix });
  const reminders = new Queue(NOTIFY_QUEUES.referralReminders, { connection, prefix: env.config.redisPrefix });
  try {
    expect((await delivery.getJob(`${subscription.id}_1`))?.data).toEqual({ subscriptionId: subscription.id, eventNumber: 1, requestId });
    expect((await reminders.getJob(`reminder_${resource.id}`))?.data).toMatchObject({ taskId: resource.id, step: 'reminder', requestId });
  } finally {
    await Promise.all([delivery.close(), reminders.close()]);
  }
});
