import type { Resource } from '@medplum/fhirtypes';
import { parseReferenceAnyBase, parseRelativeReference, patientReferences, referenceStrings } from './references';

describe('references', () => {
  test.each([
    ['Patient/p1', { resourceType: 'Patient', id: 'p1' }, { resourceType: 'Patient', id: 'p1' }],
    ['Observation/o.1/_history/3', { resourceType: 'Observation', id: 'o.1' }, { resourceType: 'Observation', id: 'o.1' }],
    ['https://host/fhir/R4/Patient/p1', undefined, { resourceType: 'Patient', id: 'p1' }],
    ['https://host/fhir/R4/xPatient/p1', undefined, undefined],
    ['urn:uuid:0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a', undefined, undefined],
    ['Patient?identifier=x|1', undefined, undefined],
    ['patient/p1', undefined, undefined],
  ])('%s', (reference, relative, anyBase) => {
    expect(parseRelativeReference(reference)).toEqual(relative);
    expect(parseReferenceAnyBase(reference)).toEqual(anyBase);
  });

  test('an absent reference names nothing', () => {
    expect(parseRelativeReference(undefined)).toBeUndefined();
    expect(parseReferenceAnyBase(undefined)).toBeUndefined();
  });

  test('every reference string anywhere, contained resources included, in document order', () => {
    const resource = {
      resourceType: 'CarePlan',
      subject: { reference: 'Patient/p1', display: 'not a reference' },
      activity: [{ reference: { reference: 'Task/t1' } }, { detail: { goal: [{ reference: 'Goal/g1' }] } }],
      contained: [{ resourceType: 'Goal', subject: { reference: 'Patient/p2' } }],
      note: [{ text: 'reference' }],
    };
    expect(referenceStrings(resource)).toEqual(['Patient/p1', 'Task/t1', 'Goal/g1', 'Patient/p2']);
  });
});

test('patientReferences finds every Patient reference, relative or absolute, once', () => {
  const resource = {
    resourceType: 'Communication',
    status: 'completed',
    subject: { reference: 'Patient/p1' },
    recipient: [
      { reference: 'Patient/p2/_history/3' },
      { reference: 'Practitioner/x' },
      { reference: 'Patient/p1' },
      { reference: 'https://carecircle.test/fhir/R4/Patient/p4' },
      { reference: 'urn:uuid:0b6d1b1e-3c9e-4c1a-9a53-0b1f3d7c2a11' },
    ],
    note: [{ text: 'reference Patient/p3 in text is not a reference' }],
  } as Resource;
  expect(patientReferences(resource).sort()).toEqual(['p1', 'p2', 'p4']);
});
