import pg from 'pg';
import { createTestDatabase, testServerUrl } from './test-database';

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: testServerUrl() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return rowCount === 1;
  } finally {
    await client.end();
  }
}

describe('createTestDatabase', () => {
  test('creates an empty database of its own and drops it, even with connections still open', async () => {
    const database = await createTestDatabase();
    const name = new URL(database.url).pathname.slice(1);
    expect(name).toMatch(/^carecircle_test_[0-9a-f]{12}$/);
    expect(await databaseExists(name)).toBe(true);

    const open = new pg.Client({ connectionString: database.url });
    open.on('error', () => undefined);
    await open.connect();
    const { rows } = await open.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'");
    expect(rows[0]?.n).toBe(0);

    await database.drop();
    expect(await databaseExists(name)).toBe(false);
    await open.end().catch(() => undefined);
  });
});
