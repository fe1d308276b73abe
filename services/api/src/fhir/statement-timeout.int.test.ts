/**
 * One request cannot hold the database for long (audit finding D3): a statement that runs past
 * DATABASE_STATEMENT_TIMEOUT_MS, here one waiting for a lock the test holds, is cancelled by PostgreSQL and answers 503
 * with an OperationOutcome (issue timeout), never a 500. A transaction Bundle then writes nothing; in a batch only that
 * entry fails.
 */
import { buildOrganization, buildPatient } from '@carecircle/testing';
import { sql, type Sql } from '@carecircle/store';
import type { Basic, Bundle, BundleEntry, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { createTestApp, type TestApp } from '../test-harness';

const FHIR = '/fhir/R4';
const JSON_FHIR = 'application/fhir+json';
const TIMEOUT_MS = 1000;
/** Long enough that only a statement timeout ends the wait first; short enough to fail fast without one. */
const LOCK_HELD_AT_MOST_MS = 6000;
const MARKER_SYSTEM = 'https://example.org/statement-timeout';

let t: TestApp;
let admin: string;

beforeAll(async () => {
  t = await createTestApp({ DATABASE_STATEMENT_TIMEOUT_MS: String(TIMEOUT_MS) });
  admin = `Bearer ${t.adminToken}`;
});
afterAll(async () => {
  await t.close();
});

/**
 * Holds `lock` in a transaction of the test's own while `request` runs; the lock is let go when the request answers,
 * or after {@link LOCK_HELD_AT_MOST_MS} (failing the test: the request waited as long as the lock was held).
 */
async function whileLocked<T>(lock: Sql, request: () => PromiseLike<T>): Promise<T> {
  return t.services.db.transaction(async (tx) => {
    await tx.query(lock);
    let timer: NodeJS.Timeout | undefined;
    const tooLong = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`the request waited ${LOCK_HELD_AT_MOST_MS} ms for the lock`)), LOCK_HELD_AT_MOST_MS);
    });
    try {
      return await Promise.race([Promise.resolve(request()), tooLong]);
    } finally {
      clearTimeout(timer);
    }
  });
}

function expectTimeoutOutcome(res: { status: number; body: unknown }): void {
  expect({ status: res.status, type: (res.body as Resource).resourceType }).toEqual({ status: 503, type: 'OperationOutcome' });
  expect((res.body as OperationOutcome).issue?.[0]?.code).toBe('timeout');
}

async function createBasic(value: string): Promise<Basic> {
  const res = await t.http
    .post(`${FHIR}/Basic`)
    .set('Authorization', admin)
    .set('Content-Type', JSON_FHIR)
    .send({ resourceType: 'Basic', code: { text: 'note' }, identifier: [{ system: MARKER_SYSTEM, value }] });
  expect(res.status).toBe(201);
  return res.body as Basic;
}

async function markersFound(value: string): Promise<number> {
  const res = await t.http.get(`${FHIR}/Basic?identifier=${encodeURIComponent(`${MARKER_SYSTEM}|${value}`)}`).set('Authorization', admin);
  expect(res.status).toBe(200);
  return (res.body as Bundle).total ?? -1;
}

test('a search whose statement runs past the timeout answers 503, soon after the timeout', async () => {
  await t.http.post(`${FHIR}/Organization`).set('Authorization', admin).set('Content-Type', JSON_FHIR).send(buildOrganization());
  await t.http.post(`${FHIR}/Patient`).set('Authorization', admin).set('Content-Type', JSON_FHIR).send(buildPatient());
  const started = Date.now();
  const res = await whileLocked(sql`LOCK TABLE search_string IN ACCESS EXCLUSIVE MODE`, () =>
    t.http.get(`${FHIR}/Patient?name=rivera`).set('Authorization', admin),
  );
  expectTimeoutOutcome(res);
  expect(Date.now() - started).toBeLessThan(LOCK_HELD_AT_MOST_MS);
  // Once the lock is gone, the same search runs.
  expect((await t.http.get(`${FHIR}/Patient?name=rivera`).set('Authorization', admin)).status).toBe(200);
});

test('an update waiting past the timeout for the resource’s lock answers 503 and changes nothing', async () => {
  const basic = await createBasic('update-target');
  const res = await whileLocked(sql`SELECT pg_advisory_xact_lock(hashtext(${`Basic/${basic.id}`}))`, () =>
    t.http.put(`${FHIR}/Basic/${basic.id}`).set('Authorization', admin).set('Content-Type', JSON_FHIR).send({ ...basic, code: { text: 'changed' } }),
  );
  expectTimeoutOutcome(res);
  const current = await t.http.get(`${FHIR}/Basic/${basic.id}`).set('Authorization', admin);
  expect((current.body as Basic).meta?.versionId).toBe(basic.meta?.versionId);
});

test('a transaction with such an entry writes nothing (503); a batch answers that entry 503 and keeps the others', async () => {
  const target = await createBasic('bundle-target');
  const entries = (marker: string): BundleEntry[] => [
    {
      request: { method: 'POST', url: 'Basic' },
      resource: { resourceType: 'Basic', code: { text: 'note' }, identifier: [{ system: MARKER_SYSTEM, value: marker }] },
    },
    { request: { method: 'PUT', url: `Basic/${target.id}` }, resource: { ...target, code: { text: 'changed' } } },
  ];
  const lock = sql`SELECT pg_advisory_xact_lock(hashtext(${`Basic/${target.id}`}))`;
  const send = (type: 'batch' | 'transaction', marker: string) => () =>
    t.http.post(FHIR).set('Authorization', admin).set('Content-Type', JSON_FHIR).send({ resourceType: 'Bundle', type, entry: entries(marker) });

  expectTimeoutOutcome(await whileLocked(lock, send('transaction', 'in-transaction')));
  expect(await markersFound('in-transaction')).toBe(0);

  const res = await whileLocked(lock, send('batch', 'in-batch'));
  expect(res.status).toBe(200);
  const answers = (res.body as Bundle).entry ?? [];
  expect(answers.map((e) => e.response?.status)).toEqual(['201 Created', '503']);
  expect(answers[1]?.response?.outcome?.issue?.[0]?.code).toBe('timeout');
  expect(await markersFound('in-batch')).toBe(1);
});
