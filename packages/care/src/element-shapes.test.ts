import { hasCoding, isReferralRequest, REFERRAL_CATEGORY } from './care-codes';
import { codingsOf, referencesOf } from './element-shapes';
import { isProvenanced } from './care-plan-provenance';

describe('reading bodies that have not been validated', () => {
  test.each([
    ['a string', 'referral'],
    ['a coding object instead of a list', { coding: { system: REFERRAL_CATEGORY.system, code: REFERRAL_CATEGORY.code } }],
    ['a list of strings', { coding: ['x'] }],
    ['null', null],
  ])('a concept given as %s carries no coding (and throws nothing)', (_name, concept) => {
    expect(codingsOf(concept)).toEqual([]);
    expect(hasCoding(concept as never, REFERRAL_CATEGORY)).toBe(false);
  });

  test('a referral is recognised only in the referral shape', () => {
    expect(isReferralRequest({ resourceType: 'ServiceRequest', category: [{ coding: [REFERRAL_CATEGORY] }] })).toBe(true);
    expect(isReferralRequest({ resourceType: 'ServiceRequest', category: 'referral' })).toBe(false);
    expect(isReferralRequest({ resourceType: 'ServiceRequest', category: [{ coding: { ...REFERRAL_CATEGORY } }] })).toBe(false);
    expect(isReferralRequest({ resourceType: 'Task', category: [{ coding: [REFERRAL_CATEGORY] }] })).toBe(false);
  });

  test('references are read from Reference objects only', () => {
    expect(referencesOf('x')).toEqual([]);
    expect(referencesOf([{ reference: 'CarePlan/1' }, 'CarePlan/2', { reference: 5 }, null])).toEqual(['CarePlan/1']);
  });

  test('progress on a care plan is provenanced; other Communications are not', () => {
    expect(isProvenanced({ resourceType: 'Communication', status: 'completed', about: [{ reference: 'CarePlan/1' }] })).toBe(true);
    expect(isProvenanced({ resourceType: 'Communication', status: 'completed', about: [{ reference: 'Task/1' }] })).toBe(false);
    expect(isProvenanced({ resourceType: 'Communication', status: 'completed', about: 'CarePlan/1' as never })).toBe(false);
    expect(isProvenanced({ resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'x' }, subject: { reference: 'Patient/1' } })).toBe(true);
  });
});
