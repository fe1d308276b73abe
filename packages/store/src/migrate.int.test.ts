import type { Observation } from '@medplum/fhirtypes';
import { createTestDatabase, minimalObservation, rejectionStatus, type TestDatabase } from '@carecircle/testing';
import { fullAccess } from './access-policy';
import { openDatabase, type Database } from './database';
import { listMigrations, migrate } from './migrate';
import { createRepository } from './resource-repository';
import { sql, type Sql } from './sql';
import { insertNotesDescribedBy } from './tables/note-records';

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

  test('the search index is written without a foreign-key check per row (migration 0017)', async () => {
    const { rows } = await db.query<{ table: string }>(sql`
      SELECT conrelid::regclass::text AS table FROM pg_constraint
      WHERE contype = 'f' AND conrelid::regclass::text LIKE 'search\_%'`);
    expect(rows).toEqual([]);
    const { rows: indexTables } = await db.query<{ n: number }>(sql`
      SELECT count(*)::int AS n FROM pg_class WHERE relkind = 'r' AND relname LIKE 'search\_%' AND relname <> 'search_reindex'
        AND relname <> 'search_index_version'`);
    expect(indexTables[0]?.n).toBe(6);
  });

  test('the note-record rule finds note versions through their own index, also as a prepared statement (migration 0018)', async () => {
    const insert = insertNotesDescribedBy({ resourceType: 'AuditEvent', id: 'a1' }, [{ resourceType: 'Observation', id: 'o1' }], [], 'https://example.org/stamp');
    const plan = await db.transaction(async (tx) => {
      // Only the partial index, or no index at all: whether its predicate is provable from the statement is the question.
      await tx.exec('SET LOCAL enable_seqscan = off');
      const { rows } = await tx.query<{ 'QUERY PLAN': unknown }>(sql`EXPLAIN (FORMAT JSON) ${insert}`);
      return JSON.stringify(rows[0]?.['QUERY PLAN']);
    });
    expect(plan).toContain('"Index Name":"resource_version_note_labelled"');
  });

  test('a search by a reference naming no resource here finds it through the partial raw-reference index (migration 0019)', async () => {
    const statements: Sql[] = [];
    const recording: Database = { ...db, query: (statement) => (statements.push(statement), db.query(statement)) };
    const repository = createRepository(recording, fullAccess);
    const elsewhere = 'https://other.example/fhir/Patient/9';
    const written = await repository.create<Observation>({ ...minimalObservation('placeholder', '72133-2', '2026-11-01'), subject: { reference: elsewhere } });
    await repository.create(minimalObservation('9', '72133-2', '2026-11-01'));

    statements.length = 0;
    const found = await repository.search('Observation', new URLSearchParams({ subject: elsewhere }));
    expect(found.matches.map((r) => r.id)).toEqual([written.resource.id]);
    const search = statements.find((statement) => statement.render().text.includes('search_reference'));
    expect(search).toBeDefined();
    const plan = await db.transaction(async (tx) => {
      await tx.exec('SET LOCAL enable_seqscan = off');
      const { rows } = await tx.query<{ 'QUERY PLAN': unknown }>(sql`EXPLAIN (FORMAT JSON) ${search as Sql}`);
      return JSON.stringify(rows[0]?.['QUERY PLAN']);
    });
    expect(plan).toContain('"Index Name":"search_reference_raw"');
    // A row naming a resource here is not in that index, and a search naming it finds it through the other one.
    const { rows } = await db.query<{ partial: boolean }>(sql`
      SELECT indpred IS NOT NULL AS partial FROM pg_index WHERE indexrelid = 'search_reference_raw'::regclass`);
    expect(rows[0]?.partial).toBe(true);
    expect((await repository.search('Observation', new URLSearchParams({ subject: 'Patient/9' }))).matches).toHaveLength(1);
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

  test('a statement timeout stops slow statements but not migrations waiting for another replica', async () => {
    const other = await createTestDatabase();
    const timed = await openDatabase({ databaseUrl: other.url, statementTimeoutMs: 200 });
    const replica = await openDatabase({ databaseUrl: other.url });
    try {
      // Cancelled (SQLSTATE 57014), it is a 503 OperationOutcome, not a raw driver error.
      expect(await rejectionStatus(timed.query(sql`SELECT pg_sleep(1)`))).toBe(503);
      let releaseLock = (): void => undefined;
      const lockHeld = new Promise<void>((resolve) => {
        void replica.transaction(async (tx) => {
          await tx.query(sql`SELECT pg_advisory_xact_lock(727274001)`);
          resolve();
          await new Promise<void>((release) => (releaseLock = release));
        });
      });
      await lockHeld;
      const migrating = migrate(timed);
      await new Promise((resolve) => setTimeout(resolve, 600));
      releaseLock();
      expect(await migrating).toEqual(listMigrations());
      // The pool's own statements keep their limit afterwards.
      expect(await rejectionStatus(timed.query(sql`SELECT pg_sleep(1)`))).toBe(503);
    } finally {
      await timed.close();
      await replica.close();
      await other.drop();
    }
  });
});
