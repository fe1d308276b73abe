/**
 * @carecircle/testing: support for the test suites (never imported by production code).
 */
export { buildObservation, buildOrganization, buildPatient, buildPractitioner, buildTask } from './fixtures';
export { freePort } from './free-port';
export { startPrivateRedis, type PrivateRedis } from './private-redis';
export { createTestDatabase, testServerUrl, type TestDatabase } from './test-database';
