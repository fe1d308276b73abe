import { parseReferenceAnyBase, parseRelativeReference, referenceStrings } from './references';

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
