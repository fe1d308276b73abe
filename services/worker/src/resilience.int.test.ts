import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { buildTask } from '@carecircle/testing';
import { Redis } from 'ioredis';
import { createNotifyTestEnv, TEST_NOTIFY_OPTIONS, type NotifyTestEnv } from './testing/notify-test-env';
import type { ReceivedNotification } from './testing/webhook-receiver';

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

/** Every event number 1..count arrived, accepted, and the receiver never saw a later event before an earlier one. */
function expectCompleteAndOrdered(notifications: ReceivedNotification[], count: number): void {
  const accepted = notifications.filter((n) => n.answered === 200).flatMap((n) => n.eventNumbers);
  expect([...new Set(accepted)].sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
  const numbers = notifications.flatMap((n) => n.eventNumbers);
  expect(numbers.every((n, i) => i === 0 || n >= (numbers[i - 1] ?? 0))).toBe(true);
}

/** Event numbers received more than once, with whether every copy carried the same event id. */
function duplicates(notifications: ReceivedNotification[]): { eventNumber: number; sameEventId: boolean }[] {
  const byNumber = new Map<number, string[]>();
  for (const n of notifications) {
    for (const number of n.eventNumbers) {
      byNumber.set(number, [...(byNumber.get(number) ?? []), n.eventId]);
    }
  }
  return [...byNumber]
    .filter(([, ids]) => ids.length > 1)
    .map(([eventNumber, ids]) => ({ eventNumber, sameEventId: new Set(ids).size === 1 }));
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
  const child = startChildWorker();
  try {
    await waitForLine(child, 'worker ready');
    await env.subscribe('/hook/kill', { filters: ['Task?owner=Organization/kill'] });
    // The receiver holds the 3rd notification; the worker is killed while it waits for the answer.
    let killed = false;
    env.receiver.reply('/hook/kill', (n) => (n.eventNumbers[0] === 3 && !killed ? 'hold' : { status: 200 }));
    await createTasks('Organization/kill', 10);
    await env.receiver.waitFor(() => env.receiver.events('/hook/kill').some((n) => n.eventNumbers[0] === 3));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    killed = true;
    await env.startWorker();
    await env.receiver.waitFor(() => new Set(env.receiver.events('/hook/kill').filter((n) => n.answered === 200).flatMap((n) => n.eventNumbers)).size >= 10, 20_000);
    expectCompleteAndOrdered(env.receiver.events('/hook/kill'), 10);
    const repeated = duplicates(env.receiver.events('/hook/kill'));
    expect(repeated).toEqual([{ eventNumber: 3, sameEventId: true }]);
  } finally {
    child.kill('SIGKILL');
  }
});

/** A worker in a process of its own (so it can really be killed), on this suite's database and Redis prefix. */
function startChildWorker(): ChildProcess {
  const settings = JSON.stringify({ databaseUrl: env.database.url, redisPrefix: env.config.redisPrefix, options: TEST_NOTIFY_OPTIONS });
  return spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'testing', 'child-worker.ts'), settings], {
    cwd: join(__dirname, '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

function waitForLine(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(text)) {
        resolve();
      }
    });
    child.once('exit', () => reject(new Error(`child worker exited before "${text}"`)));
  });
}
