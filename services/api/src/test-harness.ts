/**
 * The API in-process for integration tests: a fresh PostgreSQL database, real Redis, the real app, and helpers to call
 * it with the admin token and to create fixtures as a token's holder (`createdAs`). Each suite gets its own database
 * and Redis key prefix. With `TEST_STORE=pglite` (or `store: 'pglite'`) the database is embedded PGlite in a fresh
 * directory instead, as `npm start` runs by default.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '@carecircle/config';
import { migrate, openDatabase } from '@carecircle/store';
import { createTestDatabase } from '@carecircle/testing';
import type { Resource } from '@medplum/fhirtypes';
import pino from 'pino';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import type { AppServices } from './app-services';
import { createApp } from './app';
import { closeServices, openServices } from './open-services';

export interface TestApp {
  services: AppServices;
  app: ReturnType<typeof createApp>;
  adminToken: string;
  /** supertest agent for the app */
  http: TestAgent;
  /** Every log line written so far (JSON strings), for checking what logs contain. */
  logLines: string[];
  close(): Promise<void>;
}

/** Which database a test app runs on: PostgreSQL (the default) or embedded PGlite. */
export type TestStore = 'postgres' | 'pglite';

/** The store named by `TEST_STORE` (`pglite` or, by default, `postgres`). */
export function testStore(): TestStore {
  return process.env.TEST_STORE === 'pglite' ? 'pglite' : 'postgres';
}

/** Starts the app on a new database; call `close()` in afterAll. */
export async function createTestApp(env: Record<string, string> = {}, store: TestStore = testStore()): Promise<TestApp> {
  const database = store === 'pglite' ? await createPgliteDirectory() : await createTestDatabase();
  const adminToken = randomBytes(32).toString('hex');
  const config = loadConfig({
    NODE_ENV: 'test',
    ...('url' in database ? { DATABASE_URL: database.url } : { DATA_DIR: database.dataDir }),
    ADMIN_TOKEN: adminToken,
    REDIS_PREFIX: `{cc-test-${randomBytes(4).toString('hex')}}`,
    BASE_URL: 'http://localhost:8080',
    // Suites read what consents refuse by the hundred; the limit's own suite (denial-flood.int.test.ts) sets it.
    DENIED_REQUESTS_PER_MINUTE: '0',
    ...env,
  });
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  const services = await openServices(config, logger);
  const app = createApp(services);
  return {
    services,
    app,
    adminToken,
    http: request(app),
    logLines,
    async close() {
      const keys = await services.redis.keys(`${config.redisPrefix}:*`);
      if (keys.length > 0) {
        await services.redis.del(...keys);
      }
      await closeServices(services);
      await database.drop();
    },
  };
}

/**
 * A fresh directory holding an embedded PGlite database, migrated, removed by `drop()`. Creating a PGlite cluster
 * (initdb in WebAssembly) takes seconds, so each test process creates and migrates one template and copies it.
 */
async function createPgliteDirectory(): Promise<{ dataDir: string; drop(): Promise<void> }> {
  pgliteTemplate ??= createPgliteTemplate();
  const template = await pgliteTemplate;
  const dataDir = await mkdtemp(join(tmpdir(), 'carecircle-pglite-'));
  await cp(template, dataDir, { recursive: true });
  return { dataDir, drop: () => rm(dataDir, { recursive: true, force: true }) };
}

let pgliteTemplate: Promise<string> | undefined;

async function createPgliteTemplate(): Promise<string> {
  const dataDir = await mkdtemp(join(tmpdir(), 'carecircle-pglite-template-'));
  const db = await openDatabase({ dataDir });
  try {
    await migrate(db);
  } finally {
    await db.close();
  }
  process.once('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  return dataDir;
}

/** Authorization header value for the admin token. */
export function bearer(token: string): string {
  return `Bearer ${token}`;
}

/** A FHIR client for one caller: GET/POST/PUT relative to /fhir/R4 with its bearer token (and any extra headers). */
export function fhirClient(t: TestApp, token: string, headers: Record<string, string> = {}) {
  const prepare = <R extends { set(name: string, value: string): R }>(request: R): R =>
    Object.entries({ Authorization: `Bearer ${token}`, ...headers }).reduce((r, [name, value]) => r.set(name, value), request);
  const path = (p: string) => `/fhir/R4/${p}`;
  return {
    get: (p: string) => prepare(t.http.get(path(p))),
    post: (p: string, body: unknown) => prepare(t.http.post(path(p))).set('Content-Type', 'application/fhir+json').send(body as object),
    put: (p: string, body: unknown) => prepare(t.http.put(path(p))).set('Content-Type', 'application/fhir+json').send(body as object),
  };
}

/** Creates `resource` through the API as the holder of `token` and returns it as stored; throws unless the answer is 201. */
export async function createdAs<T extends Resource>(t: TestApp, token: string, resource: T): Promise<T> {
  const res = await fhirClient(t, token).post(resource.resourceType, resource);
  if (res.status !== 201) {
    throw new Error(`create ${resource.resourceType} answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
  return res.body as T;
}
