/**
 * For the OAuth and admin router tests: the real app (see test-harness.ts) under a distinct base URL, so token
 * audiences and issuer checks are exercised against a value no default could satisfy by accident.
 */
import { createTestApp, type TestApp } from '../test-harness';

export const TEST_BASE_URL = 'http://carecircle.test';

export type AuthTestApp = TestApp;

/** Builds the app over fresh services; call `close()` in afterAll. */
export function openAuthTestApp(): Promise<AuthTestApp> {
  return createTestApp({ BASE_URL: TEST_BASE_URL });
}
