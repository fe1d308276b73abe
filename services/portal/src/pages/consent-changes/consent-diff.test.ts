/** The change a client reviews before signing: categories added, removed and kept; purpose and end with what they were. */
import { describeChange } from './consent-diff';

const before = { categories: ['treatment-goals', 'progress'], purpose: 'TREAT', until: { kind: 'open' } } as const;

describe('describeChange', () => {
  test('removing a category narrows', () => {
    const change = describeChange(before, { ...before, categories: ['treatment-goals'] });
    expect(change).toMatchObject({ added: [], removed: ['progress'], kept: ['treatment-goals'], purpose: undefined, until: undefined, unchanged: false, narrows: true });
  });

  test('adding a category widens; categories come in the portal order', () => {
    const change = describeChange(before, { ...before, categories: ['medications', 'progress', 'demographics', 'treatment-goals'] });
    expect(change).toMatchObject({ added: ['demographics', 'medications'], removed: [], kept: ['treatment-goals', 'progress'], narrows: false });
  });

  test('an end set where there was none is a change that narrows, with what it was', () => {
    const change = describeChange(before, { ...before, until: { kind: 'date', date: '2027-03-01' } });
    expect(change.until).toEqual({ before: { kind: 'open' }, after: { kind: 'date', date: '2027-03-01' } });
    expect(change).toMatchObject({ unchanged: false, narrows: true });
  });

  test('a later end, or an open one, widens', () => {
    const dated = { ...before, until: { kind: 'date', date: '2027-03-01' } } as const;
    expect(describeChange(dated, { ...dated, until: { kind: 'date', date: '2028-01-01' } })).toMatchObject({ narrows: false, unchanged: false });
    expect(describeChange(dated, { ...dated, until: { kind: 'open' } })).toMatchObject({ narrows: false, unchanged: false });
    expect(describeChange(dated, { ...dated, until: { kind: 'date', date: '2027-01-01' } })).toMatchObject({ narrows: true });
  });

  test('a new purpose is shown with the old one', () => {
    expect(describeChange(before, { ...before, purpose: 'CAREMGT' }).purpose).toEqual({ before: 'TREAT', after: 'CAREMGT' });
  });

  test('the same terms are no change', () => {
    expect(describeChange(before, { ...before, categories: ['progress', 'treatment-goals'] })).toMatchObject({ unchanged: true, narrows: false });
  });
});
