import { join, raw, sql } from './sql';

describe('sql', () => {
  test('numbers parameters across nested fragments', () => {
    const where = join([sql`a = ${1}`, sql`b = ${'x'}`], ' AND ');
    const query = sql`SELECT * FROM t WHERE ${where} AND c = ${true} ${raw('ORDER BY a')}`;
    expect(query.render()).toEqual({
      text: 'SELECT * FROM t WHERE a = $1 AND b = $2 AND c = $3 ORDER BY a',
      values: [1, 'x', true],
    });
  });

  test('renders an empty join as its fallback', () => {
    expect(sql`WHERE ${join([], ' AND ', 'TRUE')}`.render().text).toBe('WHERE TRUE');
  });

  test('never splices values into text', () => {
    const hostile = "'; DROP TABLE resource_version; --";
    expect(sql`x = ${hostile}`.render()).toEqual({ text: 'x = $1', values: [hostile] });
  });
});
