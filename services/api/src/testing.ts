/**
 * Test and benchmark support for the API (never imported by production code): the in-process app over a fresh
 * database, and real SMART clients for it.
 */
export { bearer, createTestApp, fhirClient, type TestApp } from './test-harness';
export { generateClientKey, logInUser, registerApp, registerSystemClient, signAssertion, type ClientKey } from './smart-test-clients';
