/**
 * Test plumbing for the store's integration suites: a fresh migrated PostgreSQL database per suite (or a PGlite one in
 * a temp dir). The status a refused call comes to, and the fixtures, are @carecircle/testing's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '@carecircle/testing';
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
