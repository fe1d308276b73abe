/**
 * The words the sharing pages show: a card (recipient and kind from the directory, categories with what they
 * contain, psychotherapy notes never, "until you stop it", the reminder when ending soon), the overview's sections,
 * and the history as sentences with when and by whom.
 */
import type { Consent, Organization, OrganizationAffiliation, Practitioner, PractitionerRole } from '@medplum/fhirtypes';
import { SHARE_CATEGORY_SYSTEM } from '../../i18n/categories';
import { consentFacts, consentHistory } from './consent-facts';
import { buildRecipientDirectory } from './recipient-directory';
import { historyLines, overviewView, sharingCard } from './sharing-view';

const NOW = new Date('2026-12-07T10:00:00Z');
const SELF = 'Patient/alex';

function consent(id: string, recipient: string, categories: string[], period?: { start?: string; end?: string }, status: Consent['status'] = 'active'): Consent {
  return {
    resourceType: 'Consent',
    id,
    meta: { versionId: '1', lastUpdated: '2026-11-01T09:00:00Z' },
    status,
    scope: {},
    category: [],
    patient: { reference: SELF },
    provision: {
      ...(period ? { period } : {}),
      actor: [{ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] }, reference: { reference: recipient } }],
      purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }],
      code: categories.map((code) => ({ coding: [{ system: SHARE_CATEGORY_SYSTEM, code }] })),
    },
  };
}

const obgyn: Organization = { resourceType: 'Organization', id: 'obgyn', name: "Harbour Women's Health", type: [{ text: 'Clinic' }] };
const pt: Organization = { resourceType: 'Organization', id: 'pt', name: 'Harbour Pelvic Health', type: [{ text: 'Physiotherapy clinic' }] };
const affiliation: OrganizationAffiliation = {
  resourceType: 'OrganizationAffiliation',
  active: true,
  organization: { reference: 'Organization/practice' },
  participatingOrganization: { reference: 'Organization/obgyn' },
  specialty: [{ text: 'Obstetrics and gynecology (OB-GYN)' }],
};
const doctor: Practitioner = { resourceType: 'Practitioner', id: 'doc', name: [{ prefix: ['Dr.'], given: ['Maya'], family: 'Chen' }] };
const role: PractitionerRole = { resourceType: 'PractitionerRole', id: 'role', practitioner: { reference: 'Practitioner/doc' }, organization: { reference: 'Organization/pt' }, specialty: [{ text: 'Pelvic-floor physical therapy' }] };

describe('recipients in words', () => {
  test('kind from the practice’s directory first, else the role’s specialty, else the Organization’s type; names of people', () => {
    const directory = buildRecipientDirectory(
      ['Organization/obgyn', 'Organization/pt', 'PractitionerRole/role', 'Practitioner/doc', 'Organization/gone'],
      [obgyn, pt, doctor, role],
      [affiliation],
    );
    expect(directory.get('Organization/obgyn')).toMatchObject({ name: "Harbour Women's Health", kind: 'Obstetrics and gynecology (OB-GYN)' });
    expect(directory.get('Organization/pt')).toMatchObject({ name: 'Harbour Pelvic Health', kind: 'Physiotherapy clinic' });
    expect(directory.get('PractitionerRole/role')).toMatchObject({ name: 'Dr. Maya Chen, Harbour Pelvic Health', kind: 'Pelvic-floor physical therapy' });
    expect(directory.get('Practitioner/doc')).toMatchObject({ name: 'Dr. Maya Chen', kind: 'Pelvic-floor physical therapy' });
    expect(directory.get('Organization/gone')).toMatchObject({ name: undefined, kind: undefined });
  });
});

