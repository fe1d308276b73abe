/**
 * Notification delivery when parts of the system fail, against real PostgreSQL, Redis and worker processes: several
 * workers (in this process and as processes of their own) never send one event twice, a worker's Redis connections
 * dropping loses nothing, and a worker killed mid-delivery is taken over by another. (A real Redis restart that loses
 * every key is in redis-restart.int.test.ts.)
 */
import { buildTask } from '@carecircle/testing';
import { Redis } from 'ioredis';
import { createNotifyTestEnv, TEST_NOTIFY_OPTIONS, type NotifyTestEnv } from './testing/notify-test-env';
import { duplicates, expectCompleteAndOrdered, startChildWorker, stopChildWorker, waitForLine, type ChildWorkerSettings } from './testing/delivery-checks';

let env: NotifyTestEnv;

beforeAll(async () => {
  env = await createNotifyTestEnv();
});

afterAll(async () => {
  await env.close();
});

async function createTasks(owner: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await env.writer.create(buildTask('p1', { owner: { reference: owner } }));
  }
}

test('two workers never deliver one event twice', async () => {
  const one = await env.startWorker();
  const two = await env.startWorker();
  await env.subscribe('/hook/two', { filters: ['Task?owner=Organization/two'] });
  await Promise.all(Array.from({ length: 5 }, () => createTasks('Organization/two', 20)));
  await env.receiver.waitFor(() => env.receiver.events('/hook/two').length >= 100, 20_000);
  await new Promise((r) => setTimeout(r, 300));
  expect(env.receiver.events('/hook/two')).toHaveLength(100);
  expectCompleteAndOrdered(env.receiver.events('/hook/two'), 100);
  await one.close();
  await two.close();
});

test("the worker's Redis connections dropped mid-flight (as in a Redis restart): nothing lost", async () => {
  const worker = await env.startWorker();
  await env.subscribe('/hook/redis', { filters: ['Task?owner=Organization/redis'] });
  const writing = createTasks('Organization/redis', 60);
  await env.receiver.waitFor(() => env.receiver.events('/hook/redis').length >= 5);
  const admin = new Redis(env.config.redisUrl);
  const clients = (await admin.client('LIST')) as string;
  const ids = clients
    .split('\n')
    .filter((line) => /name=carecircle-worker-/.test(line))
    .map((line) => /id=(\d+)/.exec(line)?.[1])
    .filter((id): id is string => id !== undefined);
  expect(ids.length).toBeGreaterThan(0);
  for (const id of ids) {
    await admin.client('KILL', 'ID', id);
  }
  admin.disconnect();
  await writing;
  await env.receiver.waitFor(() => new Set(env.receiver.events('/hook/redis').flatMap((n) => n.eventNumbers)).size >= 60, 20_000);
  expectCompleteAndOrdered(env.receiver.events('/hook/redis'), 60);
  expect(duplicates(env.receiver.events('/hook/redis')).every((d) => d.sameEventId)).toBe(true);
  await worker.close();
});

test('a worker killed mid-delivery: another takes over, nothing lost, duplicates only as retries of one event', async () => {
  const child = startChildWorker(childSettings());
  try {
    await waitForLine(child, 'worker ready');
    await env.subscribe('/hook/kill', { filters: ['Task?owner=Organization/kill'] });
    // The receiver holds the 3rd notification; the worker is killed while it waits for the answer.
    let killed = false;
    env.receiver.reply('/hook/kill', (n) => (n.eventNumbers[0] === 3 && !killed ? 'hold' : { status: 200 }));
    await createTasks('Organization/kill', 10);
    await env.receiver.waitFor(() => env.receiver.events('/hook/kill').some((n) => n.eventNumbers[0] === 3));
    await stopChildWorker(child, true);
    killed = true;
    const worker = await env.startWorker();
    await env.receiver.waitFor(() => new Set(env.receiver.events('/hook/kill').filter((n) => n.answered === 200).flatMap((n) => n.eventNumbers)).size >= 10, 20_000);
    expectCompleteAndOrdered(env.receiver.events('/hook/kill'), 10);
    const repeated = duplicates(env.receiver.events('/hook/kill'));
    expect(repeated).toEqual([{ eventNumber: 3, sameEventId: true }]);
    await worker.close();
  } finally {
    await stopChildWorker(child, true);
  }
});

test('two worker processes deliver a burst: every event exactly once, in order, across subscriptions', async () => {
  const children = [startChildWorker(childSettings()), startChildWorker(childSettings())];
  try {
    await Promise.all(children.map((child) => waitForLine(child, 'worker ready')));
    const paths = ['/hook/procs-a', '/hook/procs-b', '/hook/procs-c'];
    for (const path of paths) {
      await env.subscribe(path, { filters: [`Task?owner=Organization/${path.slice(6)}`] });
    }
    // 3 x 40 changes written concurrently.
    await Promise.all(paths.flatMap((path) => Array.from({ length: 4 }, () => createTasks(`Organization/${path.slice(6)}`, 10))));
    await env.receiver.waitFor(() => paths.every((path) => new Set(env.receiver.events(path).flatMap((n) => n.eventNumbers)).size >= 40), 60_000);
    await new Promise((r) => setTimeout(r, 500));
    for (const path of paths) {
      expectCompleteAndOrdered(env.receiver.events(path), 40);
      // A second copy only as a retry of the same event (a slow answer timing out), never two workers sending it.
      expect(duplicates(env.receiver.events(path)).filter((d) => !d.sameEventId)).toEqual([]);
    }
  } finally {
    await Promise.all(children.map((child) => stopChildWorker(child)));
  }
}, 120_000);

function childSettings(): ChildWorkerSettings {
  return { databaseUrl: env.database.url, redisPrefix: env.config.redisPrefix, options: TEST_NOTIFY_OPTIONS };
}
