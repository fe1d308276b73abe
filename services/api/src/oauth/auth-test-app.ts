/**
 * For the OAuth and admin router tests: the real app (see test-harness.ts) under a distinct base URL, so token
 * audiences and issuer checks are exercised against a value no default could satisfy by accident; and the same app
 * over the same services with a clock the test moves (code and session expiry without sleeping) or with a Redis that
 * does not answer. Each such app has a metrics registry of its own (an app registers its request metrics once).
 */
import type { AuthDeps } from '@carecircle/auth';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { createApp } from '../app';
import type { AppServices } from '../app-services';
import { createTestApp, type TestApp } from '../test-harness';

export const TEST_BASE_URL = 'http://carecircle.test';

export type AuthTestApp = TestApp;

/** Builds the app over fresh services; call `close()` in afterAll. */
export function openAuthTestApp(env: Record<string, string> = {}): Promise<AuthTestApp> {
  return createTestApp({ BASE_URL: TEST_BASE_URL, ...env });
}

/** A clock a test sets and moves: `now()` in milliseconds, starting at the real time. */
export interface TestClock {
  now(): number;
  advance(seconds: number): void;
}

export function createTestClock(): TestClock {
  let offsetMs = 0;
  return {
    now: () => Date.now() + offsetMs,
    advance(seconds) {
      offsetMs += seconds * 1000;
    },
  };
}

/** The app of `t` (same database and Redis) with auth judging every expiry by `clock`. */
export function appWithClock(t: TestApp, clock: TestClock): ReturnType<typeof createApp> {
  // A metrics registry of its own: the app registers its request metrics once per registry.
  const services: AppServices & Pick<AuthDeps, 'clock'> = { ...t.services, metrics: new Registry(), clock: clock.now };
  return createApp(services);
}

/**
 * The app of `t` (same database) with a Redis client whose server is gone, configured as the running app's is
 * (open-services.ts: commands fail after 3 reconnect attempts). Call `disconnect()` when done.
 */
export function appWithoutRedis(t: TestApp): { app: ReturnType<typeof createApp>; disconnect(): void } {
  const redis = new Redis('redis://127.0.0.1:1', { lazyConnect: true, connectTimeout: 200, maxRetriesPerRequest: 3 });
  redis.on('error', () => undefined);
  return { app: createApp({ ...t.services, redis, metrics: new Registry() }), disconnect: () => redis.disconnect() };
}
