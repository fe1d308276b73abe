import { formatScopes, intersectScopes, missingScopeText, parseScopes, permissionFor, scopesPermit } from './scopes';

describe('parseScopes', () => {
  test.each([
    ['patient/Observation.rs', 'patient/Observation.rs'],
    ['user/Patient.cruds', 'user/Patient.cruds'],
    ['system/*.rs', 'system/*.rs'],
    ['patient/Observation.read', 'patient/Observation.rs'],
    ['user/Observation.write', 'user/Observation.cud'],
    ['system/Patient.*', 'system/Patient.cruds'],
    ['user/Patient.r user/Patient.s', 'user/Patient.rs'],
    ['launch/patient openid fhirUser offline_access patient/Patient.r', 'openid fhirUser launch/patient offline_access patient/Patient.r'],
    // not in cruds order, empty, unknown context, lower-case type, granular query, junk: dropped
    ['user/Patient.sr', ''],
    ['user/Patient.', ''],
    ['group/Patient.rs', ''],
    ['user/patient.rs', ''],
    ['patient/Observation.rs?category=laboratory', ''],
    ['admin everything', ''],
  ])('%s -> %s', (input, canonical) => {
    expect(formatScopes(parseScopes(input))).toBe(canonical);
  });
});

describe('intersectScopes', () => {
  const system = { contexts: ['system'] as const, identity: [] };
  test.each([
    ['asked within registered', 'system/Patient.rs', 'system/Patient.cruds', 'system/Patient.rs'],
    ['asked more than registered: only the intersection', 'system/Patient.cruds', 'system/Patient.rs', 'system/Patient.rs'],
    ['wildcard asked: the registered types', 'system/*.rs', 'system/Patient.r system/Observation.cruds', 'system/Patient.r system/Observation.rs'],
    ['wildcard registered covers a type', 'system/Observation.read', 'system/*.rs', 'system/Observation.rs'],
    ['another type: nothing', 'system/Consent.r', 'system/Patient.cruds', ''],
    ['another context: nothing', 'user/Patient.r', 'system/Patient.cruds', ''],
    ['identity scopes not allowed for systems', 'offline_access system/Patient.r', 'system/Patient.r', 'system/Patient.r'],
  ])('%s', (_name, asked, registered, granted) => {
    expect(formatScopes(intersectScopes(parseScopes(asked), parseScopes(registered), system))).toBe(granted);
  });

  test('identity scopes allowed by the caller kind pass without registration', () => {
    const granted = intersectScopes(parseScopes('launch/patient offline_access openid patient/*.rs'), parseScopes('patient/*.cruds'), {
      contexts: ['patient'],
      identity: ['launch/patient', 'offline_access'],
    });
    expect(formatScopes(granted)).toBe('launch/patient offline_access patient/*.rs');
  });
});

describe('scopesPermit', () => {
  const scopes = parseScopes('user/Patient.rs user/Observation.c system/*.r');
  test.each([
    ['read', 'Patient', ['user'], true],
    ['search', 'Patient', ['user'], true],
    ['history', 'Patient', ['user'], true],
    ['update', 'Patient', ['user'], false],
    ['create', 'Observation', ['user'], true],
    ['read', 'Observation', ['user'], false],
    ['read', 'Consent', ['system'], true],
    ['search', 'Consent', ['system'], false],
    ['read', 'Consent', ['user'], false],
    ['read', '*', ['user'], false],
    ['read', '*', ['system'], true],
  ] as const)('%s %s in %j -> %s', (interaction, type, contexts, allowed) => {
    expect(scopesPermit(scopes, contexts, permissionFor(interaction), type)).toBe(allowed);
  });
});

describe('missingScopeText', () => {
  test('names the interaction, the type and the scopes that would allow it', () => {
    expect(missingScopeText('create', 'Subscription', ['system'])).toMatch(
      /^This token's scopes do not allow create on Subscription: it needs system\/Subscription\.c \(or system\/\*\.c\)\./,
    );
    expect(missingScopeText('history', 'Patient', ['patient'])).toContain('it needs patient/Patient.r (or patient/*.r)');
  });

  test('a search across all types needs a wildcard scope', () => {
    expect(missingScopeText('search', '*', ['user'])).toContain('do not allow search on all resource types: it needs user/*.s.');
  });
});
