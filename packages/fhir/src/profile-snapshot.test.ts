import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';
import { generateSnapshot } from './profile-snapshot';

const BASE_URL = 'http://hl7.org/fhir/StructureDefinition/Thing';
const PROFILE_URL = 'https://carecircle.dev/fhir/StructureDefinition/thing-profile';

function baseDefinition(): StructureDefinition {
  return {
    resourceType: 'StructureDefinition',
    url: BASE_URL,
    name: 'Thing',
    status: 'active',
    kind: 'resource',
    abstract: false,
    type: 'Thing',
    snapshot: {
      element: [
        { id: 'Thing', path: 'Thing', min: 0, max: '*' },
        {
          id: 'Thing.status',
          path: 'Thing.status',
          min: 1,
          max: '1',
          type: [{ code: 'code' }],
          binding: { strength: 'required', valueSet: 'http://hl7.org/fhir/ValueSet/thing-status|4.0.1' },
        },
        {
          id: 'Thing.subject',
          path: 'Thing.subject',
          min: 0,
          max: '*',
          type: [{ code: 'Reference', targetProfile: [sd('Patient'), sd('Group'), sd('Device')] }],
        },
        {
          id: 'Thing.code',
          path: 'Thing.code',
          min: 0,
          max: '*',
          type: [{ code: 'CodeableConcept' }],
          constraint: [{ key: 'ele-1', severity: 'error', human: 'Has content', expression: 'hasValue()' }],
        },
      ],
    },
  };
}

function sd(type: string): string {
  return `http://hl7.org/fhir/StructureDefinition/${type}`;
}

function profileWith(...element: ElementDefinition[]): StructureDefinition {
  return {
    resourceType: 'StructureDefinition',
    url: PROFILE_URL,
    name: 'ThingProfile',
    status: 'active',
    kind: 'resource',
    abstract: false,
    type: 'Thing',
    baseDefinition: BASE_URL,
    derivation: 'constraint',
    differential: { element },
  };
}

function snapshotElement(profile: StructureDefinition, id: string): ElementDefinition | undefined {
  return generateSnapshot(profile, baseDefinition()).snapshot?.element.find((e) => e.id === id);
}

