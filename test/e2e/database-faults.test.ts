/**
 * Faults an operator meets on day one, against CareCircle as real processes (the API alone, the worker alone, and both
 * in one process), real PostgreSQL and real Redis: the processes' PostgreSQL connections killed with
 * pg_terminate_backend while idle, while a statement waits on a lock, between the statements of a transaction and at
 * random under load (the worker's LISTEN and relay connections with them), and Redis killed and started again. Every
 * process stays up; a request in flight answers 503 OperationOutcome (transient or timeout) with Retry-After, or
 * succeeds; a transaction Bundle writes all or nothing; service returns by itself within seconds.
 * (The shared PostgreSQL server itself is never restarted here: other suites use it.)
 */
import { randomBytes } from 'node:crypto';
import { buildPatient, createTestDatabase, startPrivateRedis, type PrivateRedis, type TestDatabase } from '@carecircle/testing';
import type { Basic, Bundle, Goal, OperationOutcome, Patient } from '@medplum/fhirtypes';
import pg from 'pg';
import { startCareCircle, type RunningProcess } from '../support/process';

const FHIR = '/fhir/R4';
const adminToken = randomBytes(32).toString('hex');
const headers = { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/fhir+json' };
const MARKER_SYSTEM = 'https://example.org/database-faults';
/** How long service may take to return by itself after a fault. */
const HEALS_WITHIN_MS = 5000;

interface Answer {
  status: number;
  retryAfter: string | null;
  body: unknown;
}

let database: TestDatabase;
/** The test's own connection to the suite's database: holds locks, kills the processes' connections, reads the outbox. */
let admin: pg.Client;
let api: RunningProcess;
let worker: RunningProcess;

async function call(app: RunningProcess, method: string, path: string, body?: unknown): Promise<Answer> {
  const res = await fetch(`${app.baseUrl}${FHIR}/${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }).catch(
    (err: unknown) => {
      throw new Error(`${method} ${path} got no answer (${String(err)}); the process said:\n${app.output().slice(-2000)}`);
    },
  );
  const text = await res.text();
  return { status: res.status, retryAfter: res.headers.get('Retry-After'), body: text ? (JSON.parse(text) as unknown) : undefined };
}

/** Kills every connection to the suite's database but the test's own; resolves with how many were killed. */
async function terminateConnections(where = 'true'): Promise<number> {
  const { rows } = await admin.query<{ killed: boolean }>(
    `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid() AND ${where}`,
  );
  return rows.filter((r) => r.killed).length;
}

/** The answer is a success, or 503 with an OperationOutcome saying transient or timeout and a Retry-After in seconds. */
function expectServedOrUnavailable(answer: Answer): void {
  if (answer.status < 400) {
    return;
  }
  const issue = (answer.body as OperationOutcome | undefined)?.issue?.[0];
  expect({ status: answer.status, type: (answer.body as OperationOutcome | undefined)?.resourceType, code: issue?.code, text: issue?.details?.text }).toEqual({
    status: 503,
    type: 'OperationOutcome',
    code: expect.stringMatching(/^(transient|timeout)$/) as unknown,
    text: expect.any(String) as unknown,
  });
  expect(answer.retryAfter).toMatch(/^[1-9]\d*$/);
}

function expectAlive(app: RunningProcess): void {
  expect({ exitCode: app.child.exitCode, signal: app.child.signalCode }).toEqual({ exitCode: null, signal: null });
  expect(app.output()).not.toMatch(/Unhandled 'error' event|uncaughtException|unhandledRejection/);
}

/** Polls until a read answers 200; fails after {@link HEALS_WITHIN_MS}. */
async function expectServingAgain(app: RunningProcess): Promise<void> {
  const until = Date.now() + HEALS_WITHIN_MS;
  for (;;) {
    const answer = await call(app, 'GET', 'Patient?_count=1');
    if (answer.status === 200) {
      return;
    }
    expectServedOrUnavailable(answer);
    if (Date.now() > until) {
      throw new Error(`still answering ${answer.status} ${HEALS_WITHIN_MS} ms after the fault`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > until) {
      throw new Error(`timed out waiting until ${what}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function createBasic(app: RunningProcess, marker: string): Promise<Basic> {
  const answer = await call(app, 'POST', 'Basic', { resourceType: 'Basic', code: { text: 'note' }, identifier: [{ system: MARKER_SYSTEM, value: marker }] });
  expect(answer.status).toBe(201);
  return answer.body as Basic;
}

async function markersStored(marker: string): Promise<number> {
  const answer = await call(api, 'GET', `Basic?identifier=${encodeURIComponent(`${MARKER_SYSTEM}|${marker}`)}&_summary=count`);
  expect(answer.status).toBe(200);
  return (answer.body as Bundle).total ?? -1;
}

/** Outbox rows not yet relayed to the queue and matched against subscriptions. */
async function outboxBacklog(): Promise<number> {
  const { rows } = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE relayed_at IS NULL OR matched_at IS NULL');
  return rows[0]?.n ?? -1;
}

/** A Goal: a change a subscription topic watches, so its outbox row becomes a job the worker must match. */
function goalFor(patientId: string | undefined): Goal {
  return { resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'Daily practice' }, subject: { reference: `Patient/${patientId}` } };
}

/** Creates a Goal through `app`, trying again while it answers 503 (the fault may still be settling). */
async function createGoalEventually(app: RunningProcess, patientId: string | undefined): Promise<void> {
  await waitUntil('a Goal is created', async () => {
    const answer = await call(app, 'POST', 'Goal', goalFor(patientId));
    expectServedOrUnavailable(answer);
    return answer.status === 201;
  }, HEALS_WITHIN_MS);
}

beforeAll(async () => {
  database = await createTestDatabase();
  // Each process names its connections, so a test can kill one process's connections and not the other's.
  const env = { ADMIN_TOKEN: adminToken, REDIS_PREFIX: `{cc-faults-${randomBytes(4).toString('hex')}}` };
  api = await startCareCircle({ ...env, DATABASE_URL: `${database.url}?application_name=faults-api`, ROLE: 'api' });
  worker = await startCareCircle({ ...env, DATABASE_URL: `${database.url}?application_name=faults-worker`, ROLE: 'worker' });
  admin = new pg.Client({ connectionString: database.url });
  admin.on('error', () => undefined);
  await admin.connect();
}, 90_000);

afterAll(async () => {
  await admin?.end().catch(() => undefined);
  await Promise.all([api?.stop(), worker?.stop()]);
  await database?.drop();
});

describe('PostgreSQL connections killed under the API process', () => {
  test('while idle: the process lives and the next requests succeed', async () => {
    await createBasic(api, 'idle-before');
    expect(await terminateConnections()).toBeGreaterThan(0);
    expectServedOrUnavailable(await call(api, 'GET', 'Basic?_count=1'));
    await expectServingAgain(api);
    await createBasic(api, 'idle-after');
    expectAlive(api);
  });

  test('while an update waits on a lock inside its transaction: 503 with Retry-After, nothing written, the next update succeeds', async () => {
    const basic = await createBasic(api, 'locked');
    await admin.query('BEGIN');
    let update: Promise<Answer> | undefined;
    try {
      await admin.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`Basic/${basic.id}`]);
      update = call(api, 'PUT', `Basic/${basic.id}`, { ...basic, code: { text: 'changed while locked' } });
      await waitUntil('the update waits on the lock', async () => (await terminateConnections("wait_event_type = 'Lock' AND application_name = 'faults-api'")) > 0);
    } finally {
      await admin.query('ROLLBACK');
    }
    const answer = await update;
    expect(answer.status).toBe(503);
    expectServedOrUnavailable(answer);
    expectAlive(api);
    await expectServingAgain(api);
    const current = await call(api, 'GET', `Basic/${basic.id}`);
    expect((current.body as Basic).meta?.versionId).toBe(basic.meta?.versionId);
    expect((await call(api, 'PUT', `Basic/${basic.id}`, { ...basic, code: { text: 'changed after' } })).status).toBe(200);
  });

  test('between the statements of a transaction Bundle: the process lives, the Bundle writes all or nothing', async () => {
    const entries = (marker: string) =>
      Array.from({ length: 40 }, () => ({
        request: { method: 'POST', url: 'Basic' },
        resource: { resourceType: 'Basic', code: { text: 'note' }, identifier: [{ system: MARKER_SYSTEM, value: marker }] },
      }));
    // Kill only a connection caught idle inside its transaction (between two statements), until one is caught.
    for (let round = 0; round < 5; round++) {
      const marker = `bundle-${round}`;
      const sent = call(api, 'POST', '', { resourceType: 'Bundle', type: 'transaction', entry: entries(marker) });
      let caught = 0;
      let settled = false;
      void sent.finally(() => (settled = true));
      while (!settled && caught === 0) {
        caught = await terminateConnections("state = 'idle in transaction' AND application_name = 'faults-api'");
      }
      const answer = await sent;
      expectServedOrUnavailable(answer);
      expectAlive(api);
      await expectServingAgain(api);
      expect([0, 40]).toContain(await markersStored(marker));
      if (caught > 0) {
        expect(answer.status).toBe(503);
        return;
      }
    }
    throw new Error('no transaction was caught between two statements in 5 tries');
  });

  test('at random under load, nine rounds: never a 500, the process lives, service returns within seconds', async () => {
    const patient = (await call(api, 'POST', 'Patient', buildPatient())).body as Patient;
    for (let round = 0; round < 9; round++) {
      let stop = false;
      const load = Array.from({ length: 6 }, async (_, lane) => {
        const answers: Answer[] = [];
        for (let i = 0; !stop; i++) {
          switch ((lane + i) % 4) {
            case 0:
              answers.push(await call(api, 'GET', `Patient/${patient.id}`));
              break;
            case 1:
              answers.push(await call(api, 'GET', 'Basic?identifier=' + encodeURIComponent(`${MARKER_SYSTEM}|load`)));
              break;
            case 2:
              answers.push(await call(api, 'PUT', `Patient/${patient.id}`, { ...patient, gender: i % 2 ? 'female' : 'male' }));
              break;
            default:
              answers.push(await call(api, 'POST', 'Basic', { resourceType: 'Basic', code: { text: 'note' }, identifier: [{ system: MARKER_SYSTEM, value: 'load' }] }));
          }
        }
        return answers;
      });
      for (let cut = 0; cut < 5; cut++) {
        await new Promise((r) => setTimeout(r, 40 + Math.floor(Math.random() * 60)));
        await terminateConnections();
      }
      stop = true;
      const answers = (await Promise.all(load)).flat();
      expect(answers.length).toBeGreaterThan(0);
      answers.forEach(expectServedOrUnavailable);
      expectAlive(api);
      await expectServingAgain(api);
    }
  }, 120_000);
});

