/**
 * The preview of what a provider sees: sections by category in plain names, one readable line per entry built from
 * structured data (never codes or narrative), masked references as "(something not shared with them)", the
 * client's own details apart, and the categories shared that hold nothing yet.
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { SHARE_CATEGORY_SYSTEM } from '../../i18n/categories';
import { sharingWords } from '../../i18n/sharing';
import { buildSummaryPreview, countMaskedReferences, describeResource } from './summary-preview';

const en = sharingWords.en;
const MASKED = { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'masked' }] };

function summary(sections: Array<{ code: string; entries: string[] }>, resources: Resource[]): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'document',
    entry: [
      {
        resource: {
          resourceType: 'Composition',
          status: 'final',
          type: { text: 'summary' },
          date: '2026-12-07',
          author: [{ reference: 'Organization/practice' }],
          title: 'Care coordination summary',
          section: sections.map((s) => ({
            title: s.code,
            code: { coding: [{ system: SHARE_CATEGORY_SYSTEM, code: s.code }] },
            text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><b>never shown</b></div>' },
            entry: s.entries.map((reference) => (reference === 'masked' ? MASKED : { reference })),
          })),
        },
      },
      ...resources.map((resource) => ({ fullUrl: `http://localhost/fhir/R4/${resource.resourceType}/${resource.id ?? ''}`, resource })),
    ],
  };
}

describe('a summary previewed', () => {
  const patient: Resource = {
    resourceType: 'Patient',
    id: 'alex',
    name: [{ given: ['Alex'], family: 'Rivera' }],
    birthDate: '1990-04-12',
    telecom: [{ system: 'phone', value: '555 0100' }],
  };
  const goal: Resource = { resourceType: 'Goal', id: 'g', lifecycleStatus: 'active', description: { text: 'Intercourse without pain within six months' }, subject: { reference: 'Patient/alex' } };
  const anxiety: Resource = {
    resourceType: 'Condition',
    id: 'a',
    code: { text: 'Generalized anxiety', coding: [{ system: 'http://snomed.info/sct', code: '21897009', display: 'Generalized anxiety disorder' }] },
    onsetDateTime: '2025-03-01',
    subject: { reference: 'Patient/alex' },
  };

  test('sections in plain names with a sentence per entry; the Patient as "about you"; shared but empty categories listed', () => {
    const preview = buildSummaryPreview(
      summary(
        [
          { code: 'treatment-goals', entries: ['Goal/g'] },
          { code: 'mental-health', entries: ['Condition/a'] },
        ],
        [patient, anxiety, goal],
      ),
      ['treatment-goals', 'mental-health', 'medications'],
      en,
      'en',
    );
    expect(preview.sections).toEqual([
      { category: 'treatment-goals', title: 'Your goals', entries: [{ lines: ['Goal: Intercourse without pain within six months'] }] },
      { category: 'mental-health', title: 'Mental health', entries: [{ lines: ['Generalized anxiety, since 1 Mar 2025'] }] },
    ]);
    expect(preview.aboutYou).toEqual([{ lines: ['Name: Alex Rivera', 'Date of birth: 12 Apr 1990', 'Phone: 555 0100'] }]);
    expect(preview.emptyCategories).toEqual(['medications']);
    expect(JSON.stringify(preview)).not.toMatch(/21897009|never shown|<b>/);
  });

  test('a masked section entry and a masked reference inside an entry read "(something not shared with them)"', () => {
    const plan: Resource = {
      resourceType: 'CarePlan',
      id: 'p',
      status: 'active',
      intent: 'plan',
      title: 'Pelvic-floor relaxation homework',
      subject: { reference: 'Patient/alex' },
      supportingInfo: [MASKED],
      activity: [{ detail: { status: 'in-progress', description: 'Dilator practice, three times a week' } }],
    };
    const preview = buildSummaryPreview(summary([{ code: 'care-plan', entries: ['CarePlan/p', 'masked'] }], [plan]), ['care-plan'], en, 'en');
    expect(preview.sections[0]?.entries).toEqual([
      {
        lines: [
          'Plan: Pelvic-floor relaxation homework',
          'Step: Dilator practice, three times a week',
          'Related to: (something not shared with them)',
        ],
      },
      { lines: ['(something not shared with them)'] },
    ]);
    expect(countMaskedReferences(plan)).toBe(1);
  });

  test('Spanish names and sentences', () => {
    const preview = buildSummaryPreview(summary([{ code: 'treatment-goals', entries: ['Goal/g'] }], [goal]), ['treatment-goals'], sharingWords.es, 'es');
    expect(preview.sections[0]).toMatchObject({ title: 'Sus objetivos', entries: [{ lines: ['Objetivo: Intercourse without pain within six months'] }] });
  });
});

describe('entry sentences', () => {
  test.each<[string, Resource, string[]]>([
    [
      'an Observation with a string value',
      { resourceType: 'Observation', status: 'final', code: { text: 'Homework adherence' }, valueString: 'Completed 2 of 3 practice sessions this week' },
      ['Homework adherence: Completed 2 of 3 practice sessions this week'],
    ],
    [
      'an Observation with a quantity, on a date',
      { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: 'x', display: 'Pain score' }] }, valueQuantity: { value: 3, unit: '/10' }, effectiveDateTime: '2026-11-30T10:00:00Z' },
      ['Pain score: 3 /10, on 30 Nov 2026'],
    ],
    [
      'a MedicationStatement with its dosage',
      { resourceType: 'MedicationStatement', status: 'active', subject: { reference: 'Patient/alex' }, medicationCodeableConcept: { text: 'Sertraline 50 mg' }, dosage: [{ text: 'One tablet each morning' }] },
      ['Medicine: Sertraline 50 mg', 'How to take it: One tablet each morning'],
    ],
    [
      'a MedicationRequest by reference display',
      { resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject: { reference: 'Patient/alex' }, medicationReference: { display: 'Vaginal estrogen cream' }, dosageInstruction: [{ text: 'Twice a week' }] },
      ['Medicine: Vaginal estrogen cream', 'How to take it: Twice a week'],
    ],
    [
      'a DocumentReference by its description',
      { resourceType: 'DocumentReference', status: 'current', content: [{ attachment: {} }], description: 'Consult note from the OB-GYN', date: '2026-12-01T08:00:00Z' },
      ['Document: Consult note from the OB-GYN, on 1 Dec 2026'],
    ],
    [
      'a Communication by its text',
      { resourceType: 'Communication', status: 'completed', payload: [{ contentString: 'Exercises going well.' }] },
      ['Message: Exercises going well.'],
    ],
    [
      'a Condition with a note',
      { resourceType: 'Condition', subject: { reference: 'Patient/alex' }, code: { text: 'History of trauma' }, note: [{ text: 'Prefers to be told before each step.' }] },
      ['History of trauma', 'Note: Prefers to be told before each step.'],
    ],
    [
      'a Goal with a due date',
      { resourceType: 'Goal', lifecycleStatus: 'active', subject: { reference: 'Patient/alex' }, description: { text: 'Less pain' }, target: [{ dueDate: '2027-06-01' }] },
      ['Goal: Less pain, by 1 Jun 2027'],
    ],
    ['something else, never as a code', { resourceType: 'Basic', code: { coding: [{ system: 'x', code: 'y' }] } }, ['Another item from your record']],
  ])('%s', (_, resource, lines) => {
    expect(describeResource(resource, en, 'en')).toEqual(lines);
  });
});
