/**
 * /metrics over real HTTP, of the API and the worker composed in one process as launch.ts does for ROLE=all: the
 * operator's admin token or 401; request counters and latency histograms move for the interaction, resource type and
 * status a request had, never carrying its ids; the database pool, queue and subscription gauges of the process (API
 * and worker in one registry) are there; and METRICS_PORT's server answers without a token. (Moved from
 * services/api/src/metrics/routes.int.test.ts: the API no longer imports the worker.)
 */
import { bearer, createTestApp, fhirClient, type TestApp } from '@carecircle/api/testing';
import { createLogger } from '@carecircle/log';
import { startMetricsServer, type HealthServer } from '@carecircle/process';
import { buildPatient } from '@carecircle/testing';
import { startWorker, type RunningWorker } from '@carecircle/worker';
import type { OperationOutcome, Patient } from '@medplum/fhirtypes';

let t: TestApp;
let worker: RunningWorker;

beforeAll(async () => {
  t = await createTestApp();
  worker = await startWorker({ config: t.services.config, db: t.services.db, logger: createLogger('silent'), metrics: t.services.metrics });
});

afterAll(async () => {
  await worker.close();
  await t.close();
});

async function scrape(): Promise<string> {
  const res = await t.http.get('/metrics').set('Authorization', bearer(t.adminToken));
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text;
}

/** The value of the sample `name{labels}` in `text` (labels in the order prom-client writes them), 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const wanted = `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;
  const line = text.split('\n').find((l) => l.startsWith(`${wanted} `));
  return line === undefined ? 0 : Number(line.slice(wanted.length + 1));
}

const request = (interaction: string, resourceType: string, status: string, method: string) => ({
  method,
  interaction,
  resource_type: resourceType,
  operation: '',
  status,
});

test('/metrics without the admin token, or with another, is a 401 OperationOutcome', async () => {
  const none = await t.http.get('/metrics');
  expect(none.status).toBe(401);
  expect((none.body as OperationOutcome).resourceType).toBe('OperationOutcome');
  const wrong = await t.http.get('/metrics').set('Authorization', bearer('x'.repeat(64)));
  expect(wrong.status).toBe(401);
  expect(wrong.text).not.toContain('carecircle_');
});

test("a scrape is in the access log as the operator's request for /metrics", async () => {
  const res = await t.http.get('/metrics').set('Authorization', bearer(t.adminToken));
  const line = t.logLines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.msg === 'request' && l.requestId === res.headers['x-request-id']);
  expect(line).toMatchObject({ path: '/metrics', status: 200, caller: 'admin' });
});

test('request counters and latency histograms move for the interaction, resource type and status, without ids', async () => {
  const before = await scrape();
  const admin = fhirClient(t, t.adminToken);
  const created = await admin.post('Patient', buildPatient({ name: [{ family: 'Metrics', given: ['Mo'] }] }));
  expect(created.status).toBe(201);
  const id = (created.body as Patient).id ?? '';
  expect((await admin.get(`Patient/${id}`)).status).toBe(200);
  expect((await admin.get(`Patient/${id}`)).status).toBe(200);
  expect((await admin.get('Patient/no-such-patient-id')).status).toBe(404);
  expect((await admin.get('Patient?family=Metrics')).status).toBe(200);
  expect((await admin.get(`Patient/${id}/_history/1`)).status).toBe(200);
  expect((await t.http.get(`/fhir/R4/NotAType/${id}`).set('Authorization', bearer(t.adminToken))).status).toBe(404);
  const after = await scrape();

  const moved = (name: string, labels: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);
  expect(moved('carecircle_http_requests_total', request('create', 'Patient', '201', 'POST'))).toBe(1);
  expect(moved('carecircle_http_requests_total', request('read', 'Patient', '200', 'GET'))).toBe(2);
  expect(moved('carecircle_http_requests_total', request('read', 'Patient', '404', 'GET'))).toBe(1);
  expect(moved('carecircle_http_requests_total', request('search-type', 'Patient', '200', 'GET'))).toBe(1);
  expect(moved('carecircle_http_requests_total', request('vread', 'Patient', '200', 'GET'))).toBe(1);
  expect(moved('carecircle_http_requests_total', request('read', 'unknown', '404', 'GET'))).toBe(1);
  expect(moved('carecircle_http_request_duration_seconds_count', request('read', 'Patient', '200', 'GET'))).toBe(2);
  expect(moved('carecircle_http_request_duration_seconds_bucket', { le: '+Inf', ...request('read', 'Patient', '200', 'GET') })).toBe(2);
  // The scrape before this one is counted too, as the operator's `metrics` route.
  expect(sample(after, 'carecircle_http_requests_total', request('metrics', '', '200', 'GET'))).toBeGreaterThanOrEqual(1);

  // Ids (a server-assigned one, and one the caller made up) never become labels; neither do searched values.
  expect(after).not.toContain(id);
  expect(after).not.toContain('no-such-patient-id');
  expect(after).not.toContain('NotAType');
  expect(after).not.toContain('Metrics');
});

test('the database pool, queue depths, dead-letter size and subscriptions by status are reported', async () => {
  const text = await scrape();
  // postgres (a pool of 10), or pglite (its one connection) when the suite runs on the embedded store.
  const database = t.services.db.kind;
  expect(sample(text, 'carecircle_db_pool_max', { database })).toBe(database === 'postgres' ? 10 : 1);
  expect(text).toMatch(new RegExp(`^carecircle_db_pool_connections\\{database="${database}",state="total"\\} \\d+$`, 'm'));
  expect(text).toMatch(new RegExp(`^carecircle_db_pool_connections\\{database="${database}",state="idle"\\} \\d+$`, 'm'));
  expect(text).toMatch(new RegExp(`^carecircle_db_pool_waiting\\{database="${database}"\\} 0$`, 'm'));
  for (const queue of ['outbox-events', 'subscription-delivery', 'subscription-handshake', 'subscription-dead-letter']) {
    for (const state of ['waiting', 'active', 'delayed', 'failed']) {
      expect(text).toMatch(new RegExp(`^carecircle_queue_jobs\\{queue="${queue}",state="${state}"\\} \\d+$`, 'm'));
    }
  }
  expect(text).toMatch(/^carecircle_dead_letter_jobs 0$/m);
  for (const status of ['requested', 'active', 'error', 'off']) {
    expect(text).toMatch(new RegExp(`^carecircle_subscriptions\\{status="${status}"\\} 0$`, 'm'));
  }
  expect(text).toContain('# TYPE carecircle_notification_delivery_seconds histogram');
  expect(text).toMatch(/^carecircle_process_resident_memory_bytes \d+/m);
});

test("METRICS_PORT's server answers /metrics without a token, from the same registry", async () => {
  let server: HealthServer | undefined;
  try {
    server = await startMetricsServer({ port: 0, registry: t.services.metrics, logger: createLogger('silent') });
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await res.text()).toContain('carecircle_http_requests_total{');
  } finally {
    await server?.close();
  }
});
