import { buildTask } from '@carecircle/testing';
import { buildBackportSubscription } from '@carecircle/notify';
import { readDeliveryState, sql } from '@carecircle/store';
import type { Parameters, Subscription, Task } from '@medplum/fhirtypes';
import type { ReceivedNotification } from './testing/webhook-receiver';
import { createNotifyTestEnv, secretFor, TEST_NOTIFY_OPTIONS, TOPIC, type NotifyTestEnv } from './testing/notify-test-env';

let env: NotifyTestEnv;

beforeAll(async () => {
  env = await createNotifyTestEnv();
  await env.startWorker();
});

afterAll(async () => {
  await env.close();
});

/** Creates a Task owned by `owner` and returns it. */
async function createTask(owner = 'Organization/partner', patient = 'p1'): Promise<Task> {
  const { resource } = await env.writer.create(buildTask(patient, { owner: { reference: owner } }));
  return resource;
}

async function updateTaskStatus(task: Task, status: Task['status']): Promise<Task> {
  const { resource } = await env.writer.update({ ...task, status });
  return resource;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

describe('subscription lifecycle', () => {
  test('the secret is moved out of the resource and a handshake activates the subscription', async () => {
    const subscription = await env.subscribe('/hook/handshake');
    expect(JSON.stringify(subscription)).not.toContain(secretFor('/hook/handshake'));
    expect(subscription.extension).toBeUndefined();
    const handshake = env.receiver.received.find((n) => n.path === '/hook/handshake');
    expect(handshake?.type).toBe('handshake');
    expect(handshake?.signatureValid).toBe(true);
    const history = await env.writer.history('Subscription', subscription.id, new URLSearchParams());
    expect(history.entries.map((e) => (e.resource as Subscription).status)).toEqual(['active', 'requested']);
  });

  test('a handshake that is not answered 2xx sets the subscription to error', async () => {
    env.receiver.reply('/hook/refuses', () => ({ status: 500 }));
    const { resource } = await env.writer.create({
      ...buildBackportSubscription({
        topic: TOPIC('referral'),
        endpoint: env.receiver.url('/hook/refuses'),
        secret: secretFor('/hook/refuses'),
      }),
    });
    await env.waitForStatus(resource.id ?? '', 'error');
  });
});

describe('subscription settings at delivery', () => {
  test('a subscription whose handshake failed receives nothing until it is requested again and activated', async () => {
    env.receiver.reply('/hook/no-handshake', () => ({ status: 500 }));
    const { resource } = await env.writer.create(
      buildBackportSubscription({ topic: TOPIC('referral'), endpoint: env.receiver.url('/hook/no-handshake'), secret: secretFor('/hook/no-handshake'), filters: ['Task?owner=Organization/no-handshake'] }),
    );
    const failed = await env.waitForStatus(resource.id ?? '', 'error');
    await createTask('Organization/no-handshake');
    await new Promise((r) => setTimeout(r, 500));
    expect(env.receiver.events('/hook/no-handshake')).toEqual([]);
    expect((await readDeliveryState(env.db, resource.id ?? '')).lastEventNumber).toBe(0);
    expect((await env.writer.read<Subscription>('Subscription', resource.id ?? '')).status).toBe('error');
    // Asked again, the handshake succeeds: only changes from then on are events.
    env.receiver.reply('/hook/no-handshake', () => ({ status: 200 }));
    await env.writer.update({ ...failed, status: 'requested' });
    await env.waitForStatus(resource.id ?? '', 'active');
    const task = await createTask('Organization/no-handshake');
    await env.receiver.waitFor(() => env.receiver.events('/hook/no-handshake').length === 1);
    expect(env.receiver.events('/hook/no-handshake')[0]?.focus).toEqual([`https://carecircle.test/fhir/R4/Task/${task.id}`]);
    expect(env.receiver.events('/hook/no-handshake')[0]?.eventNumbers).toEqual([1]);
  });

  test("the subscription's channel headers are sent with every notification", async () => {
    await env.subscribe('/hook/headers', { filters: ['Task?owner=Organization/headers'], headers: ['Authorization: Bearer partner-token', 'X-Partner-Tenant: t-42'] });
    const handshake = env.receiver.received.find((n) => n.path === '/hook/headers');
    expect(handshake?.headers.authorization).toBe('Bearer partner-token');
    await createTask('Organization/headers');
    await env.receiver.waitFor(() => env.receiver.events('/hook/headers').length === 1);
    const [notification] = env.receiver.events('/hook/headers');
    expect(notification!.headers.authorization).toBe('Bearer partner-token');
    expect(notification!.headers['x-partner-tenant']).toBe('t-42');
    expect(notification!.signatureValid).toBe(true);
  });

  test('heartbeats: the first one period after the handshake, then every period, with the event count', async () => {
    const periodMs = 10_000;
    const sub = await env.subscribe('/hook/heartbeat', { filters: ['Task?owner=Organization/heartbeat'], heartbeatPeriod: periodMs / 1000 });
    const activatedAt = Date.now();
    await createTask('Organization/heartbeat');
    const beats = () => env.receiver.received.filter((n) => n.path === '/hook/heartbeat' && n.type === 'heartbeat');
    await env.receiver.waitFor(() => beats().length >= 2, 2.5 * periodMs);
    const [first, second] = beats();
    expect(first!.receivedAt - activatedAt).toBeGreaterThanOrEqual(periodMs - 500);
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(periodMs - 500);
    expect(first!.signatureValid).toBe(true);
    const status = first!.bundle.entry?.[0]?.resource as Parameters;
    expect(status.parameter?.find((p) => p.name === 'events-since-subscription-start')?.valueString).toBe('1');
    expect(first!.bundle.entry).toHaveLength(1);
    // Turned off, the heartbeat stops.
    await env.writer.update({ ...(await env.writer.read<Subscription>('Subscription', sub.id ?? '')), status: 'off' });
    await new Promise((r) => setTimeout(r, 300));
    const count = beats().length;
    await new Promise((r) => setTimeout(r, periodMs + 1000));
    expect(beats().length).toBe(count);
  }, 60_000);

  test('a subscription is turned off when its end has passed, and receives nothing after', async () => {
    const end = new Date(Date.now() + 1500).toISOString();
    const { resource } = await env.writer.create({
      ...buildBackportSubscription({ topic: TOPIC('referral'), endpoint: env.receiver.url('/hook/ends'), secret: secretFor('/hook/ends'), filters: ['Task?owner=Organization/ends'] }),
      end,
    });
    await env.waitForStatus(resource.id ?? '', 'active');
    await createTask('Organization/ends');
    await env.receiver.waitFor(() => env.receiver.events('/hook/ends').length === 1);
    await new Promise((r) => setTimeout(r, Date.parse(end) - Date.now() + 100));
    await createTask('Organization/ends');
    await env.waitForStatus(resource.id ?? '', 'off', 10_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(env.receiver.events('/hook/ends')).toHaveLength(1);
  });

  test("backport-timeout shortens a delivery's time limit", async () => {
    await env.subscribe('/hook/timeout', { filters: ['Task?owner=Organization/timeout'], timeoutSeconds: 1 });
    let held = false;
    env.receiver.reply('/hook/timeout', () => {
      if (held) {
        return { status: 200 };
      }
      held = true;
      return 'hold';
    });
    await createTask('Organization/timeout');
    await env.receiver.waitFor(() => env.receiver.events('/hook/timeout').length === 2, 5000);
    const [first, second] = env.receiver.events('/hook/timeout');
    // The worker's own limit in these tests is 2 s: the subscription's 1 s applied.
    expect(second!.receivedAt - first!.receivedAt).toBeLessThan(1900);
    expect(second!.eventId).toBe(first!.eventId);
  });
});

describe('delivery', () => {
  test('a change reaches the subscriber signed, id-only, within a second', async () => {
    await env.subscribe('/hook/basic', { filters: ['Task?owner=Organization/partner'] });
    const before = Date.now();
    const task = await createTask();
    await env.receiver.waitFor(() => env.receiver.events('/hook/basic').length === 1, 1000);
    const [notification] = env.receiver.events('/hook/basic');
    expect(notification!.receivedAt - before).toBeLessThan(1000);
    expect(notification!.signatureValid).toBe(true);
    expect(notification!.headers['content-type']).toBe('application/fhir+json');
    expect(notification!.eventNumbers).toEqual([1]);
    expect(notification!.focus).toEqual([`https://carecircle.test/fhir/R4/Task/${task.id}`]);
    expect(notification!.bundle.type).toBe('history');
    // id-only: the entry names the resource but carries none of it.
    expect(notification!.bundle.entry?.[1]).toEqual({
      fullUrl: `https://carecircle.test/fhir/R4/Task/${task.id}`,
      request: { method: 'POST', url: `Task/${task.id}` },
      response: { status: '201' },
    });
  });

  test('a filter keeps out changes that do not match it', async () => {
    await env.subscribe('/hook/filtered', { filters: ['Task?owner=Organization/only-me'] });
    await createTask('Organization/someone-else');
    const mine = await createTask('Organization/only-me');
    await env.receiver.waitFor(() => env.receiver.events('/hook/filtered').length === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(env.receiver.events('/hook/filtered').flatMap((n) => n.focus)).toEqual([`https://carecircle.test/fhir/R4/Task/${mine.id}`]);
  });

  test('full-resource payloads carry the version the event is about', async () => {
    await env.subscribe('/hook/full', { filters: ['Task?owner=Organization/full'], content: 'full-resource' });
    const task = await createTask('Organization/full');
    await updateTaskStatus(task, 'received');
    await env.receiver.waitFor(() => env.receiver.events('/hook/full').length === 2);
    const versions = env.receiver.events('/hook/full').map((n) => n.bundle.entry?.[1]?.resource as Task);
    expect(versions.map((t) => [t.meta?.versionId, t.status])).toEqual([
      ['1', 'requested'],
      ['2', 'received'],
    ]);
  });

  // Latency is a figure for the benchmark (test/bench/notify.bench.ts, beside a raw baseline), not a pass mark here: a
  // loaded CI machine would fail a threshold for no fault of the code. This test holds what must be true at any speed.
  test('200 events at ~20/s all arrive, in event-number order, one worker (latency printed)', async () => {
    await env.subscribe('/hook/latency', { filters: ['Task?owner=Organization/latency'] });
    const committedAt = new Map<string, number>();
    const started = Date.now();
    for (let i = 0; i < 200; i++) {
      const task = await createTask('Organization/latency');
      committedAt.set(`https://carecircle.test/fhir/R4/Task/${task.id}`, Date.now());
      // About 20 changes a second: latency at a steady load, not queueing behind a burst (the next test measures that).
      await new Promise((r) => setTimeout(r, 35));
    }
    await env.receiver.waitFor(() => env.receiver.events('/hook/latency').length >= 200, 60_000);
    const received = env.receiver.events('/hook/latency');
    const latencies = received.map((n) => n.receivedAt - (committedAt.get(n.focus[0] ?? '') ?? NaN)).sort((a, b) => a - b);
    const elapsed = (Math.max(...received.map((n) => n.receivedAt)) - started) / 1000;
    process.stdout.write(
      `notification latency over ${latencies.length} events: p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, ` +
        `max ${latencies.at(-1)} ms (${(latencies.length / elapsed).toFixed(0)} deliveries/s at the offered rate)\n`,
    );
    expect(received.map((n) => n.eventNumbers[0])).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    // At ~20 writes a second the test takes 10 s at best; a loaded machine may take several times as long.
  }, 90_000);

  test('throughput: a burst of 500 changes, one worker', async () => {
    await env.subscribe('/hook/burst', { filters: ['Task?owner=Organization/burst'] });
    await Promise.all(Array.from({ length: 500 }, () => createTask('Organization/burst')));
    const committed = Date.now();
    await env.receiver.waitFor(() => env.receiver.events('/hook/burst').length >= 500, 80_000);
    const received = env.receiver.events('/hook/burst');
    const seconds = (Math.max(...received.map((n) => n.receivedAt)) - committed) / 1000;
    process.stdout.write(`burst: 500 notifications delivered in ${seconds.toFixed(2)} s after the last commit (${(500 / seconds).toFixed(0)}/s)\n`);
    expect(received.map((n) => n.eventNumbers[0])).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    const { rows } = await env.db.query<{ numbering: number; settling: number }>(sql`
      SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM numbered_at - occurred_at)) * 1000 AS numbering,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM settled_at - numbered_at)) * 1000 AS settling
      FROM subscription_event e JOIN resource_version rv ON rv.resource_type = 'Task' AND rv.id = e.resource_id
      WHERE rv.content -> 'owner' ->> 'reference' = 'Organization/burst'`);
    process.stdout.write(`burst stages (p50): commit -> numbered ${Number(rows[0]?.numbering).toFixed(0)} ms, numbered -> settled ${Number(rows[0]?.settling).toFixed(0)} ms\n`);
  }, 90_000);
});

describe('failures', () => {
  test('receiver down (503) -> retried -> delivered in event-number order; error then active again', async () => {
    const sub = await env.subscribe('/hook/down', { filters: ['Task?owner=Organization/down'] });
    let down = true;
    env.receiver.reply('/hook/down', () => (down ? { status: 503 } : { status: 200 }));
    for (let i = 0; i < 5; i++) {
      await createTask('Organization/down');
    }
    await env.waitForStatus(sub.id ?? '', 'error');
    await new Promise((r) => setTimeout(r, 200));
    down = false;
    await env.receiver.waitFor(() => env.receiver.events('/hook/down').some((n) => n.eventNumbers[0] === 5));
    expect(acceptedOrder(env.receiver.events('/hook/down'))).toEqual([1, 2, 3, 4, 5]);
    expect(nonDecreasing(env.receiver.events('/hook/down'))).toBe(true);
    const attemptsOfFirst = env.receiver.events('/hook/down').filter((n) => n.eventNumbers[0] === 1);
    expect(attemptsOfFirst.length).toBeGreaterThan(1);
    expect(new Set(attemptsOfFirst.map((n) => n.eventId)).size).toBe(1);
    await env.waitForStatus(sub.id ?? '', 'active');
  });

  test('429 with Retry-After is not retried sooner than asked', async () => {
    await env.subscribe('/hook/slow-down', { filters: ['Task?owner=Organization/slow-down'] });
    env.receiver.reply('/hook/slow-down', (n) => (n.eventNumbers[0] === 1 && env.receiver.events('/hook/slow-down').length === 0
      ? { status: 429, headers: { 'Retry-After': '1' } }
      : { status: 200 }));
    await createTask('Organization/slow-down');
    await env.receiver.waitFor(() => env.receiver.events('/hook/slow-down').length === 2, 5000);
    const [first, second] = env.receiver.events('/hook/slow-down');
    expect(first!.answered).toBe(429);
    expect(second!.answered).toBe(200);
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(950);
  });

  test('410 turns the subscription off', async () => {
    const sub = await env.subscribe('/hook/gone', { filters: ['Task?owner=Organization/gone'] });
    env.receiver.reply('/hook/gone', () => ({ status: 410 }));
    await createTask('Organization/gone');
    await env.waitForStatus(sub.id ?? '', 'off');
    await createTask('Organization/gone');
    await new Promise((r) => setTimeout(r, 300));
    expect(env.receiver.events('/hook/gone')).toHaveLength(1);
  });

  test('a redirect is not followed and counts as a failure', async () => {
    await env.subscribe('/hook/redirect', { filters: ['Task?owner=Organization/redirect'] });
    env.receiver.reply('/hook/redirect', () => ({ status: 307, headers: { Location: env.receiver.url('/hook/elsewhere') } }));
    await createTask('Organization/redirect');
    await env.receiver.waitFor(() => env.receiver.events('/hook/redirect').length >= 2);
    expect(env.receiver.received.filter((n) => n.path === '/hook/elsewhere')).toHaveLength(0);
  });

  test('after the last attempt the event is dead-lettered and later events still go out', async () => {
    const sub = await env.subscribe('/hook/dead', { filters: ['Task?owner=Organization/dead'] });
    env.receiver.reply('/hook/dead', (n) => (n.eventNumbers[0] === 1 ? { status: 500 } : { status: 200 }));
    await createTask('Organization/dead');
    await createTask('Organization/dead');
    await env.receiver.waitFor(() => env.receiver.events('/hook/dead').some((n) => n.eventNumbers[0] === 2));
    const firstAttempts = env.receiver.events('/hook/dead').filter((n) => n.eventNumbers[0] === 1);
    expect(firstAttempts).toHaveLength(TEST_NOTIFY_OPTIONS.retryPolicy!.maxAttempts);
    await expectOutcomes(sub.id ?? '', ['dead-lettered', 'delivered']);
  });
});

describe('the consent gate', () => {
  test('an event withheld at delivery time is never sent, keeps its number, and later events go out', async () => {
    const gated = await env.subscribe('/hook/gate', { filters: ['Task?owner=Organization/gate'] });
    env.receiver.reply('/hook/gate', () => 'hold');
    const first = await createTask('Organization/gate');
    await env.receiver.waitFor(() => env.receiver.events('/hook/gate').length === 1);
    // While the first notification is in flight, the client of the second revokes.
    const revoked = await createTask('Organization/gate', 'revoked-client');
    env.denied.add(`Task/${revoked.id}`);
    const third = await createTask('Organization/gate');
    env.receiver.reply('/hook/gate', () => ({ status: 200 }));
    await env.receiver.waitFor(() => env.receiver.events('/hook/gate').some((n) => n.eventNumbers[0] === 3), 10_000);
    const focus = env.receiver.events('/hook/gate').flatMap((n) => n.focus);
    expect(focus).not.toContain(`https://carecircle.test/fhir/R4/Task/${revoked.id}`);
    expect(focus).toContain(`https://carecircle.test/fhir/R4/Task/${first.id}`);
    expect(focus).toContain(`https://carecircle.test/fhir/R4/Task/${third.id}`);
    expect(env.receiver.events('/hook/gate').some((n) => n.eventNumbers.includes(2))).toBe(false);
    expect(JSON.stringify(env.receiver.received)).not.toContain(revoked.id);
    await expectOutcomes(gated.id ?? '', ['delivered', 'withheld', 'delivered']);
  });
});

/** Waits until the subscription's events have these outcomes, in number order. */
async function expectOutcomes(subscriptionId: string, expected: (string | null)[]): Promise<void> {
  let outcomes: (string | null)[] = [];
  for (let i = 0; i < 100; i++) {
    const { rows } = await env.db.query<{ outcome: string | null }>(
      sql`SELECT outcome FROM subscription_event WHERE subscription_id = ${subscriptionId} ORDER BY event_number`,
    );
    outcomes = rows.map((r) => r.outcome);
    if (JSON.stringify(outcomes) === JSON.stringify(expected)) {
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(outcomes).toEqual(expected);
}

/** Event numbers in the order the receiver accepted them (answered 2xx). */
function acceptedOrder(notifications: ReceivedNotification[]): number[] {
  return notifications.filter((n) => n.answered !== undefined && n.answered < 300).flatMap((n) => n.eventNumbers);
}

/** True when every attempt came after attempts at earlier event numbers: never a later event before an earlier one settled. */
function nonDecreasing(notifications: ReceivedNotification[]): boolean {
  const numbers = notifications.flatMap((n) => n.eventNumbers);
  return numbers.every((n, i) => i === 0 || n >= (numbers[i - 1] ?? 0));
}