describe('PostgreSQL connections killed under the worker process', () => {
  test('its LISTEN and relay connections cut twelve times: it lives, listens again, and the outbox still drains', async () => {
    const patient = (await call(api, 'POST', 'Patient', buildPatient())).body as Patient;
    // What the API tests' cuts left behind (matching retried with backoff) settles first: each cut is measured alone.
    await waitUntil('the outbox drains before the first cut', async () => (await outboxBacklog()) === 0, 30_000);
    const drainMs: number[] = [];
    for (let cut = 0; cut < 12; cut++) {
      expect(await terminateConnections()).toBeGreaterThan(0);
      await createGoalEventually(api, patient.id);
      const started = Date.now();
      await waitUntil('the outbox drains', async () => (await outboxBacklog()) === 0);
      drainMs.push(Date.now() - started);
      expectAlive(worker);
    }
    // A cut costs the relay one poll interval (1 s) or the listener's reconnect (1 s), not the outage backoff (10 s).
    expect(Math.max(...drainMs)).toBeLessThan(HEALS_WITHIN_MS);
    await waitUntil('the worker listens again', async () => {
      const { rows } = await admin.query("SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN outbox'");
      return rows.length > 0;
    });
    expectAlive(api);
  }, 120_000);
});

describe('API and worker in one process (ROLE=all)', () => {
  let redis: PrivateRedis;
  let both: RunningProcess;
  let own: TestDatabase;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    own = await createTestDatabase();
    both = await startCareCircle({ DATABASE_URL: own.url, ADMIN_TOKEN: adminToken, REDIS_URL: redis.url });
  }, 60_000);

  afterAll(async () => {
    // The last test stops it; killed here only when that failed.
    if (both?.child.exitCode === null && both.child.signalCode === null) {
      both.child.kill('SIGKILL');
    }
    await redis?.stop();
    await own?.drop();
  });

  test('Redis killed and started again, empty: the process lives, FHIR answers throughout, the worker relays again', async () => {
    const patient = (await call(both, 'POST', 'Patient', buildPatient())).body as Patient;
    await redis.kill();
    for (let i = 0; i < 5; i++) {
      expectServedOrUnavailable(await call(both, 'GET', `Patient/${patient.id}`));
      expectServedOrUnavailable(await call(both, 'POST', 'Goal', goalFor(patient.id)));
      await new Promise((r) => setTimeout(r, 200));
    }
    expectAlive(both);
    await redis.restart();
    await expectServingAgain(both);
    await createGoalEventually(both, patient.id);
    const ownAdmin = new pg.Client({ connectionString: own.url });
    ownAdmin.on('error', () => undefined);
    await ownAdmin.connect();
    try {
      await waitUntil('the outbox drains', async () => {
        const { rows } = await ownAdmin.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE relayed_at IS NULL OR matched_at IS NULL');
        return rows[0]?.n === 0;
      }, 20_000);
    } finally {
      await ownAdmin.end();
    }
    expectAlive(both);
  }, 60_000);

  test('its PostgreSQL connections killed under load: the process lives and serves again', async () => {
    const ownAdmin = new pg.Client({ connectionString: own.url });
    ownAdmin.on('error', () => undefined);
    await ownAdmin.connect();
    try {
      const patient = (await call(both, 'POST', 'Patient', buildPatient())).body as Patient;
      for (let cut = 0; cut < 6; cut++) {
        const writing = call(both, 'PUT', `Patient/${patient.id}`, { ...patient, gender: cut % 2 ? 'female' : 'male' });
        await ownAdmin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
        expectServedOrUnavailable(await writing);
        expectAlive(both);
        await expectServingAgain(both);
      }
    } finally {
      await ownAdmin.end();
    }
  }, 60_000);

  test('SIGTERM while Redis is away: the process still shuts down, at once and with 0', async () => {
    await redis.kill();
    const started = Date.now();
    expect(await both.stop()).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 30_000);
});
