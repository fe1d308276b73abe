/**
 * The delivery sweeper against real PostgreSQL and Redis: after Redis lost every job (its keys deleted, as a restart
 * without persistence does), one sweep puts back the delivery jobs of pending events, the heartbeat schedulers of
 * active subscriptions and the job of each open referral Task's next follow-up step; a second sweep adds nothing; and
 * a worker started afterwards delivers what was owed.
 */
import { createLogger } from '@carecircle/log';
import { NOTIFY_QUEUES, notifyJobIds } from '@carecircle/notify';
import { createRepository, fullAccess, sql } from '@carecircle/store';
import { buildTask } from '@carecircle/testing';
import type { Task } from '@medplum/fhirtypes';
import { Queue } from 'bullmq';
import { sweep, type SweeperContext } from './delivery-sweeper';
import { resolveNotifyOptions, type NotifyQueues } from './notify-context';
import { createNotifyTestEnv, deleteRedisPrefix, TEST_NOTIFY_OPTIONS, type NotifyTestEnv } from './testing/notify-test-env';

let env: NotifyTestEnv;
let queues: NotifyQueues;
let ctx: SweeperContext;

beforeAll(async () => {
  env = await createNotifyTestEnv();
  const connection = { url: env.config.redisUrl };
  const prefix = env.config.redisPrefix;
  const queue = (name: string) => new Queue(name, { connection, prefix });
  queues = {
    outboxEvents: queue(NOTIFY_QUEUES.outboxEvents),
    delivery: queue(NOTIFY_QUEUES.delivery),
    handshake: queue(NOTIFY_QUEUES.handshake),
    heartbeat: queue(NOTIFY_QUEUES.heartbeat),
    deadLetter: queue(NOTIFY_QUEUES.deadLetter),
    referralReminders: queue(NOTIFY_QUEUES.referralReminders),
  };
  await Promise.all(Object.values(queues).map((q) => q.waitUntilReady()));
  ctx = {
    db: env.db,
    repository: createRepository(env.db, fullAccess),
    queues,
    logger: createLogger('silent'),
    options: resolveNotifyOptions({ ...TEST_NOTIFY_OPTIONS, sweepAfterMs: 0 }),
  };
});

afterAll(async () => {
  await Promise.all(Object.values(queues).map((q) => q.close()));
  await env.close();
});

function openTask(owner: string, dueInMs: number): Task {
  return buildTask('p-sweep', {
    owner: { reference: owner },
    requester: { reference: 'Practitioner/therapist' },
    restriction: { period: { end: new Date(Date.now() + dueInMs).toISOString() } },
  });
}

/** The job of `taskId`'s follow-up step `step`, once it is there (the worker schedules it as the Task passes). */
async function stepJob(step: string, taskId: string | undefined) {
  for (let i = 0; i < 100; i++) {
    const job = await queues.referralReminders.getJob(notifyJobIds.referralReminder({ taskId: taskId ?? '', step: step as 'reminder' }));
    if (job) {
      return job;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return undefined;
}

test('after Redis lost its jobs, one sweep rebuilds deliveries, heartbeats and follow-up steps; a second adds nothing', async () => {
  const worker = await env.startWorker();
  const subscription = await env.subscribe('/hook/sweep', { filters: ['Task?owner=Organization/sweep'], heartbeatPeriod: 3600 });
  expect(await queues.heartbeat.getJobScheduler(notifyJobIds.heartbeatScheduler(subscription.id ?? ''))).toBeTruthy();
  // One past its deadline (reminded and escalated at once, its expiry to come), one due in a week (its reminder to come).
  const escalated = (await env.writer.create(openTask('Organization/elsewhere', 200))).resource;
  const upcoming = (await env.writer.create(openTask('Organization/elsewhere', 7 * 86_400_000))).resource;
  expect(await stepJob('expiry', escalated.id)).toBeTruthy();
  // Three events the receiver refuses for now: they wait in Postgres for their retries.
  env.receiver.reply('/hook/sweep', () => ({ status: 503 }));
  for (let i = 0; i < 3; i++) {
    await env.writer.create(buildTask('p-sweep', { owner: { reference: 'Organization/sweep' } }));
  }
  await env.receiver.waitFor(() => env.receiver.events('/hook/sweep').length >= 1);
  expect(await stepJob('reminder', upcoming.id)).toBeTruthy();
  await worker.close();

  // Redis loses everything.
  await deleteRedisPrefix(env.config.redisUrl, env.config.redisPrefix);
  expect(await queues.heartbeat.getJobScheduler(notifyJobIds.heartbeatScheduler(subscription.id ?? ''))).toBeFalsy();
  await new Promise((r) => setTimeout(r, 1200));

  const first = await sweep(ctx);
  expect(first).toMatchObject({ deliveries: 1, heartbeats: 1, reminders: 2 });
  expect(await queues.heartbeat.getJobScheduler(notifyJobIds.heartbeatScheduler(subscription.id ?? ''))).toBeTruthy();
  expect(await (await queues.referralReminders.getJob(`reminder_${upcoming.id}`))?.isDelayed()).toBe(true);
  expect(await (await queues.referralReminders.getJob(`expiry_${escalated.id}`))?.isDelayed()).toBe(true);
  // Steps already written are not scheduled again.
  expect(await queues.referralReminders.getJob(`reminder_${escalated.id}`)).toBeUndefined();
  expect(await queues.referralReminders.getJob(`escalation_${escalated.id}`)).toBeUndefined();

  expect(await sweep(ctx)).toMatchObject({ changes: 0, deliveries: 0, heartbeats: 0, reminders: 0 });

  // A worker started now delivers the three events, in order.
  env.receiver.reply('/hook/sweep', () => ({ status: 200 }));
  const after = await env.startWorker();
  await env.receiver.waitFor(() => env.receiver.events('/hook/sweep').some((n) => n.answered === 200 && n.eventNumbers[0] === 3), 15_000);
  const accepted = env.receiver.events('/hook/sweep').filter((n) => n.answered === 200).flatMap((n) => n.eventNumbers);
  expect(accepted).toEqual([1, 2, 3]);
  await after.close();
});

test('a change relayed but never matched (its job lost with Redis) is handed back to the relay and delivered', async () => {
  let worker = await env.startWorker();
  await env.subscribe('/hook/unmatched', { filters: ['Task?owner=Organization/unmatched'] });
  await worker.close();
  // With no worker running, a change is committed; the relay "enqueued" it (relayed_at set) and Redis lost the job.
  const task = (await env.writer.create(buildTask('p-sweep', { owner: { reference: 'Organization/unmatched' } }))).resource;
  await env.db.query(sql`UPDATE outbox SET relayed_at = now() - interval '1 minute' WHERE relayed_at IS NULL`);
  const result = await sweep(ctx);
  expect(result.changes).toBeGreaterThanOrEqual(1);
  worker = await env.startWorker();
  await env.receiver.waitFor(() => env.receiver.events('/hook/unmatched').length === 1, 10_000);
  expect(env.receiver.events('/hook/unmatched')[0]?.focus).toEqual([`https://carecircle.test/fhir/R4/Task/${task.id}`]);
  await worker.close();
});
