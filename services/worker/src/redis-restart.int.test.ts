/**
 * A real Redis restart that loses every key, in the middle of a burst: the worker's Redis (a private redis-server
 * without persistence) is killed with SIGKILL while notifications are being delivered and changes are being written,
 * then started again, empty. Postgres still knows what is owed; the delivery sweeper rebuilds the lost work from it (outbox
 * rows relayed but never matched, subscriptions with pending events and no job, heartbeat schedulers), so every event
 * is delivered, in order, and an event arrives twice only as a retry of the same event (same X-CareCircle-Event-Id).
 */
import { buildTask, startPrivateRedis, type PrivateRedis } from '@carecircle/testing';
import { notifyJobIds } from '@carecircle/notify';
import { readDeliveryState } from '@carecircle/store';
import { Queue } from 'bullmq';
import { duplicates, expectCompleteAndOrdered } from './testing/delivery-checks';
import { createNotifyTestEnv, TEST_NOTIFY_OPTIONS, type NotifyTestEnv } from './testing/notify-test-env';

let redis: PrivateRedis;
let env: NotifyTestEnv;

beforeAll(async () => {
  redis = await startPrivateRedis();
  env = await createNotifyTestEnv({ redisUrl: redis.url });
});

afterAll(async () => {
  await env.close();
  await redis.stop();
});

test('Redis killed mid-burst and restarted empty: the sweeper rebuilds the work from Postgres, nothing lost', async () => {
  const worker = await env.startWorker({ ...TEST_NOTIFY_OPTIONS, sweepIntervalMs: 300, sweepAfterMs: 1000 });
  const subscription = await env.subscribe('/hook/restart', { filters: ['Task?owner=Organization/restart'], heartbeatPeriod: 3600 });
  // The receiver is down: events wait in Postgres, their jobs in Redis.
  env.receiver.reply('/hook/restart', () => ({ status: 503 }));
  const total = 60;
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      for (let i = 0; i < total / 6; i++) {
        await env.writer.create(buildTask('p-restart', { owner: { reference: 'Organization/restart' } }));
      }
    }),
  );
  // Every change is committed; matching is (most likely) still under way when Redis dies with every job in it.
  for (let numbered = 0; numbered < 10; numbered = (await readDeliveryState(env.db, subscription.id ?? '')).lastEventNumber) {
    await new Promise((r) => setTimeout(r, 10));
  }
  await redis.kill();
  await new Promise((r) => setTimeout(r, 500));
  await redis.restart();
  env.receiver.reply('/hook/restart', () => ({ status: 200 }));
  // No change is written from here on: whatever is delivered now was re-enqueued from Postgres by the sweeper.
  await env.receiver.waitFor(() => new Set(env.receiver.events('/hook/restart').filter((n) => n.answered === 200).flatMap((n) => n.eventNumbers)).size >= total, 40_000);
  expectCompleteAndOrdered(env.receiver.events('/hook/restart'), total);
  expect(duplicates(env.receiver.events('/hook/restart')).filter((d) => !d.sameEventId)).toEqual([]);
  expect((await readDeliveryState(env.db, subscription.id ?? '')).lastEventNumber).toBe(total);
  // The heartbeat scheduler Redis lost is back.
  const heartbeat = new Queue('subscription-heartbeat', { connection: { url: redis.url }, prefix: env.config.redisPrefix });
  try {
    expect(await heartbeat.getJobScheduler(notifyJobIds.heartbeatScheduler(subscription.id ?? ''))).toBeTruthy();
  } finally {
    await heartbeat.close();
  }
  await worker.close();
}, 90_000);
