/**
 * For integration tests only: a fresh migrated PostgreSQL database, Redis under a unique key prefix, and a config,
 * so each suite runs against real services without sharing state. Test support beside the package's suites (testing/,
 * as in store and care), never exported from the package.
 */
import { randomBytes } from 'node:crypto';
import type { Config } from '@carecircle/config';
import { migrate, openDatabase, type Database } from '@carecircle/store';
import { createTestDatabase, type TestDatabase } from '@carecircle/testing';
import { Redis } from 'ioredis';
import type { AuthDeps } from '../auth-deps';

export interface AuthTestEnv extends AuthDeps {
  readonly db: Database;
  readonly redis: Redis;
  /** The database's URL, to open a second handle (another replica). */
  readonly databaseUrl: string;
  close(): Promise<void>;
}

export const TEST_BASE_URL = 'http://carecircle.test';

/** Opens a fresh environment; call `close()` in afterAll. */
export async function openAuthTestEnv(): Promise<AuthTestEnv> {
  const testDb: TestDatabase = await createTestDatabase();
  const db = await openDatabase({ databaseUrl: testDb.url, maxConnections: 4 });
  await migrate(db);
  const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: false, maxRetriesPerRequest: 1 });
  const redisPrefix = `{test-${randomBytes(6).toString('hex')}}`;
  const config: AuthDeps['config'] = {
    baseUrl: TEST_BASE_URL,
    fhirBaseUrl: `${TEST_BASE_URL}/fhir/R4`,
    adminToken: randomBytes(32).toString('base64url'),
    redisPrefix,
    env: 'test',
  } satisfies Pick<Config, 'baseUrl' | 'fhirBaseUrl' | 'adminToken' | 'redisPrefix' | 'env'>;
  return {
    config,
    db,
    redis,
    databaseUrl: testDb.url,
    async close() {
      const keys = await redis.keys(`${redisPrefix}:*`);
      if (keys.length > 0) {
        await redis.del(...keys);
      }
      redis.disconnect();
      await db.close();
      await testDb.drop();
    },
  };
}
