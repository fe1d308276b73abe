import { allOf, always, anyOf, inPatientCompartment, never, not } from './row-conditions';
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

  test('always and never are the constants', () => {
    expect([always().render().text, never().render().text]).toEqual(['TRUE', 'FALSE']);
  });
});
