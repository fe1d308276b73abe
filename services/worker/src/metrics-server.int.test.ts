/**
 * The worker run alone (ROLE=worker) shows its metrics: on its health port beside the probes (WORKER_HEALTH_PORT) and on
 * METRICS_PORT, without a token, as the real process started by `main.ts` on real PostgreSQL and Redis; queue depths,
 * dead-letter size, subscriptions by status and the database pool are there, and the process still stops with 0.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createTestDatabase, freePort } from '@carecircle/testing';
import { waitForLine } from './testing/delivery-checks';
import { deleteRedisPrefix } from './testing/notify-test-env';

const REDIS_URL = 'redis://127.0.0.1:6379';

test('ROLE=worker answers /metrics on WORKER_HEALTH_PORT and METRICS_PORT with the worker figures', async () => {
  const database = await createTestDatabase();
  const [healthPort, metricsPort] = [await freePort(), await freePort()];
  const prefix = `{cc-test-metrics-${process.pid}}`;
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'main.ts')], {
    cwd: join(__dirname, '..'),
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      ROLE: 'worker',
      DATABASE_URL: database.url,
      REDIS_URL,
      REDIS_PREFIX: prefix,
      WORKER_HEALTH_PORT: String(healthPort),
      METRICS_PORT: String(metricsPort),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await waitForLine(child, `Metrics: http://localhost:${metricsPort}/metrics`);
    for (const port of [healthPort, metricsPort]) {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      expect(text).toMatch(/^carecircle_queue_jobs\{queue="outbox-events",state="waiting"\} 0$/m);
      expect(text).toMatch(/^carecircle_queue_jobs\{queue="subscription-delivery",state="failed"\} 0$/m);
      expect(text).toMatch(/^carecircle_dead_letter_jobs 0$/m);
      expect(text).toMatch(/^carecircle_subscriptions\{status="active"\} 0$/m);
      expect(text).toMatch(/^carecircle_db_pool_max\{database="postgres"\} 10$/m);
      expect(text).toContain('# TYPE carecircle_notification_attempts_total counter');
    }
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    await database.drop();
    await deleteRedisPrefix(REDIS_URL, prefix);
  }
}, 60_000);
