/**
 * @carecircle/testing: support for the test suites (never imported by production code).
 */
export {
  buildObservation,
  buildOrganization,
  buildPatient,
  buildPractitioner,
  buildTask,
  minimalObservation,
  minimalOrganization,
  minimalPatient,
  minimalPractitioner,
} from './fixtures';
export { refusalOf, rejectionOf, rejectionOutcome, rejectionStatus, thrownStatus, type Refusal } from './outcome-checks';
export { freePort } from './free-port';
export { startPrivateRedis, type PrivateRedis } from './private-redis';
export { createTestDatabase, testServerUrl, type TestDatabase } from './test-database';
