import { OperationOutcomeError } from '@medplum/core';
import { statusOf } from './outcome-status';
import type { CodeableConcept, Consent, ConsentProvisionActor, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { SHARE_CATEGORY_SYSTEM, SHARING_CONSENT_PROFILE } from './canonical-urls';
import { validateFhirResource } from './validation';

const V3_ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const PARTICIPATION_TYPE = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';

/** A sharing Consent that satisfies every rule of the profile; tests break one rule at a time. */
function sharingConsent(): Consent {
  return {
    resourceType: 'Consent',
    meta: { profile: [SHARING_CONSENT_PROFILE] },
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: 'Patient/client-1' },
    performer: [{ reference: 'Patient/client-1' }],
    organization: [{ reference: 'Organization/custodian' }],
    policyRule: { coding: [{ system: V3_ACT_CODE, code: 'OPTIN' }] },
    provision: {
      type: 'permit',
      period: { start: '2025-01-01', end: '2025-12-31' },
      actor: [recipient('Organization/partner-clinic')],
      purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }],
      code: [shareCategory('treatment-goals'), shareCategory('progress')],
    },
  };
}

function recipient(reference: string, code = 'IRCP'): ConsentProvisionActor {
  return { role: { coding: [{ system: PARTICIPATION_TYPE, code }] }, reference: { reference } };
}

function shareCategory(code: string): CodeableConcept {
  return { coding: [{ system: SHARE_CATEGORY_SYSTEM, code }] };
}

/** The issues validateFhirResource throws for `resource`, or [] when it passes. */
function errorsOf(resource: Resource): OperationOutcomeIssue[] {
  try {
    validateFhirResource(resource);
    return [];
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      expect(statusOf(err.outcome)).toBe(400);
      return err.outcome.issue ?? [];
    }
    throw err;
  }
}

function expressionsOf(resource: Resource): string[] {
  return errorsOf(resource).flatMap((issue) => issue.expression ?? []);
}

/** `change` applied to a fresh valid sharing consent. */
function consentWith(change: (consent: Consent & { provision: NonNullable<Consent['provision']> }) => void): Consent {
  const consent = sharingConsent() as Consent & { provision: NonNullable<Consent['provision']> };
  change(consent);
  return consent;
}

