/**
 * The API in-process for integration tests: a fresh PostgreSQL database, real Redis, the real app, and helpers to call
 * it with the admin token. Each suite gets its own database and Redis key prefix.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { loadConfig } from '@carecircle/config';
import { createTestDatabase, type TestDatabase } from '@carecircle/testing';
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

/** Starts the app on a new database; call `close()` in afterAll. */
export async function createTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const database: TestDatabase = await createTestDatabase();
  const adminToken = randomBytes(32).toString('hex');
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: database.url,
    ADMIN_TOKEN: adminToken,
    REDIS_PREFIX: `{cc-test-${randomBytes(4).toString('hex')}}`,
    BASE_URL: 'http://localhost:8080',
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
