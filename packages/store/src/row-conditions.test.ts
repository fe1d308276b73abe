import { allOf, always, anyOf, anyOfTerms, inPatientCompartment, never, not, notTrue } from './row-conditions';
import { sql } from './sql';

describe('row conditions', () => {
  test('allOf parenthesises each condition, so an OR inside one cannot widen the others', () => {
    expect(allOf(sql`a OR b`, not(sql`c`), inPatientCompartment('Patient/1')).render()).toEqual({
      text: '((a OR b) AND ((NOT (c))) AND (rv.compartments @> ARRAY[$1::text]))',
      values: ['Patient/1'],
    });
  });

  test('allOf of nothing holds', () => {
    expect(allOf().render().text).toBe('(TRUE)');
  });

  test('anyOf parenthesises each condition too, and of nothing holds of no row', () => {
    expect(anyOf(sql`a AND b`, inPatientCompartment('Patient/1')).render()).toEqual({
      text: '((a AND b) OR (rv.compartments @> ARRAY[$1::text]))',
      values: ['Patient/1'],
    });
    expect(anyOf().render().text).toBe('(FALSE)');
  });

  test('anyOfTerms joins conditions that are one term each as they come, and of nothing holds of no row', () => {
    expect(anyOfTerms([sql`(a AND b)`, never(), inPatientCompartment('Patient/1')]).render()).toEqual({
      text: '((a AND b) OR FALSE OR rv.compartments @> ARRAY[$1::text])',
      values: ['Patient/1'],
    });
    expect(anyOfTerms([]).render().text).toBe('(FALSE)');
  });

  test('notTrue holds where the condition is false or unknown', () => {
    expect(notTrue(sql`a OR b`).render().text).toBe('(a OR b) IS NOT TRUE');
  });

  test('always and never are the constants', () => {
    expect([always().render().text, never().render().text]).toEqual(['TRUE', 'FALSE']);
  });
});
