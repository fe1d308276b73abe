/**
 * A fresh PostgreSQL database per test suite, so suites run in parallel without sharing state. The server is the one
 * at TEST_DATABASE_URL (default: the local service, trust auth); the database is dropped when the suite ends.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const DEFAULT_SERVER_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  /** Connection string of the new, empty database. */
  url: string;
  /** Drops the database (closing any connections still open to it). */
  drop(): Promise<void>;
}

/** The server test databases are created on: TEST_DATABASE_URL, else the local service. */
export function testServerUrl(env: Record<string, string | undefined> = process.env): string {
  return env.TEST_DATABASE_URL ?? DEFAULT_SERVER_URL;
}

/** Creates an empty database named `carecircle_test_<random>`. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = testServerUrl();
  const name = `carecircle_test_${randomBytes(6).toString('hex')}`;
  await withServerClient(serverUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await withServerClient(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

async function withServerClient<T>(serverUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
