import type { Consent } from '@medplum/fhirtypes';
import { buildSharingConsent } from './consent-builders';
import { decideDisclosure, type DisclosureQuestion, type Recipient } from './consent-decision';
import type { ShareCategory } from './share-category';

const NOW = new Date('2026-06-15T12:00:00Z');
const OBGYN: Recipient = { organization: 'Organization/obgyn' };
const OBGYN_DOCTOR: Recipient = { organization: 'Organization/obgyn', practitioner: 'Practitioner/dr-lee' };
const OTHER_DOCTOR: Recipient = { organization: 'Organization/urology', practitioner: 'Practitioner/dr-kim' };

function consent(overrides: Partial<Parameters<typeof buildSharingConsent>[0]> = {}, id = 'c1'): Consent {
  return buildSharingConsent({
    id,
    patient: 'Patient/p1',
    custodian: 'Organization/practice',
    recipients: ['Organization/obgyn'],
    categories: ['treatment-goals', 'trauma-history'],
    ...overrides,
  });
}

function ask(consents: Consent[], q: Partial<DisclosureQuestion> = {}): boolean {
  return decideDisclosure(consents, { recipient: OBGYN, purpose: 'TREAT', category: 'treatment-goals', now: NOW, ...q }).permit;
}

describe('decideDisclosure', () => {
  test.each<[string, Consent[], Partial<DisclosureQuestion>, boolean]>([
    ['an active consent naming the organization, category and purpose permits', [consent()], {}, true],
    ['a category the consent does not list is denied', [consent()], { category: 'sexual-history' }, false],
    ['a resource without a share category is denied', [consent()], { category: undefined }, false],
    ['an unknown category code is denied', [consent()], { category: 'everything' }, false],
    ['psychotherapy notes are denied even when a consent lists them', [consent({ categories: ['psychotherapy-notes'] })], { category: 'psychotherapy-notes' }, false],
    ['no consents: denied', [], {}, false],
    ['an inactive (revoked) consent is ignored', [consent({ status: 'inactive' })], {}, false],
    ['a draft consent is ignored', [consent({ status: 'draft' })], {}, false],
    ['another purpose is denied', [consent()], { purpose: 'HPAYMT' }, false],
    ['a consent for that other purpose permits it', [consent({ purposes: ['HPAYMT'] })], { purpose: 'HPAYMT' }, true],
    ['a practitioner of the named organization matches through it', [consent()], { recipient: OBGYN_DOCTOR }, true],
    ['a practitioner named directly matches', [consent({ recipients: ['Practitioner/dr-kim'] })], { recipient: OTHER_DOCTOR }, true],
    ['a practitioner of another organization does not match', [consent()], { recipient: OTHER_DOCTOR }, false],
    ['a practitioner role named directly matches', [consent({ recipients: ['PractitionerRole/r1'] })], { recipient: { organization: 'Organization/x', practitionerRoles: ['PractitionerRole/r0', 'PractitionerRole/r1'] } }, true],
    ['period start in the future: denied', [consent({ period: { start: '2026-07-01' } })], {}, false],
    ['period start today (date precision): permitted', [consent({ period: { start: '2026-06-15' } })], {}, true],
    ['period ended yesterday: denied', [consent({ period: { end: '2026-06-14' } })], {}, false],
    ['period ending today (date precision) still covers today', [consent({ period: { end: '2026-06-15' } })], {}, true],
    ['period ending at an instant just passed: denied', [consent({ period: { end: '2026-06-15T11:59:59Z' } })], {}, false],
    ['period ending at this very instant: denied (end is exclusive)', [consent({ period: { end: '2026-06-15T12:00:00Z' } })], {}, false],
    ['period with month precision covers the whole month', [consent({ period: { start: '2026-06', end: '2026-06' } })], {}, true],
    ['open-ended period is in force until revoked', [consent({ period: { start: '2020-01-01' } })], {}, true],
    ['union: one consent of two permits', [consent({ categories: ['progress'] }, 'a'), consent({ categories: ['treatment-goals'] }, 'b')], {}, true],
    ['union: neither permits', [consent({ categories: ['progress'] }, 'a'), consent({ recipients: ['Organization/urology'] }, 'b')], {}, false],
    ['Consent resources themselves are never disclosed', [consent()], { resourceType: 'Consent' }, false],
    ['AuditEvents are never disclosed', [consent()], { resourceType: 'AuditEvent' }, false],
    ['the Patient resource is disclosed under any consent naming the recipient, whatever the categories', [consent({ categories: ['progress'] })], { resourceType: 'Patient', category: 'demographics' }, true],
    ['the Patient resource is not disclosed for another purpose', [consent()], { resourceType: 'Patient', category: 'demographics', purpose: 'HPAYMT' }, false],
    ['the Patient resource is not disclosed under a revoked consent', [consent({ status: 'inactive' })], { resourceType: 'Patient', category: 'demographics' }, false],
    ['a role the practitioner holds elsewhere than the named one does not match', [consent({ recipients: ['PractitionerRole/r1'] })], { recipient: { organization: 'Organization/x', practitioner: 'Practitioner/p', practitionerRoles: ['PractitionerRole/r2'] } }, false],
  ])('%s', (_name, consents, question, expected) => {
    expect(ask(consents, question)).toBe(expected);
  });

  test('names every consent that permits, for the audit trail and $disclosure-check', () => {
    const decision = decideDisclosure([consent({}, 'a'), consent({}, 'b'), consent({ categories: ['progress'] }, 'c')], {
      recipient: OBGYN,
      purpose: 'TREAT',
      category: 'trauma-history' satisfies ShareCategory,
      now: NOW,
    });
    expect(decision).toMatchObject({ permit: true, consents: ['Consent/a', 'Consent/b'] });
  });

  test('an actor without the IRCP role is not a recipient', () => {
    const c = consent();
    c.provision!.actor![0]!.role = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'AUT' }] };
    expect(ask([c])).toBe(false);
  });
});
