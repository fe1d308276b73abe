/**
 * @carecircle/testing: support for the test suites (never imported by production code).
 */
export { createTestDatabase, testServerUrl, type TestDatabase } from './test-database';
