import { createTestDatabase, type TestDatabase } from '@carecircle/testing';
import { openDatabase, type Database } from './database';
import { listMigrations, migrate } from './migrate';
import { sql } from './sql';

describe('migrate (PostgreSQL)', () => {
  let testDb: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    testDb = await createTestDatabase();
    db = await openDatabase({ databaseUrl: testDb.url });
  });
  afterAll(async () => {
    await db.close();
    await testDb.drop();
  });

  test('applies every migration once, in order; a second run applies nothing', async () => {
    expect(await migrate(db)).toEqual(listMigrations());
    const { rows } = await db.query<{ name: string }>(sql`SELECT name FROM schema_migration ORDER BY name`);
    expect(rows.map((r) => r.name)).toEqual(listMigrations());
    expect(await migrate(db)).toEqual([]);
  });

  test('concurrent runs (replicas starting together) apply each migration once', async () => {
    const other = await createTestDatabase();
    const a = await openDatabase({ databaseUrl: other.url });
    const b = await openDatabase({ databaseUrl: other.url });
    try {
      const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
      expect([...ra, ...rb].sort()).toEqual(listMigrations());
    } finally {
      await a.close();
      await b.close();
      await other.drop();
    }
  });
});
