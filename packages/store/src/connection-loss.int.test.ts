/**
 * A PostgreSQL connection lost at any point costs the statement in flight, never the process: killed with
 * pg_terminate_backend between two statements of a transaction, or while a statement waits on a lock, or refused
 * outright, the call rejects with a 503 OperationOutcome (issue transient) and the pool serves the next call on a new
 * connection. (Before, a client checked out for a transaction had no 'error' listener: the loss was an unhandled
 * 'error' event that ended the process.)
 */
import { createTestDatabase, rejectionStatus, type TestDatabase } from '@carecircle/testing';
import { OperationOutcomeError } from '@medplum/core';
import pg from 'pg';
import { openDatabase, type Database } from './database';
import { sql } from './sql';

const APPLICATION = 'store-connection-loss';

let testDb: TestDatabase;
let db: Database;
/** The test's own connection: holds locks and kills the store's connections. */
let admin: pg.Client;

beforeAll(async () => {
  testDb = await createTestDatabase();
  db = await openDatabase({ databaseUrl: `${testDb.url}?application_name=${APPLICATION}`, maxConnections: 4 });
  admin = new pg.Client({ connectionString: testDb.url });
  await admin.connect();
});

afterAll(async () => {
  await admin.end();
  await db.close();
  await testDb.drop();
});

/** Kills the store's connections (those matching `where`); resolves with how many. */
async function terminate(where = 'true'): Promise<number> {
  const { rows } = await admin.query<{ killed: boolean }>(
    `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = $1 AND ${where}`,
    [APPLICATION],
  );
  return rows.filter((r) => r.killed).length;
}

async function issueCodeOf(promise: Promise<unknown>): Promise<string | undefined> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OperationOutcomeError);
  return (err as OperationOutcomeError).outcome.issue?.[0]?.code;
}

async function expectServing(): Promise<void> {
  for (let i = 0; i < 8; i++) {
    const { rows } = await db.query<{ one: number }>(sql`SELECT 1 AS one`);
    expect(rows).toEqual([{ one: 1 }]);
  }
}

test('killed between two statements of a transaction: 503 transient, and the next calls run on new connections', async () => {
  const cut = db.transaction(async (tx) => {
    await tx.query(sql`SELECT 1`);
    expect(await terminate("state = 'idle in transaction'")).toBe(1);
    // The loss arrives as an 'error' event while the client is checked out and idle.
    await new Promise((r) => setTimeout(r, 200));
    await tx.query(sql`SELECT 1`);
  });
  expect(await issueCodeOf(cut)).toBe('transient');
  await expectServing();
  expect(await db.transaction(async (tx) => (await tx.query<{ two: number }>(sql`SELECT 2 AS two`)).rows)).toEqual([{ two: 2 }]);
});

test('killed while a statement of a transaction waits on a lock: 503 transient, and the pool heals', async () => {
  await admin.query('BEGIN');
  try {
    await admin.query('SELECT pg_advisory_xact_lock(42)');
    const waiting = db.transaction(async (tx) => {
      await tx.query(sql`SELECT pg_advisory_xact_lock(42)`);
    });
    for (let killed = 0; killed === 0; ) {
      killed = await terminate("wait_event_type = 'Lock'");
    }
    expect(await rejectionStatus(waiting)).toBe(503);
  } finally {
    await admin.query('ROLLBACK');
  }
  await expectServing();
});

test('killed while idle in the pool: the next call succeeds', async () => {
  await expectServing();
  expect(await terminate()).toBeGreaterThan(0);
  await new Promise((r) => setTimeout(r, 100));
  await expectServing();
});

test('a server that refuses connections: 503 transient for a statement and for a transaction', async () => {
  const closed = await openDatabase({ databaseUrl: 'postgres://postgres@127.0.0.1:1/none' });
  try {
    expect(await issueCodeOf(closed.query(sql`SELECT 1`))).toBe('transient');
    expect(await issueCodeOf(closed.transaction(async () => undefined))).toBe('transient');
  } finally {
    await closed.close();
  }
});
