/**
 * The worker's health server over real HTTP, on real PostgreSQL and a private redis-server that the test kills and
 * starts again: liveness follows the queue consumers only, readiness the database, Redis and the consumers; and the
 * worker process itself (ROLE=worker, WORKER_HEALTH_PORT) serves both and still stops with 0 on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createLogger } from '@carecircle/log';
import type { HealthServer } from '@carecircle/process';
import { createTestDatabase, freePort, startPrivateRedis, type PrivateRedis } from '@carecircle/testing';
import { waitForLine } from './testing/delivery-checks';
import { createNotifyTestEnv, deleteRedisPrefix, type NotifyTestEnv } from './testing/notify-test-env';
import type { RunningWorker } from './worker';
import { startWorkerHealthServer } from './worker-process';

let redis: PrivateRedis;
let env: NotifyTestEnv;
let worker: RunningWorker;
let health: HealthServer;

beforeAll(async () => {
  redis = await startPrivateRedis();
  env = await createNotifyTestEnv({ redisUrl: redis.url });
  worker = await env.startWorker();
  health = await startWorkerHealthServer({ port: 0, db: env.db, worker, logger: createLogger('silent') });
});

afterAll(async () => {
  await health.close();
  await env.close();
  await redis.stop();
});

async function get(path: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${health.port}${path}`, init);
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

async function waitForStatus(path: string, status: number, timeoutMs = 15_000): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await get(path);
    if (res.status === status || Date.now() > deadline) {
      expect(res.status).toBe(status);
      return res.body;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('a running worker is live and ready: database, Redis and queue consumers answer', async () => {
  expect(await get('/healthz')).toEqual({ status: 200, body: { status: 'ok', checks: { queues: 'ok' } } });
  expect(await get('/readyz')).toEqual({ status: 200, body: { status: 'ok', checks: { postgres: 'ok', redis: 'ok', queues: 'ok' } } });
  expect((await get('/readyz?verbose')).status).toBe(200);
});

test('unknown paths are 404, other methods 405, and more routes mount beside the probes', async () => {
  expect((await get('/metrics')).status).toBe(404);
  expect((await get('/readyz', { method: 'POST' })).status).toBe(405);
  health.route('/metrics', (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('up 1\n');
  });
  const metrics = await fetch(`http://127.0.0.1:${health.port}/metrics`);
  expect(metrics.status).toBe(200);
  expect(await metrics.text()).toBe('up 1\n');
  health.route('/broken', () => {
    throw new Error('broken route');
  });
  expect(await get('/broken')).toEqual({ status: 500, body: { status: 'error' } });
  expect((await get('/healthz')).status).toBe(200);
});

test('Redis killed: not ready (naming Redis) but still live; ready again by itself when Redis returns', async () => {
  await redis.kill();
  try {
    expect(await waitForStatus('/readyz', 503)).toEqual({ status: 'unavailable', checks: { postgres: 'ok', redis: 'fail', queues: 'ok' } });
    // A Redis outage is no reason to restart the worker: BullMQ reconnects by itself.
    expect(await get('/healthz')).toEqual({ status: 200, body: { status: 'ok', checks: { queues: 'ok' } } });
  } finally {
    await redis.restart();
  }
  expect(await waitForStatus('/readyz', 200)).toEqual({ status: 'ok', checks: { postgres: 'ok', redis: 'ok', queues: 'ok' } });
}, 60_000);

test('a worker whose queue consumers stopped is not live', async () => {
  const second = await env.startWorker();
  const server = await startWorkerHealthServer({ port: 0, db: env.db, worker: second, logger: createLogger('silent') });
  try {
    await second.close();
    const res = await fetch(`http://127.0.0.1:${server.port}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'unavailable', checks: { queues: 'fail' } });
  } finally {
    await server.close();
  }
});

test('the worker process (ROLE=worker) serves its probes on WORKER_HEALTH_PORT and exits 0 on SIGTERM', async () => {
  const database = await createTestDatabase();
  const port = await freePort();
  const prefix = `{cc-test-health-${process.pid}}`;
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'main.ts')], {
    cwd: join(__dirname, '..'),
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      ROLE: 'worker',
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      REDIS_PREFIX: prefix,
      WORKER_HEALTH_PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await waitForLine(child, `Health: http://localhost:${port}/healthz`);
    const live = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(live.status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ok', checks: { postgres: 'ok', redis: 'ok', queues: 'ok' } });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    await database.drop();
    await deleteRedisPrefix(redis.url, prefix);
  }
}, 60_000);