describe('validateFhirResource: sharing-consent profile', () => {
  test('a valid sharing consent passes without warnings', () => {
    expect(validateFhirResource(sharingConsent())).toEqual([]);
  });

  test.each<[string, Consent]>([
    ['without a period (open-ended)', consentWith((c) => delete c.provision.period)],
    ['with only a start', consentWith((c) => (c.provision.period = { start: '2025-01-01' }))],
    ['with start and end of different precision', consentWith((c) => (c.provision.period = { start: '2025-01-01', end: '2025-06-30T12:00:00Z' }))],
    ['with a Practitioner recipient by absolute URL', consentWith((c) => (c.provision.actor = [recipient('https://partner.example/fhir/Practitioner/p-1')]))],
    ['with a PractitionerRole recipient', consentWith((c) => (c.provision.actor = [recipient('PractitionerRole/r-1')]))],
    ['with other actors besides the recipient', consentWith((c) => c.provision.actor?.unshift(recipient('Patient/client-1', 'CST')))],
    ['with a translation beside the share category', consentWith((c) => c.provision.code?.[0]?.coding?.push({ system: 'http://loinc.org', code: '11488-4' }))],
    ['revoked (inactive)', consentWith((c) => (c.status = 'inactive'))],
    ['claiming the profile by versioned canonical', consentWith((c) => (c.meta = { profile: [`${SHARING_CONSENT_PROFILE}|0.1.0`] }))],
  ])('passes %s', (_name, consent) => {
    expect(errorsOf(consent)).toEqual([]);
  });

  test.each<[string, string, (c: Consent & { provision: NonNullable<Consent['provision']> }) => void]>([
    ['status missing', 'Consent.status', (c) => delete (c as Partial<Consent>).status],
    ['status not a consent state', 'Consent.status', (c) => (c.status = 'bogus' as Consent['status'])],
    ['scope not patient-privacy', 'Consent.scope', (c) => (c.scope = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'research' }] })],
    ['category without LOINC 59284-0', 'Consent.category[0]', (c) => (c.category = [{ coding: [{ system: 'http://loinc.org', code: '57016-8' }] }])],
    ['patient missing', 'Consent.patient', (c) => delete c.patient],
    ['performer missing', 'Consent.performer', (c) => delete c.performer],
    ['organization missing', 'Consent.organization', (c) => delete c.organization],
    ['two organizations', 'Consent.organization', (c) => c.organization?.push({ reference: 'Organization/other' })],
    ['policyRule missing', 'Consent.policyRule', (c) => delete c.policyRule],
    ['policyRule not OPTIN', 'Consent.policyRule', (c) => (c.policyRule = { coding: [{ system: V3_ACT_CODE, code: 'OPTOUT' }] })],
    ['provision missing', 'Consent.provision', (c) => delete (c as Consent).provision],
    ['provision.type missing', 'Consent.provision.type', (c) => delete c.provision.type],
    ['provision.type deny', 'Consent.provision.type', (c) => (c.provision.type = 'deny')],
    ['no actor', 'Consent.provision.actor', (c) => delete c.provision.actor],
    ['no actor with role IRCP', 'Consent.provision.actor[0]', (c) => (c.provision.actor = [recipient('Organization/partner-clinic', 'CST')])],
    ['the IRCP actor is a Patient', 'Consent.provision.actor[0]', (c) => (c.provision.actor = [recipient('Patient/someone')])],
    ['the IRCP actor has no literal reference', 'Consent.provision.actor[0]', (c) => (c.provision.actor = [{ ...recipient('x'), reference: { display: 'A clinic' } }])],
    ['purpose missing', 'Consent.provision.purpose', (c) => delete c.provision.purpose],
    ['code missing', 'Consent.provision.code', (c) => delete c.provision.code],
    ['a code without a share category', 'Consent.provision.code[2]', (c) => c.provision.code?.push({ coding: [{ system: 'http://loinc.org', code: '11488-4' }] })],
    ['an unknown share category', 'Consent.provision.code[0].coding[0]', (c) => (c.provision.code = [shareCategory('everything')])],
    ['period ending before it starts', 'Consent.provision.period', (c) => (c.provision.period = { start: '2025-06-01', end: '2025-01-01' })],
    ['a nested provision', 'Consent.provision.provision', (c) => (c.provision.provision = [{ type: 'deny' }])],
    ['provision.data', 'Consent.provision.data', (c) => (c.provision.data = [{ meaning: 'instance', reference: { reference: 'Observation/1' } }])],
    ['provision.class', 'Consent.provision.class', (c) => (c.provision.class = [{ system: 'http://hl7.org/fhir/resource-types', code: 'Observation' }])],
    ['provision.securityLabel', 'Consent.provision.securityLabel', (c) => (c.provision.securityLabel = [{ system: V3_ACT_CODE, code: 'PSY' }])],
    ['provision.dataPeriod', 'Consent.provision.dataPeriod', (c) => (c.provision.dataPeriod = { start: '2020-01-01' })],
  ])('fails when %s, naming %s', (_name, expression, change) => {
    const expressions = expressionsOf(consentWith(change));
    expect(expressions).toContain(expression);
    // Nothing unrelated: only the element, or an R4 invariant of the whole Consent (ppc-1 needs a policyRule).
    expect(expressions.filter((e) => e !== expression && e !== 'Consent')).toEqual([]);
  });

  test('reports every broken rule at once', () => {
    const consent = consentWith((c) => {
      delete c.patient;
      c.provision.type = 'deny';
    });
    expect(expressionsOf(consent)).toEqual(expect.arrayContaining(['Consent.patient', 'Consent.provision.type']));
  });

  test('reports a base R4 problem once, not once per validation pass', () => {
    const consent = consentWith((c) => (c.dateTime = 'yesterday'));
    expect(expressionsOf(consent).filter((e) => e === 'Consent.dateTime')).toHaveLength(1);
  });

  test('a Consent without meta.profile is not held to sharing-consent', () => {
    const consent = consentWith((c) => {
      delete c.meta;
      c.provision.type = 'deny';
      delete c.provision.purpose;
      delete c.organization;
    });
    expect(errorsOf(consent)).toEqual([]);
  });
});