describe('generateSnapshot', () => {
  test('copies every base element, in order, when the differential is empty', () => {
    const base = baseDefinition();
    const result = generateSnapshot(profileWith(), base);
    expect(result.snapshot?.element).toEqual(base.snapshot?.element);
    expect(result.snapshot?.element[0]).not.toBe(base.snapshot?.element[0]);
  });

  test('keeps the profile metadata and differential', () => {
    const profile = profileWith({ id: 'Thing.code', path: 'Thing.code', min: 1 });
    const result = generateSnapshot(profile, baseDefinition());
    expect(result).toMatchObject({ url: PROFILE_URL, differential: profile.differential });
  });

  test('does not modify the base definition', () => {
    const base = baseDefinition();
    const before = structuredClone(base);
    generateSnapshot(profileWith({ id: 'Thing.code', path: 'Thing.code', min: 1, mustSupport: true }), base);
    expect(base).toEqual(before);
  });

  test.each<[string, ElementDefinition, Partial<ElementDefinition>]>([
    ['tightens min', { id: 'Thing.code', path: 'Thing.code', min: 1 }, { min: 1, max: '*' }],
    ['tightens max', { id: 'Thing.subject', path: 'Thing.subject', max: '1' }, { min: 0, max: '1' }],
    ['prohibits with max 0', { id: 'Thing.code', path: 'Thing.code', max: '0' }, { min: 0, max: '0' }],
    ['sets mustSupport', { id: 'Thing.code', path: 'Thing.code', mustSupport: true }, { mustSupport: true }],
    ['sets a fixed value', { id: 'Thing.status', path: 'Thing.status', fixedCode: 'done' }, { fixedCode: 'done' }],
    [
      'sets a pattern',
      { id: 'Thing.code', path: 'Thing.code', patternCodeableConcept: { coding: [{ system: 's', code: 'c' }] } },
      { patternCodeableConcept: { coding: [{ system: 's', code: 'c' }] } },
    ],
    [
      'replaces the binding',
      { id: 'Thing.code', path: 'Thing.code', binding: { strength: 'required', valueSet: 'https://x/ValueSet/v' } },
      { binding: { strength: 'required', valueSet: 'https://x/ValueSet/v' } },
    ],
    [
      'narrows reference targets',
      { id: 'Thing.subject', path: 'Thing.subject', type: [{ code: 'Reference', targetProfile: [sd('Patient')] }] },
      { type: [{ code: 'Reference', targetProfile: [sd('Patient')] }] },
    ],
    ['overrides documentation', { id: 'Thing.code', path: 'Thing.code', short: 'Why' }, { short: 'Why' }],
  ])('%s', (_name, differential, expected) => {
    expect(snapshotElement(profileWith(differential), differential.id ?? '')).toMatchObject(expected);
  });

  test('a fixed value replaces a pattern the base had', () => {
    const base = baseDefinition();
    const status = base.snapshot?.element[1];
    if (status) {
      status.patternCode = 'old';
    }
    const result = generateSnapshot(profileWith({ id: 'Thing.status', path: 'Thing.status', fixedCode: 'done' }), base);
    const element = result.snapshot?.element[1];
    expect(element?.fixedCode).toBe('done');
    expect(element?.patternCode).toBeUndefined();
  });

  test('appends constraints after the base ones, with the profile as source', () => {
    const constraint = { key: 'thg-1', severity: 'error' as const, human: 'Has a coding', expression: 'coding.exists()' };
    const element = snapshotElement(profileWith({ id: 'Thing.code', path: 'Thing.code', constraint: [constraint] }), 'Thing.code');
    expect(element?.constraint?.map((c) => c.key)).toEqual(['ele-1', 'thg-1']);
    expect(element?.constraint?.[1]).toEqual({ ...constraint, source: PROFILE_URL });
  });

  test.each<[string, StructureDefinition, RegExp]>([
    ['an unknown element', profileWith({ id: 'Thing.nope', path: 'Thing.nope', min: 1 }), /Thing.nope is not an element/],
    ['a looser min', profileWith({ id: 'Thing.status', path: 'Thing.status', min: 0 }), /not within the base 1..1/],
    ['a looser max', profileWith({ id: 'Thing.status', path: 'Thing.status', max: '*' }), /not within the base/],
    ['min above max', profileWith({ id: 'Thing.code', path: 'Thing.code', min: 2, max: '1' }), /not within the base/],
    ['a malformed max', profileWith({ id: 'Thing.code', path: 'Thing.code', max: 'many' }), /Invalid max/],
    ['a path that differs from the id', profileWith({ id: 'Thing.code', path: 'Thing.status' }), /does not match/],
    ['an element twice', profileWith({ id: 'Thing.code', path: 'Thing.code' }, { id: 'Thing.code', path: 'Thing.code' }), /twice/],
    ['slicing', profileWith({ id: 'Thing.code', path: 'Thing.code', slicing: { rules: 'open' } }), /"slicing" is not supported/],
    ['a slice', profileWith({ id: 'Thing.code:a', path: 'Thing.code', sliceName: 'a' }), /slicing is not supported/],
    [
      'a new reference target',
      profileWith({ id: 'Thing.subject', path: 'Thing.subject', type: [{ code: 'Reference', targetProfile: [sd('Basic')] }] }),
      /Basic is not allowed/,
    ],
    ['a new type', profileWith({ id: 'Thing.code', path: 'Thing.code', type: [{ code: 'string' }] }), /type string is not allowed/],
    ['a fixed value of another type', profileWith({ id: 'Thing.code', path: 'Thing.code', fixedCode: 'x' }), /does not match the element's type/],
    [
      'two fixed values',
      profileWith({ id: 'Thing.status', path: 'Thing.status', fixedCode: 'x', patternCode: 'y' }),
      /at most one/,
    ],
    [
      'a constraint reusing a key',
      profileWith({ id: 'Thing.code', path: 'Thing.code', constraint: [{ key: 'ele-1', severity: 'error', human: 'h', expression: 'true' }] }),
      /needs a new key/,
    ],
    [
      'a constraint without an expression',
      profileWith({ id: 'Thing.code', path: 'Thing.code', constraint: [{ key: 'thg-1', severity: 'error', human: 'h' }] }),
      /needs a new key, an expression/,
    ],
    ['a specialization', { ...profileWith(), derivation: 'specialization' }, /only derivation "constraint"/],
    ['another base', { ...profileWith(), baseDefinition: sd('Other') }, /base must be/],
  ])('refuses %s', (_name, profile, message) => {
    expect(() => generateSnapshot(profile, baseDefinition())).toThrow(message);
  });

  test('refuses a base without a snapshot', () => {
    const base = { ...baseDefinition(), snapshot: undefined };
    expect(() => generateSnapshot(profileWith(), base)).toThrow(/has no snapshot/);
  });
});
