/**
 * The filters of "Who saw what", read from the GET form's query: a provider (by its `Organization/{id}` or
 * `Practitioner/{id}` reference: an id, no PHI) and a period as two GOV.UK date inputs (day, month, year). Checked
 * here (a problem per field, for the error summary), and turned into the API's AuditEvent search parameters (`agent`,
 * `date=ge..&date=lt..`, the days taken in the server's time zone, like the day headings of the list) and into the
 * portal's own query string for links (next page, CSV). The API's `_page` token is carried as `page`: it is sealed
 * and opaque (it says nothing of the record), and bound by the API to this caller and these parameters.
 */
import type { FieldProblem } from '../../views/components';
import { accounting } from '../../i18n/accounting';
import type { Language } from '../../i18n/catalogue';

const PROVIDER_PATTERN = /^(Organization|Practitioner|PractitionerRole)\/[A-Za-z0-9\-.]{1,64}$/;
const PAGE_TOKEN_PATTERN = /^[A-Za-z0-9_-]{1,2048}$/;

export const DATE_PARTS = ['day', 'month', 'year'] as const;
export type DatePart = (typeof DATE_PARTS)[number];
export type DateField = 'from' | 'to';

/** What the form holds, as typed (to show it again). */
export interface FilterValues {
  readonly provider: string;
  readonly from: Readonly<Record<DatePart, string>>;
  readonly to: Readonly<Record<DatePart, string>>;
}

/** A day (calendar date, no time zone). */
export interface Day {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

export interface AccountingFilters {
  readonly values: FilterValues;
  readonly provider: string | undefined;
  readonly from: Day | undefined;
  readonly to: Day | undefined;
  /** The API's page token, when the reader asked for a later page. */
  readonly page: string | undefined;
  readonly problems: readonly FieldProblem[];
}

type Query = Record<string, unknown>;

function first(query: Query, key: string): string {
  const value = query[key];
  const one = Array.isArray(value) ? value[0] : value;
  return typeof one === 'string' ? one.trim().slice(0, 200) : '';
}

/** Reads and checks the filters in `query`. */
export function parseFilters(query: Query, lang: Language): AccountingFilters {
  const t = accounting[lang];
  const values: FilterValues = {
    provider: first(query, 'provider'),
    from: { day: first(query, 'from-day'), month: first(query, 'from-month'), year: first(query, 'from-year') },
    to: { day: first(query, 'to-day'), month: first(query, 'to-month'), year: first(query, 'to-year') },
  };
  const problems: FieldProblem[] = [];
  if (values.provider !== '' && !PROVIDER_PATTERN.test(values.provider)) {
    problems.push({ field: 'provider', message: t.errorProvider });
  }
  const from = parseDay(values.from);
  if (from === 'incomplete') {
    problems.push({ field: 'from-day', message: t.errorFromIncomplete });
  } else if (from === 'invalid') {
    problems.push({ field: 'from-day', message: t.errorFromInvalid });
  }
  const to = parseDay(values.to);
  if (to === 'incomplete') {
    problems.push({ field: 'to-day', message: t.errorToIncomplete });
  } else if (to === 'invalid') {
    problems.push({ field: 'to-day', message: t.errorToInvalid });
  }
  const fromDay = typeof from === 'object' ? from : undefined;
  const toDay = typeof to === 'object' ? to : undefined;
  if (fromDay && toDay && dayStart(toDay) < dayStart(fromDay)) {
    problems.push({ field: 'to-day', message: t.errorToBeforeFrom });
  }
  const page = first(query, 'page');
  return {
    values,
    provider: values.provider !== '' && PROVIDER_PATTERN.test(values.provider) ? values.provider : undefined,
    from: fromDay,
    to: toDay,
    page: PAGE_TOKEN_PATTERN.test(page) ? page : undefined,
    problems,
  };
}

/** A date input's day; undefined when left blank; 'incomplete' or 'invalid' otherwise. */
export function parseDay(parts: Readonly<Record<DatePart, string>>): Day | undefined | 'incomplete' | 'invalid' {
  const filled = DATE_PARTS.filter((p) => parts[p] !== '');
  if (filled.length === 0) {
    return undefined;
  }
  if (filled.length < DATE_PARTS.length) {
    return 'incomplete';
  }
  if (!/^\d{1,2}$/.test(parts.day) || !/^\d{1,2}$/.test(parts.month) || !/^\d{4}$/.test(parts.year)) {
    return 'invalid';
  }
  const day = { year: Number(parts.year), month: Number(parts.month), day: Number(parts.day) };
  const date = new Date(day.year, day.month - 1, day.day);
  if (day.year < 1900 || date.getFullYear() !== day.year || date.getMonth() !== day.month - 1 || date.getDate() !== day.day) {
    return 'invalid';
  }
  return day;
}

/** The first instant of a day in the server's time zone (epoch ms). */
export function dayStart(day: Day): number {
  return new Date(day.year, day.month - 1, day.day).getTime();
}

/** The day (server's time zone) of an instant, as `YYYY-MM-DD`: the key that groups the list by day. */
export function dayKey(instant: string | number | Date): string {
  const d = new Date(instant);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** The AuditEvent search parameters for the filters (without the patient, sort, count or page). */
export function apiFilterParams(filters: AccountingFilters): [string, string][] {
  const params: [string, string][] = [];
  if (filters.provider) {
    params.push(['agent', filters.provider]);
  }
  if (filters.from) {
    params.push(['date', `ge${new Date(dayStart(filters.from)).toISOString()}`]);
  }
  if (filters.to) {
    const next = new Date(filters.to.year, filters.to.month - 1, filters.to.day + 1);
    params.push(['date', `lt${next.toISOString()}`]);
  }
  return params;
}

/** True when the reader narrowed the list. */
export function isFiltered(filters: AccountingFilters): boolean {
  return filters.provider !== undefined || filters.from !== undefined || filters.to !== undefined;
}

/** The portal's query string for the same filters (and optionally a page token), `?…` or ''. */
export function filterQuery(filters: AccountingFilters, page?: string): string {
  const query = new URLSearchParams();
  if (filters.provider) {
    query.set('provider', filters.provider);
  }
  for (const field of ['from', 'to'] as const) {
    const day = filters[field];
    if (day) {
      query.set(`${field}-day`, String(day.day));
      query.set(`${field}-month`, String(day.month));
      query.set(`${field}-year`, String(day.year));
    }
  }
  if (page) {
    query.set('page', page);
  }
  const text = query.toString();
  return text ? `?${text}` : '';
}
