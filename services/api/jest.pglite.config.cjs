// The workflow suites again on embedded PGlite, the store `npm start` uses by default (TEST_STORE=pglite, set by the
// `test` script): referrals and the Task workflow, consents and their audit trail, partner writes and the consult note,
// subscriptions, transactions and REST, and the search features whose SQL goes beyond plain lookups (chains, _has,
// :text, terminology modifiers). Delivery on PGlite runs in test/e2e/readme.test.ts (a real worker).
// The other suites test what does not depend on the store, or PostgreSQL itself (its statement timeout).
const base = require('../../jest.base.cjs');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: [
    '<rootDir>/src/fhir/care-coordination.int.test.ts',
    '<rootDir>/src/fhir/consent.int.test.ts',
    '<rootDir>/src/fhir/balp-audit.int.test.ts',
    '<rootDir>/src/fhir/partner-authorship.int.test.ts',
    '<rootDir>/src/fhir/fhir-rest.int.test.ts',
    '<rootDir>/src/fhir/search-features.int.test.ts',
    '<rootDir>/src/subscriptions/subscriptions.int.test.ts',
  ],
  // Opening a PGlite cluster (WebAssembly) is slower than connecting to PostgreSQL.
  testTimeout: 120000,
};
