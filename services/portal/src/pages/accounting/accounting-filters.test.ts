/**
 * The filters of "Who saw what": blank is no filter; a provider is an id reference or a problem; a date is whole and
 * real or a problem on its day field; an end before the start is a problem; the API gets `agent` and a `date` range of
 * whole days; the page token is carried only when it looks like one.
 */
import { apiFilterParams, filterQuery, parseFilters } from './accounting-filters';

const blank = { 'from-day': '', 'from-month': '', 'from-year': '', 'to-day': '', 'to-month': '', 'to-year': '' };

describe('parseFilters', () => {
  test('nothing asked: no filter, no problem', () => {
    const filters = parseFilters({}, 'en');
    expect(filters).toMatchObject({ provider: undefined, from: undefined, to: undefined, page: undefined, problems: [] });
    expect(apiFilterParams(filters)).toEqual([]);
    expect(filterQuery(filters)).toBe('');
  });

  test('a provider and a period become the API’s agent and a range of whole days', () => {
    const filters = parseFilters(
      { provider: 'Organization/abc-1', 'from-day': '1', 'from-month': '11', 'from-year': '2026', 'to-day': '3', 'to-month': '12', 'to-year': '2026' },
      'en',
    );
    expect(filters.problems).toEqual([]);
    expect(apiFilterParams(filters)).toEqual([
      ['agent', 'Organization/abc-1'],
      ['date', `ge${new Date(2026, 10, 1).toISOString()}`],
      ['date', `lt${new Date(2026, 11, 4).toISOString()}`],
    ]);
    expect(filterQuery(filters, 'tok_1-2')).toBe(
      '?provider=Organization%2Fabc-1&from-day=1&from-month=11&from-year=2026&to-day=3&to-month=12&to-year=2026&page=tok_1-2',
    );
  });

  test.each([
    [{ ...blank, provider: 'Organization/<script>' }, 'provider', 'Choose a provider from the list'],
    [{ ...blank, provider: 'Patient/x' }, 'provider', 'Choose a provider from the list'],
    [{ ...blank, 'from-day': '3' }, 'from-day', 'Enter the full start date, with a day, month and year'],
    [{ ...blank, 'to-day': '31', 'to-month': '2', 'to-year': '2026' }, 'to-day', 'The end date must be a real date'],
    [{ ...blank, 'from-day': 'x', 'from-month': '2', 'from-year': '2026' }, 'from-day', 'The start date must be a real date'],
    [{ ...blank, 'from-day': '1', 'from-month': '2', 'from-year': '26' }, 'from-day', 'The start date must be a real date'],
  ])('%j is a problem on %s', (query, field, message) => {
    expect(parseFilters(query, 'en').problems).toEqual([{ field, message }]);
  });

  test('an end before the start is a problem on the end date, in the reader’s language', () => {
    const query = { 'from-day': '5', 'from-month': '12', 'from-year': '2026', 'to-day': '4', 'to-month': '12', 'to-year': '2026' };
    expect(parseFilters(query, 'es').problems).toEqual([{ field: 'to-day', message: 'La fecha de fin debe ser igual o posterior a la fecha de inicio' }]);
    expect(parseFilters({ ...query, 'to-day': '5' }, 'en').problems).toEqual([]);
  });

  test('a page token is carried only when it looks like one; repeated parameters take the first', () => {
    expect(parseFilters({ page: 'abc_DEF-123' }, 'en').page).toBe('abc_DEF-123');
    expect(parseFilters({ page: 'abc def' }, 'en').page).toBeUndefined();
    expect(parseFilters({ provider: ['Organization/a', 'Organization/b'] }, 'en').provider).toBe('Organization/a');
  });
});
