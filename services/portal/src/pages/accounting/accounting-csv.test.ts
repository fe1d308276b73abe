/**
 * The CSV download: RFC 4180 quoting, formula injection guarded, a byte-order mark, CRLF line ends, headers and words
 * in the page's language, and one row per entry with its ISO 8601 date-time.
 */
import type { AccountingEntry } from './accounting-entry';
import { accountingCsv, csvCell } from './accounting-csv';

const allowed: AccountingEntry = {
  id: 'e1',
  recorded: '2026-12-03T10:15:00.000Z',
  outcome: 'allowed',
  actor: { kind: 'system', provider: 'Harbour Women’s Health, "OB-GYN"' },
  providerReference: 'Organization/o1',
  interaction: 'summary',
  categories: ['treatment-goals', 'medications'],
  items: 3,
  times: 0,
  consent: { id: 'c1', date: '2026-11-01T09:00:00.000Z' },
};

const denied: AccountingEntry = {
  id: 'e2',
  recorded: '2026-12-02T08:00:00.000Z',
  outcome: 'denied',
  actor: { kind: 'person', person: '=HYPERLINK("http://evil")', provider: '@Lakeside Urology' },
  providerReference: 'Organization/o2',
  interaction: 'read',
  categories: ['trauma-history'],
  items: 1,
  times: 1000,
  consent: undefined,
};

describe('csvCell', () => {
  test.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['=1+2', "'=1+2"],
    ['+33 1 23', "'+33 1 23"],
    ['-5', "'-5"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tcmd', "'\tcmd"],
    ['=A1,"x"', `"'=A1,""x"""`],
    ['', ''],
  ])('%j -> %j', (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });
});

describe('accountingCsv', () => {
  test('a BOM, the headers, one row per entry, CRLF line ends, quoting and the injection guard', () => {
    const csv = accountingCsv([allowed, denied], 'en');
    expect(csv.startsWith('\uFEFF')).toBe(true);
    const lines = csv.slice(1).split('\r\n');
    expect(lines).toEqual([
      'Date and time,Provider,Who,What,Categories,Items,Outcome,Times,Consent date',
      '2026-12-03T10:15:00.000Z,"Harbour Women’s Health, ""OB-GYN""",System,Received a summary,Your goals; Medicines,3,allowed,,2026-11-01',
      `2026-12-02T08:00:00.000Z,'@Lakeside Urology,"Person: =HYPERLINK(""http://evil"")",Looked at,Trauma history,1,not allowed,1000,`,
      '',
    ]);
  });

  test('the headers and words follow the page’s language', () => {
    const lines = accountingCsv([denied], 'es').slice(1).split('\r\n');
    expect(lines[0]).toBe('Fecha y hora,Proveedor,Quién,Qué,Categorías,Elementos,Resultado,Veces,Fecha del permiso');
    expect(lines[1]).toContain('Consultó,Historia de trauma,1,no permitido,1000,');
  });

  test('an empty list is the header row alone', () => {
    expect(accountingCsv([], 'en')).toBe('\uFEFFDate and time,Provider,Who,What,Categories,Items,Outcome,Times,Consent date\r\n');
  });
});
