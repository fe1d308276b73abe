import { SHARE_CATEGORY_SYSTEM, SHARE_CATEGORY_VALUE_SET } from './canonical-urls';
import { getShareCategoryCodes } from './profiles';
import { expandValueSet, expansionContains } from './value-set-expansion';

describe('expandValueSet', () => {
  test('expands our share-category value set from our code system', () => {
    const expansion = expandValueSet(SHARE_CATEGORY_VALUE_SET);
    expect([...(expansion?.get(SHARE_CATEGORY_SYSTEM) ?? [])]).toEqual(getShareCategoryCodes());
  });

  test('includes nested concepts of a whole code system', () => {
    const expansion = expandValueSet('http://hl7.org/fhir/ValueSet/request-intent|4.0.1');
    expect(expansion && expansionContains(expansion, 'order')).toBe(true);
    expect(expansion && expansionContains(expansion, 'original-order')).toBe(true);
    expect(expansion && expansionContains(expansion, 'wish')).toBe(false);
  });

  test('includes listed concepts only', () => {
    // task-intent lists a subset of the request-intent code system.
    const expansion = expandValueSet('http://hl7.org/fhir/ValueSet/task-intent');
    expect(expansion && expansionContains(expansion, 'order', 'http://hl7.org/fhir/request-intent')).toBe(true);
    expect(expansion && expansionContains(expansion, 'directive')).toBe(false);
  });

  test('unites imported value sets', () => {
    const expansion = expandValueSet('http://hl7.org/fhir/ValueSet/event-or-request-resource-types');
    expect(expansion && expansionContains(expansion, 'Observation')).toBe(true); // an event
    expect(expansion && expansionContains(expansion, 'ServiceRequest')).toBe(true); // a request
    expect(expansion && expansionContains(expansion, 'Patient')).toBe(false);
  });

  test('checks the system when one is given', () => {
    const expansion = expandValueSet('http://hl7.org/fhir/ValueSet/administrative-gender');
    expect(expansion && expansionContains(expansion, 'male', 'http://hl7.org/fhir/administrative-gender')).toBe(true);
    expect(expansion && expansionContains(expansion, 'male', 'http://example.org/other')).toBe(false);
  });

  test.each([
    ['an unknown value set', 'http://example.org/ValueSet/nope'],
    ['a code system outside what we hold (BCP-13)', 'http://hl7.org/fhir/ValueSet/mimetypes'],
    ['a value set defined by filters', 'http://hl7.org/fhir/ValueSet/encounter-participant-type'],
  ])('cannot expand %s', (_name, url) => {
    expect(expandValueSet(url)).toBeUndefined();
  });
});
