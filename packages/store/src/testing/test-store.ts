/**
 * Test plumbing for the store's integration suites: a fresh migrated PostgreSQL database per suite (or a PGlite one in
 * a temp dir), and a helper that captures the OperationOutcome status a promise rejects with.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '@carecircle/testing';
import { OperationOutcomeError } from '@medplum/core';
import { outcomeStatus } from '@carecircle/fhir';
import { openDatabase, type Database } from '../database';
import { migrate } from '../migrate';

export interface TestStore {
  db: Database;
  close(): Promise<void>;
}

/** A migrated PostgreSQL database of its own; `close()` closes and drops it. */
export async function openPostgresTestStore(maxConnections = 10): Promise<TestStore> {
  const testDb = await createTestDatabase();
  const db = await openDatabase({ databaseUrl: testDb.url, maxConnections });
  await migrate(db);
  return {
    db,
    async close() {
      await db.close();
      await testDb.drop();
    },
  };
}

/** A migrated PGlite database in a temp directory; `close()` closes and removes it. */
export async function openPgliteTestStore(): Promise<TestStore> {
  const dataDir = mkdtempSync(join(tmpdir(), 'carecircle-store-'));
  const db = await openDatabase({ dataDir });
  await migrate(db);
  return {
    db,
    async close() {
      await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The HTTP status of the OperationOutcomeError `promise` rejects with; fails the test if it resolves or throws else. */
export async function statusOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return outcomeStatus(err.outcome);
    }
    throw err;
  }
  throw new Error('expected an OperationOutcomeError, but the call succeeded');
}

/** The OperationOutcomeError `promise` rejects with. */
export async function outcomeErrorOf(promise: Promise<unknown>): Promise<OperationOutcomeError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return err;
    }
    throw err;
  }
  throw new Error('expected an OperationOutcomeError, but the call succeeded');
}