describe('a card', () => {
  const directory = buildRecipientDirectory(['Organization/obgyn'], [obgyn], [affiliation]);

  test('plain categories with what they hold, notes never shared with why, purpose, until you stop it', () => {
    const card = sharingCard(consentFacts(consent('c1', 'Organization/obgyn', ['medications', 'treatment-goals', 'mental-health']), NOW), directory, 'en');
    expect(card).toMatchObject({
      recipientName: "Harbour Women's Health",
      recipientKind: 'Obstetrics and gynecology (OB-GYN)',
      purpose: 'To treat you',
      from: 'From when you agreed',
      until: 'Until you stop it',
      statusText: 'Sharing now',
      endingReminder: undefined,
      changeable: true,
    });
    expect(card.categories.map((c) => c.name)).toEqual(['Your goals', 'Mental health', 'Medicines']);
    expect(card.categories[0]?.contains).toBe('What you and your therapist are working towards.');
    expect(card.neverShared.name).toBe('Therapy session notes');
    expect(card.neverShared.why).toMatch(/never shared with anyone/);
  });

  test('a reminder when it ends within 30 days; unknown recipients and kinds fall back to plain words; Spanish', () => {
    const card = sharingCard(consentFacts(consent('c2', 'Organization/obgyn', ['progress'], { end: '2026-12-17' }), NOW), directory, 'en');
    expect(card.endingReminder).toBe("Sharing with Harbour Women's Health ends on 17 Dec 2026, in 10 days. If you want them to keep seeing it, change the end date.");
    const unknown = sharingCard(consentFacts(consent('c3', 'Organization/nobody', ['progress']), NOW), directory, 'es');
    expect(unknown).toMatchObject({ recipientName: 'Un proveedor', recipientKind: 'Proveedor de salud', until: 'Hasta que usted lo detenga' });
  });

  test('the overview puts ending soon first and the stopped apart, not changeable', () => {
    const view = overviewView(
      [
        consent('open', 'Organization/obgyn', ['progress']),
        consent('stopped', 'Organization/obgyn', ['progress'], undefined, 'inactive'),
        consent('soon', 'Organization/obgyn', ['progress'], { end: '2026-12-20' }),
      ],
      directory,
      'en',
      NOW,
    );
    expect(view.endingSoon.map((c) => c.id)).toEqual(['soon']);
    expect(view.current.map((c) => c.id)).toEqual(['open']);
    expect(view.past.map((c) => [c.id, c.statusText, c.changeable])).toEqual([['stopped', 'Stopped on 1 Nov 2026', false]]);
  });
});

describe('history in sentences', () => {
  test('given by the client, changed, stopped: who, when and what changed in plain words', () => {
    const v1 = consent('c1', 'Organization/obgyn', ['treatment-goals', 'mental-health']);
    const v2 = { ...consent('c1', 'Organization/obgyn', ['treatment-goals', 'medications'], { end: '2027-01-31' }), meta: { versionId: '2', lastUpdated: '2026-11-15T14:30:00Z' } };
    const v3 = { ...v2, status: 'inactive' as const, meta: { versionId: '3', lastUpdated: '2026-12-01T08:05:00Z' } };
    const lines = historyLines(consentHistory([v3, v2, v1], [], SELF, NOW), "Harbour Women's Health", 'en');
    expect(lines.map((l) => [l.sentence, l.details, l.who])).toEqual([
      ["You started sharing with Harbour Women's Health.", ['What they can see: Your goals and Mental health.', 'From when you agreed – Until you stop it'], 'You'],
      [
        "You changed what Harbour Women's Health can see.",
        ['Now also: Medicines.', 'No longer: Mental health.', 'Dates changed from “From when you agreed – Until you stop it” to “From when you agreed – 31 Jan 2027”.'],
        'You',
      ],
      ["You stopped sharing with Harbour Women's Health.", [], 'You'],
    ]);
    expect(lines[1]?.when).toMatch(/15 Nov 2026/);
  });

  test('a version recorded from a signed form does not claim who entered it', () => {
    const v1 = { ...consent('c1', 'Organization/obgyn', ['progress']), sourceAttachment: { title: 'Signed release' } };
    const [line] = historyLines(consentHistory([v1], [], SELF, NOW), "Harbour Women's Health", 'en');
    expect(line).toMatchObject({ sentence: "Sharing with Harbour Women's Health was set up from a request you signed.", who: undefined });
  });
});
