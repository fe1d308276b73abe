/**
 * Compartments read as one string (compartmentList) come back as the array stored, on PostgreSQL and PGlite: none,
 * one, several, with every character an id may hold.
 */
import { compartmentList, parseCompartmentList } from './compartments';
import { raw, sql } from './sql';
import { openPgliteTestStore, openPostgresTestStore, type TestStore } from './testing/test-store';

describe.each([
  ['PostgreSQL', openPostgresTestStore],
  ['PGlite', openPgliteTestStore],
])('compartment lists on %s', (_name, open) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store.close();
  });

  test.each([[[]], [['Patient/a']], [['Patient/1-a.B', 'Patient/Z.9-x', 'Patient/' + 'a'.repeat(64)]]])('%j', async (compartments) => {
    const { rows } = await store.db.query<{ list: string }>(
      sql`SELECT ${compartmentList(raw('rv'))} AS list FROM (SELECT ${compartments}::text[] AS compartments) rv`,
    );
    expect(parseCompartmentList(rows[0]!.list)).toEqual(compartments);
  });
});
