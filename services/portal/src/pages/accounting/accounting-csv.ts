/**
 * The accounting as a CSV file for a spreadsheet: RFC 4180 (CRLF line ends, a field quoted when it holds a quote,
 * comma or line break, quotes doubled), UTF-8 with a byte-order mark so spreadsheet programs read the accents, and
 * guarded against formula injection: a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return (a name
 * a provider chose, say) is prefixed with a single quote, so no spreadsheet runs it as a formula (OWASP, "CSV
 * Injection"). The column headers and words follow the page's language; the date-time is ISO 8601 (UTC).
 */
import { accounting } from '../../i18n/accounting';
import type { Language } from '../../i18n/catalogue';
import { categoryName } from '../../i18n/categories';
import type { AccountingEntry } from './accounting-entry';

const BOM = '\uFEFF';
const CRLF = '\r\n';

/** The whole file (BOM, header row, one row per entry). */
export function accountingCsv(entries: readonly AccountingEntry[], lang: Language): string {
  const t = accounting[lang];
  const rows = [t.csvHeaders, ...entries.map((entry) => csvRow(entry, lang))];
  return BOM + rows.map((row) => row.map(csvCell).join(',')).join(CRLF) + CRLF;
}

/** The cells of one entry, in the order of the headers. */
export function csvRow(entry: AccountingEntry, lang: Language): string[] {
  const t = accounting[lang];
  const { actor } = entry;
  const provider = actor.kind === 'operator' ? 'CareCircle' : (actor.provider ?? t.csvProviderUnknown);
  const who =
    actor.kind === 'operator' ? t.csvWhoOperator : actor.kind === 'person' ? (actor.person ? t.csvWhoPerson(actor.person) : t.csvWhoPersonUnnamed) : t.csvWhoSystem;
  return [
    new Date(entry.recorded).toISOString(),
    provider,
    who,
    t.csvWhat[entry.interaction],
    entry.categories.map((c) => categoryName(c, lang)).join('; '),
    String(entry.items),
    entry.outcome === 'allowed' ? t.csvAllowed : t.csvDenied,
    entry.outcome === 'denied' ? String(entry.times) : '',
    entry.consent ? consentDay(entry.consent.date) : '',
  ];
}

/** One field: guarded against formulas, then quoted when RFC 4180 needs it. */
export function csvCell(value: string): string {
  const guarded = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replace(/"/g, '""')}"` : guarded;
}

/** The day of a consent version (YYYY-MM-DD), from a date or date-time. */
function consentDay(value: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? value : new Date(value).toISOString().slice(0, 10);
}
