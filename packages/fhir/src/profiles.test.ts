import type { CodeSystem, ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';
import { SHARE_CATEGORY_SYSTEM, SHARE_CATEGORY_VALUE_SET, SHARING_CONSENT_PROFILE } from './canonical-urls';
import {
  findConformanceResourceByUrl,
  getConformanceResource,
  getConformanceResources,
  getShareCategoryCodes,
  loadFhirDefinitions,
} from './profiles';

/** The share categories as DESIGN.md lists them (the contract). */
const DESIGN_SHARE_CATEGORIES = [
  'demographics',
  'presenting-concerns',
  'treatment-goals',
  'care-plan',
  'progress',
  'trauma-history',
  'mental-health',
  'sexual-history',
  'medications',
  'relationship-context',
  'psychotherapy-notes',
];

function sharingConsentProfile(): StructureDefinition {
  const profile = getConformanceResource('StructureDefinition', 'sharing-consent');
  if (profile?.resourceType !== 'StructureDefinition') {
    throw new Error('sharing-consent profile not loaded');
  }
  return profile;
}

function snapshotElement(id: string): ElementDefinition | undefined {
  return sharingConsentProfile().snapshot?.element.find((e) => e.id === id);
}

describe('conformance resources', () => {
  test('serves every resource of fhir-profiles/', () => {
    const served = getConformanceResources().map((r) => `${r.resourceType}/${r.id} ${r.url}`);
    const ours = (type: string, ids: string[]) => ids.map((id) => `${type}/${id} https://carecircle.dev/fhir/${type}/${id}`);
    expect(served.sort()).toEqual([
      ...ours('CodeSystem', ['referral-follow-up']),
      `CodeSystem/share-category ${SHARE_CATEGORY_SYSTEM}`,
      ...ours('CodeSystem', ['update-event', 'update-section', 'update-state']),
      ...ours('OperationDefinition', [
        'Composition-approve',
        'Composition-decline',
        'Composition-submit',
        'Composition-withdraw',
        'Patient-disclosure-check',
        'Patient-summary',
        'Subscription-events',
        'Subscription-status',
        'Task-referral-metrics',
      ]),
      ...ours('SearchParameter', ['Composition-recipient', 'Composition-update-state', 'Task-ack-due', 'Task-follow-up']),
      // IHE BALP's, under its own canonical URLs.
      ...['IHE.BasicAudit.OAUTHaccessTokenUse.Minimal', 'IHE.BasicAudit.PatientQuery', 'IHE.BasicAudit.PatientRead'].map(
        (id) => `StructureDefinition/${id} https://profiles.ihe.net/ITI/BALP/StructureDefinition/${id}`,
      ),
      ...ours('StructureDefinition', ['business-hours', 'coordinated-update', 'referral-completion-due']),
      `StructureDefinition/sharing-consent ${SHARING_CONSENT_PROFILE}`,
      ...ours('StructureDefinition', ['update-approval', 'update-recipient', 'update-state', 'update-submitted']),
      `ValueSet/share-category ${SHARE_CATEGORY_VALUE_SET}`,
    ]);
  });

  test('reads by type and id, and answers undefined for anything else', () => {
    expect(getConformanceResource('ValueSet', 'share-category')?.url).toBe(SHARE_CATEGORY_VALUE_SET);
    expect(getConformanceResource('ValueSet', 'sharing-consent')).toBeUndefined();
    expect(getConformanceResource('Patient', 'share-category')).toBeUndefined();
  });

  test('finds by canonical url, with or without our version', () => {
    expect(findConformanceResourceByUrl(SHARE_CATEGORY_SYSTEM)?.id).toBe('share-category');
    expect(findConformanceResourceByUrl(`${SHARE_CATEGORY_SYSTEM}|0.1.0`)?.id).toBe('share-category');
    expect(findConformanceResourceByUrl(`${SHARE_CATEGORY_SYSTEM}|2.0.0`)).toBeUndefined();
    expect(findConformanceResourceByUrl('http://hl7.org/fhir/ValueSet/administrative-gender')).toBeUndefined();
  });

  test('resources are frozen: one request cannot change what the next one is served', () => {
    const [first] = getConformanceResources();
    expect(Object.isFrozen(first)).toBe(true);
    expect(() => {
      (first as { status?: string }).status = 'retired';
    }).toThrow(TypeError);
  });

  test('loading again is a no-op that keeps the same resources', () => {
    const before = getConformanceResources();
    loadFhirDefinitions();
    expect(getConformanceResources()).toEqual(before);
    expect(getConformanceResources()[0]).toBe(before[0]);
  });
});

describe('share-category CodeSystem', () => {
  test('holds exactly the categories of DESIGN.md, in order', () => {
    expect(getShareCategoryCodes()).toEqual(DESIGN_SHARE_CATEGORIES);
  });

  test('is complete, active, 0.1.0, with a display and definition for every code', () => {
    const codeSystem = findConformanceResourceByUrl(SHARE_CATEGORY_SYSTEM) as CodeSystem;
    expect(codeSystem).toMatchObject({ content: 'complete', status: 'active', version: '0.1.0', count: 11 });
    for (const concept of codeSystem.concept ?? []) {
      expect(concept.display).toBeTruthy();
      expect(concept.definition).toMatch(/\.$/);
    }
  });
});

describe('sharing-consent profile', () => {
  test('is a constraint on R4 Consent with a generated snapshot', () => {
    const profile = sharingConsentProfile();
    expect(profile).toMatchObject({
      type: 'Consent',
      derivation: 'constraint',
      baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Consent',
    });
    expect(profile.snapshot?.element[0]?.id).toBe('Consent');
    // Every element of R4 Consent, base elements untouched where the profile says nothing.
    expect(profile.snapshot?.element.length).toBeGreaterThan(50);
    expect(snapshotElement('Consent.dateTime')).toMatchObject({ min: 0, max: '1' });
  });

  test.each<[string, Partial<ElementDefinition>]>([
    ['Consent.patient', { min: 1, max: '1' }],
    ['Consent.performer', { min: 1, max: '*' }],
    ['Consent.organization', { min: 1, max: '1' }],
    ['Consent.policyRule', { min: 1 }],
    ['Consent.provision', { min: 1 }],
    ['Consent.provision.type', { min: 1, fixedCode: 'permit' }],
    ['Consent.provision.actor', { min: 1 }],
    ['Consent.provision.purpose', { min: 1 }],
    ['Consent.provision.code', { min: 1, binding: expect.objectContaining({ strength: 'required', valueSet: SHARE_CATEGORY_VALUE_SET }) }],
    ['Consent.provision.provision', { max: '0' }],
  ])('constrains %s', (id, expected) => {
    expect(snapshotElement(id)).toMatchObject(expected);
  });

  test('adds its invariants, each with key, severity, human text and source', () => {
    const added = (sharingConsentProfile().snapshot?.element ?? [])
      .flatMap((e) => e.constraint ?? [])
      .filter((c) => c.key?.startsWith('ccsc-'));
    expect(added.map((c) => c.key).sort()).toEqual(['ccsc-1', 'ccsc-2', 'ccsc-3', 'ccsc-4']);
    for (const constraint of added) {
      expect(constraint).toMatchObject({ severity: 'error', source: SHARING_CONSENT_PROFILE });
      expect(constraint.human).toBeTruthy();
      expect(constraint.expression).toBeTruthy();
    }
  });
});
