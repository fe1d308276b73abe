import type { Organization } from '@medplum/fhirtypes';
import { fullAccess } from './access-policy';
import { createRepository } from './resource-repository';
import { sql } from './sql';
import { analyzeChangedTables } from './table-statistics';
import { openPgliteTestStore, openPostgresTestStore, type TestStore } from './testing/test-store';

describe.each([
  ['PostgreSQL', openPostgresTestStore],
  ['PGlite', openPgliteTestStore],
])('planner statistics on %s', (_name, open) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store.close();
  });

  test('tables never analysed, or changed past the threshold since, are analysed; the rest are left alone', async () => {
    // Fresh from the migrations, nothing has statistics: everything is analysed once.
    expect(await analyzeChangedTables(store.db)).toEqual(expect.arrayContaining(['resource_version', 'search_string']));
    expect(await analyzeChangedTables(store.db)).toEqual([]);

    const repository = createRepository(store.db, fullAccess);
    for (let i = 0; i < 300; i++) {
      await repository.create<Organization>({ resourceType: 'Organization', name: `Clinic ${i}` });
    }
    // Backends report their changes to the statistics system up to a second or so after they commit.
    let analysed: string[] = [];
    for (let attempt = 0; attempt < 50 && !analysed.includes('resource_version'); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      analysed = await analyzeChangedTables(store.db);
    }
    expect(analysed).toContain('resource_version');
    const { rows } = await store.db.query<{ tuples: number }>(
      sql`SELECT reltuples::int AS tuples FROM pg_class WHERE relname = 'resource_version' AND relnamespace = current_schema()::regnamespace`,
    );
    expect(rows[0]?.tuples).toBeGreaterThanOrEqual(300);
  });
});
