/**
 * The API's probes over real HTTP with a real Redis outage: the suite's Redis is a private redis-server that the test
 * kills and starts again. Readiness (the Kubernetes readinessProbe) follows the database only, since the FHIR API
 * keeps serving without Redis; /healthz/dependencies names Redis when it is away, for monitoring.
 */
import { openDatabase } from '@carecircle/store';
import { buildPatient, startPrivateRedis, type PrivateRedis } from '@carecircle/testing';
import { HEALTH_CHECK_TIMEOUT_MS } from '@carecircle/process';
import request from 'supertest';
import { createApp } from '../app';
import { bearer, createTestApp, type TestApp } from '../test-harness';

let redis: PrivateRedis;
let t: TestApp;

beforeAll(async () => {
  redis = await startPrivateRedis();
  t = await createTestApp({ REDIS_URL: redis.url });
});

afterAll(async () => {
  await t.close();
  await redis.stop();
});

async function waitForStatus(path: string, status: number, timeoutMs = 15_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await t.http.get(path);
    if (res.status === status || Date.now() > deadline) {
      expect(res.status).toBe(status);
      return res.body as Record<string, unknown>;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('with Redis up: liveness, readiness on the database, and dependencies all answer 200', async () => {
  expect((await t.http.get('/healthz')).body).toEqual({ status: 'ok' });
  const ready = await t.http.get('/readyz');
  expect(ready.status).toBe(200);
  expect(ready.headers['cache-control']).toBe('no-store');
  expect(ready.body).toEqual({ status: 'ok', checks: { postgres: 'ok' } });
  const dependencies = await t.http.get('/healthz/dependencies');
  expect(dependencies.status).toBe(200);
  expect(dependencies.body).toEqual({ status: 'ok', checks: { postgres: 'ok', redis: 'ok' } });
});

test('Redis killed: the API stays ready and serves FHIR, dependencies name Redis; back when Redis returns', async () => {
  await redis.kill();
  try {
    await expectServingWithoutRedis();
  } finally {
    await redis.restart();
  }
  expect(await waitForStatus('/healthz/dependencies', 200)).toEqual({ status: 'ok', checks: { postgres: 'ok', redis: 'ok' } });
}, 60_000);

async function expectServingWithoutRedis(): Promise<void> {
  const started = Date.now();
  const ready = await t.http.get('/readyz');
  expect(ready.status).toBe(200);
  expect(ready.body).toEqual({ status: 'ok', checks: { postgres: 'ok' } });
  // Readiness never waits on Redis: below the time one check may take (a Redis check would run into it).
  expect(Date.now() - started).toBeLessThan(HEALTH_CHECK_TIMEOUT_MS);
  expect((await t.http.get('/healthz')).status).toBe(200);
  expect(await waitForStatus('/healthz/dependencies', 503)).toEqual({ status: 'unavailable', checks: { postgres: 'ok', redis: 'fail' } });

  // What readiness promises: the FHIR API works meanwhile.
  const auth = bearer(t.adminToken);
  const created = await t.http.post('/fhir/R4/Patient').set('Authorization', auth).set('Content-Type', 'application/fhir+json').send(buildPatient());
  expect(created.status).toBe(201);
  const read = await t.http.get(`/fhir/R4/Patient/${(created.body as { id: string }).id}`).set('Authorization', auth);
  expect(read.status).toBe(200);
}

test('the database away: readiness answers 503 naming it, liveness still 200', async () => {
  // The same app over a database handle of its own that is closed: every query fails, as with PostgreSQL down.
  const closed = await openDatabase({ databaseUrl: t.services.config.databaseUrl });
  await closed.close();
  const http = request(createApp({ ...t.services, db: closed }));
  const ready = await http.get('/readyz');
  expect(ready.status).toBe(503);
  expect(ready.body).toEqual({ status: 'unavailable', checks: { postgres: 'fail' } });
  expect((await http.get('/healthz/dependencies')).body).toEqual({ status: 'unavailable', checks: { postgres: 'fail', redis: 'ok' } });
  expect((await http.get('/healthz')).status).toBe(200);
});
