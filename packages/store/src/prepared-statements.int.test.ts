import { sql } from './sql';
import { openPostgresTestStore, type TestStore } from './testing/test-store';

describe('prepared statements on PostgreSQL', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await openPostgresTestStore();
  });
  afterAll(async () => {
    await store.close();
  });

  test('a table changing shape under a prepared statement (another replica migrating) costs no request', async () => {
    await store.db.exec('CREATE TABLE prepared_probe (id int PRIMARY KEY); INSERT INTO prepared_probe VALUES (1)');
    const probe = () => store.db.query<Record<string, unknown>>(sql`SELECT * FROM prepared_probe WHERE id = ${1}`);
    // Every pooled connection prepares it.
    await Promise.all(Array.from({ length: 20 }, probe));
    await store.db.exec("ALTER TABLE prepared_probe ADD COLUMN label text NOT NULL DEFAULT 'new'");
    const after = await Promise.all(Array.from({ length: 20 }, probe));
    expect(after.map((r) => r.rows[0])).toEqual(Array.from({ length: 20 }, () => ({ id: 1, label: 'new' })));
  });
});
