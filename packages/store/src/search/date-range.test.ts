import { parseDateRange, timestamptz } from './date-range';

/** The range as the text written to PostgreSQL. */
function rangeText(text: string): { low: string; high: string } | undefined {
  const range = parseDateRange(text);
  return range && { low: timestamptz(range.low), high: timestamptz(range.high) };
}

describe('parseDateRange', () => {
  test.each([
    ['2024', '2024-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z'],
    ['2024-02', '2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z'],
    ['2024-12-31', '2024-12-31T00:00:00.000Z', '2025-01-01T00:00:00.000Z'],
    ['2024-05-01T10:00', '2024-05-01T10:00:00.000Z', '2024-05-01T10:01:00.000Z'],
    ['2024-05-01T10:00:05+02:00', '2024-05-01T08:00:05.000Z', '2024-05-01T08:00:06.000Z'],
    ['2024-05-01T10:00:05.1Z', '2024-05-01T10:00:05.100Z', '2024-05-01T10:00:05.200Z'],
    ['2024-05-01T10:00:05.123456Z', '2024-05-01T10:00:05.123Z', '2024-05-01T10:00:05.124Z'],
    ['0050', '0050-01-01T00:00:00.000Z', '0051-01-01T00:00:00.000Z'],
    ['9999', '9999-01-01T00:00:00.000Z', '10000-01-01T00:00:00.000Z'],
  ])('%s covers [%s, %s)', (text, low, high) => {
    expect(rangeText(text)).toEqual({ low, high });
  });

  test.each([
    ['0001-01-01T00:00:00+14:00', '0001-12-31T10:00:00.000Z BC', '0001-12-31T10:00:01.000Z BC'],
    ['0001-01-01T13:59:59.5+14:00', '0001-12-31T23:59:59.500Z BC', '0001-12-31T23:59:59.600Z BC'],
    ['9999-12-31T23:59:59-14:00', '10000-01-01T13:59:59.000Z', '10000-01-01T14:00:00.000Z'],
    ['9999-12-31T10:00-14:00', '10000-01-01T00:00:00.000Z', '10000-01-01T00:01:00.000Z'],
  ])('%s, beyond years 1-9999 once in UTC, is kept exactly: [%s, %s)', (text, low, high) => {
    expect(rangeText(text)).toEqual({ low, high });
  });

  test.each([
    ['2016-12-31T23:59:60Z', '2016-12-31T23:59:59.999Z', '2017-01-01T00:00:00.000Z'],
    ['2016-12-31T23:59:60.25Z', '2016-12-31T23:59:59.999Z', '2017-01-01T00:00:00.000Z'],
    ['2017-01-01T00:59:60+01:00', '2016-12-31T23:59:59.999Z', '2017-01-01T00:00:00.000Z'],
  ])('the leap second %s is the last millisecond before it: [%s, %s)', (text, low, high) => {
    expect(rangeText(text)).toEqual({ low, high });
  });

  test.each(['', '24', '0000', '2024-13', '2023-02-29', '2024-01-01T25:00', '2024-01-01T10', '2024-01-01T10:00+15:00', '2024-01-01T10:00:61Z', 'now', '2024-01-01 10:00'])(
    'rejects %p',
    (text) => {
      expect(parseDateRange(text)).toBeUndefined();
    },
  );
});

describe('timestamptz', () => {
  test.each([
    [-Infinity, '-infinity'],
    [Infinity, 'infinity'],
    [Date.UTC(-5000, 0, 1), '-infinity'],
    [8.64e15 + 1, 'infinity'],
    [Date.UTC(-200, 5, 1, 12), '0201-06-01T12:00:00.000Z BC'],
    [Date.UTC(2024, 1, 29), '2024-02-29T00:00:00.000Z'],
  ])('%p is %p', (millis, text) => {
    expect(timestamptz(millis)).toBe(text);
  });
});
