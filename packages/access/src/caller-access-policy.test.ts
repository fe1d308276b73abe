import type { Resource } from '@medplum/fhirtypes';
import type { Interaction, Queryable } from '@carecircle/store';
import { thrownStatus } from '@carecircle/testing';
import type { Caller } from '@carecircle/auth';
import { createAccessPolicy } from './caller-access-policy';

// Decisions that need no database: a lookup that must not be reached.
/** Client-write decisions need no lookups; a transaction that fails loudly proves it. */
const noLookups: Queryable = {
  query: () => Promise.reject(new Error('no database in unit tests')),
};

const system: Caller = { kind: 'system', clientId: 'c1', organization: 'Organization/a', scope: 'system/Patient.rs system/Observation.cruds' };
const practitioner: Caller = {
  kind: 'practitioner',
  clientId: 'app',
  userId: 'u1',
  fhirUser: 'Practitioner/pr1',
  organization: 'Organization/a',
  scope: 'user/*.rs',
};
const client: Caller = { kind: 'patient', clientId: 'app', userId: 'u2', fhirUser: 'Patient/p1', scope: 'patient/*.rs patient/Consent.cu' };

describe('scopes, per interaction', () => {
  test.each<[string, Caller, Interaction, string, number | 'ok']>([
    ['system reads Patient', system, 'read', 'Patient', 'ok'],
    ['system searches Patient', system, 'search', 'Patient', 'ok'],
    ['system may not update Patient', system, 'update', 'Patient', 403],
    ['system creates Observation', system, 'create', 'Observation', 'ok'],
    ['system may not read Consent', system, 'read', 'Consent', 403],
    ['practitioner reads anything', practitioner, 'history', 'Consent', 'ok'],
    ['practitioner may not delete', practitioner, 'delete', 'Observation', 403],
    ['client searches own data', client, 'search', 'Observation', 'ok'],
    ['client creates Consent', client, 'create', 'Consent', 'ok'],
    ['client may not create Observation', client, 'create', 'Observation', 403],
    ['admin may do anything', { kind: 'admin' }, 'delete', 'Patient', 'ok'],
  ])('%s', (_name, caller, interaction, type, expected) => {
    const policy = createAccessPolicy(caller);
    expect(thrownStatus(() => policy.assertInteraction(interaction, type))).toBe(expected);
  });

  test('a client only uses patient/ scopes: a user/ scope grants a client nothing', () => {
    const crossedClient = createAccessPolicy({ ...client, scope: 'user/*.cruds system/*.cruds' });
    expect(thrownStatus(() => crossedClient.assertInteraction('read', 'Observation'))).toBe(403);
  });

  test('a system token only uses system/ scopes, a practitioner only user/ scopes', () => {
    const crossed = createAccessPolicy({ ...system, scope: 'user/*.cruds patient/*.cruds' });
    expect(thrownStatus(() => crossed.assertInteraction('read', 'Patient'))).toBe(403);
    const crossedUser = createAccessPolicy({ ...practitioner, scope: 'system/*.cruds' });
    expect(thrownStatus(() => crossedUser.assertInteraction('read', 'Patient'))).toBe(403);
  });
});

describe('visibility', () => {
  test.each<[string, Caller, string, 'all' | 'limited']>([
    ['admin sees all patients', { kind: 'admin' }, 'Patient', 'all'],
    ['practice sees all organizations', system, 'Organization', 'all'],
    ['practice sees only custodied patients', system, 'Patient', 'limited'],
    ['practice sees only custodied compartments', practitioner, 'Observation', 'limited'],
    ['client sees all practitioners', client, 'Practitioner', 'all'],
    ['client sees only the own compartment', client, 'Observation', 'limited'],
    ['unknown types are limited (fail closed)', system, 'Subscription', 'limited'],
  ])('%s', (_name, caller, type, expected) => {
    const condition = createAccessPolicy(caller).visibility(type);
    expect(condition === undefined ? 'all' : 'limited').toBe(expected);
  });

  test('values are parameters, never SQL text', () => {
    const hostile: Caller = { ...client, fhirUser: "Patient/x' OR true --" };
    const rendered = createAccessPolicy(hostile).visibility('Observation')?.render();
    expect(rendered?.text).not.toContain("x'");
    expect(rendered?.values).toContain("Patient/x' OR true --");
  });
});

describe('client writes', () => {
  const policy = createAccessPolicy(client);
  const ownConsent: Resource = { resourceType: 'Consent', status: 'active', scope: {}, category: [], patient: { reference: 'Patient/p1' } } as Resource;
  const otherConsent: Resource = { ...ownConsent, patient: { reference: 'Patient/p2' } } as Resource;
  const observation: Resource = { resourceType: 'Observation', status: 'final', code: {}, subject: { reference: 'Patient/p1' } };

  test.each<[string, 'create' | 'update' | 'delete', Resource | undefined, Resource | undefined, number | 'ok']>([
    ['creates the own Consent', 'create', ownConsent, undefined, 'ok'],
    ['updates (revokes) the own Consent', 'update', { ...ownConsent, status: 'inactive' } as Resource, ownConsent, 'ok'],
    ['may not create a Consent for another client', 'create', otherConsent, undefined, 403],
    ['may not take over another client\'s Consent', 'update', ownConsent, otherConsent, 404],
    ['may not delete a Consent', 'delete', undefined, ownConsent, 403],
    ['may not write an Observation', 'create', observation, undefined, 403],
  ])('%s', (_name, interaction, next, current, expected) => {
    expect(thrownStatus(() => policy.assertWrite(interaction, next, current, noLookups))).toBe(expected);
  });
});