describe('validateFhirResource: profiles claimed in meta.profile', () => {
  test('an unknown profile is refused, naming meta.profile', () => {
    const patient: Resource = { resourceType: 'Patient', meta: { profile: ['http://example.org/StructureDefinition/other'] } };
    const [issue, ...rest] = errorsOf(patient);
    expect(rest).toEqual([]);
    expect(issue).toMatchObject({ severity: 'error', code: 'not-supported', expression: ['Patient.meta.profile[0]'] });
    expect(issue?.details?.text).toContain('http://example.org/StructureDefinition/other');
  });

  test('a version of our profile we do not hold is unknown', () => {
    const consent = consentWith((c) => (c.meta = { profile: [`${SHARING_CONSENT_PROFILE}|9.0.0`] }));
    expect(expressionsOf(consent)).toEqual(['Consent.meta.profile[0]']);
  });

  test('a profile of another resource type is refused', () => {
    const patient: Resource = { resourceType: 'Patient', meta: { profile: [SHARING_CONSENT_PROFILE] } };
    expect(errorsOf(patient)).toEqual([
      expect.objectContaining({ code: 'invalid', expression: ['Patient.meta.profile[0]'] }),
    ]);
  });

  test('the base definition of the type itself is accepted', () => {
    const patient: Resource = { resourceType: 'Patient', meta: { profile: ['http://hl7.org/fhir/StructureDefinition/Patient'] } };
    expect(errorsOf(patient)).toEqual([]);
  });

  test('an unknown profile is named whole, but a request cannot make the answer echo kilobytes', () => {
    const backport = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription-notification-r4';
    const [named] = errorsOf({ resourceType: 'Patient', meta: { profile: [backport] } });
    expect(named?.details?.text).toContain(backport);
    const url = `https://example.org/${'x'.repeat(5000)}`;
    const [issue] = errorsOf({ resourceType: 'Patient', meta: { profile: [url] } });
    expect(issue?.details?.text?.length).toBeLessThan(600);
  });
});

describe('validateFhirResource: required terminology bindings', () => {
  test.each<[string, Resource, string]>([
    ['Patient.gender', { resourceType: 'Patient', gender: 'bogus' } as unknown as Resource, 'Patient.gender'],
    ['Task.status', { resourceType: 'Task', status: 'bogus', intent: 'order' } as unknown as Resource, 'Task.status'],
    ['Task.intent', { resourceType: 'Task', status: 'requested', intent: 'wish' } as unknown as Resource, 'Task.intent'],
    ['Consent.status', { ...sharingConsent(), meta: undefined, status: 'bogus' } as unknown as Resource, 'Consent.status'],
    [
      'ServiceRequest.intent',
      { resourceType: 'ServiceRequest', status: 'active', intent: 'bogus', subject: { reference: 'Patient/1' } } as unknown as Resource,
      'ServiceRequest.intent',
    ],
    [
      'code inside an array element',
      { resourceType: 'Patient', telecom: [{ system: 'phone', value: '1' }, { system: 'pigeon', value: '2' }] } as unknown as Resource,
      'Patient.telecom[1].system',
    ],
  ])('rejects a %s outside its value set', (_name, resource, expression) => {
    expect(errorsOf(resource)).toEqual([
      expect.objectContaining({ severity: 'error', code: 'code-invalid', expression: [expression] }),
    ]);
  });

  test.each<[string, Resource]>([
    ['Patient.gender female', { resourceType: 'Patient', gender: 'female' }],
    ['Task.status requested', { resourceType: 'Task', status: 'requested', intent: 'order' }],
    ['Task.status on-hold', { resourceType: 'Task', status: 'on-hold', intent: 'order' }],
    [
      'ServiceRequest.intent original-order (a nested concept)',
      { resourceType: 'ServiceRequest', status: 'active', intent: 'original-order', subject: { reference: 'Patient/1' } },
    ],
    ['Composition.confidentiality (a v3 code system)', composition('R')],
  ])('accepts %s', (_name, resource) => {
    expect(errorsOf(resource)).toEqual([]);
  });

  test('rejects a Composition.confidentiality outside the v3 value set', () => {
    expect(expressionsOf(composition('Z'))).toEqual(['Composition.confidentiality']);
  });

  test('names the element and the value set without echoing long input', () => {
    const [issue] = errorsOf({ resourceType: 'Patient', gender: 'x'.repeat(10_000) } as unknown as Resource);
    expect(issue?.details?.text).toContain('Patient.gender');
    expect(issue?.details?.text).toContain('http://hl7.org/fhir/ValueSet/administrative-gender');
    expect(issue?.details?.text?.length).toBeLessThan(200);
  });

  test('skips a value set it cannot expand rather than reject', () => {
    // Binary.contentType is bound to BCP-13 mime types, a code system we do not hold.
    expect(errorsOf({ resourceType: 'Binary', contentType: 'application/x-anything' })).toEqual([]);
  });

  test('combines binding errors with structural errors in one outcome', () => {
    const patient = { resourceType: 'Patient', gender: 'bogus', birthDate: 'not-a-date' } as unknown as Resource;
    expect(expressionsOf(patient)).toEqual(expect.arrayContaining(['Patient.gender', 'Patient.birthDate']));
  });
});

function composition(confidentiality: string): Resource {
  return {
    resourceType: 'Composition',
    status: 'final',
    type: { text: 'Summary' },
    date: '2025-01-01',
    author: [{ reference: 'Practitioner/1' }],
    title: 'Summary',
    confidentiality,
  } as Resource;
}
