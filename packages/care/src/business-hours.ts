/**
 * A practice's business hours and arithmetic in them, so a referral's deadlines count working time only: a referral
 * sent on Friday evening is not overdue on Sunday. The hours live on the practice Organization in the extension
 * `https://carecircle.dev/fhir/StructureDefinition/business-hours` (fhir-profiles/, shaped like R4's
 * Location.hoursOfOperation):
 *
 *   { url: BUSINESS_HOURS_URL, extension: [
 *       { url: 'timeZone', valueCode: 'Europe/Berlin' },                        0..1, an IANA zone
 *       { url: 'openingHours', extension: [                                    0..*
 *           { url: 'daysOfWeek', valueCode: 'mon' }, ...                        1..*, mon | tue | ... | sun
 *           { url: 'openingTime', valueTime: '09:00:00' },                      1..1
 *           { url: 'closingTime', valueTime: '17:00:00' } ] },                  1..1, after the opening
 *       { url: 'holiday', valueDate: '2026-12-25' } ] }                         0..*, closed all day
 *
 * Without the extension (or without openingHours) the defaults apply: Monday to Friday 09:00 to 17:00 in the
 * configured zone (REFERRAL_TIME_ZONE). Time zones are Intl's (Node ships full ICU), so daylight saving is followed:
 * a business hour is an hour of the wall clock inside opening hours.
 */
import type { Extension, Organization } from '@medplum/fhirtypes';
import { CARECIRCLE_CANONICAL_BASE } from '@carecircle/fhir';
import type { WriteRule } from '@carecircle/store';
import { refuseInvalid } from './care-outcomes';

/** The extension on the practice Organization that holds its business hours. */
export const BUSINESS_HOURS_URL = `${CARECIRCLE_CANONICAL_BASE}/StructureDefinition/business-hours`;

/** Days as FHIR's days-of-week codes name them, in ISO order (Monday first). */
export const DAYS_OF_WEEK = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type DayOfWeek = (typeof DAYS_OF_WEEK)[number];

/** One opening interval of a day, in minutes after local midnight: [open, close). */
export interface OpeningInterval {
  open: number;
  close: number;
}

/** A practice's working calendar. */
export interface BusinessHours {
  /** IANA time zone the opening hours and holidays are in. */
  timeZone: string;
  /** Opening intervals per day (sorted, not overlapping); a day without any is closed. */
  week: Readonly<Record<DayOfWeek, readonly OpeningInterval[]>>;
  /** Local dates (YYYY-MM-DD) closed all day. */
  holidays: ReadonlySet<string>;
}

const WEEKDAY_NINE_TO_FIVE: readonly OpeningInterval[] = [{ open: 9 * 60, close: 17 * 60 }];

/** The documented default: Monday to Friday 09:00 to 17:00 in `timeZone`, no holidays. */
export function defaultBusinessHours(timeZone: string): BusinessHours {
  return {
    timeZone,
    week: { mon: WEEKDAY_NINE_TO_FIVE, tue: WEEKDAY_NINE_TO_FIVE, wed: WEEKDAY_NINE_TO_FIVE, thu: WEEKDAY_NINE_TO_FIVE, fri: WEEKDAY_NINE_TO_FIVE, sat: [], sun: [] },
    holidays: new Set(),
  };
}

/** True when `timeZone` is an IANA zone Intl knows. */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The business hours of `organization`: its business-hours extension read over the defaults of `defaultTimeZone`.
 * A malformed extension is a 400 naming what is wrong (expression `Organization.extension`): the write rule
 * {@link checkBusinessHours} keeps such an extension from being stored, so a stored one always reads.
 */
export function businessHoursOf(organization: Organization | undefined, defaultTimeZone: string): BusinessHours {
  const extension = organization?.extension?.find((e) => e.url === BUSINESS_HOURS_URL);
  return extension ? readBusinessHours(extension, defaultTimeZone) : defaultBusinessHours(defaultTimeZone);
}

/** Parses the business-hours extension (see the module header); 400 for anything malformed. */
export function readBusinessHours(extension: Extension, defaultTimeZone: string): BusinessHours {
  const parts = Array.isArray(extension.extension) ? extension.extension : [];
  if (parts.length === 0 || hasValue(extension)) {
    refuse('it has sub-extensions timeZone, openingHours and holiday, and no value');
  }
  let timeZone = defaultTimeZone;
  const week: Record<DayOfWeek, OpeningInterval[]> = { mon: [], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] };
  let anyOpening = false;
  const holidays = new Set<string>();
  let zoneSeen = false;
  for (const part of parts) {
    switch (part?.url) {
      case 'timeZone':
        if (zoneSeen || typeof part.valueCode !== 'string' || !isTimeZone(part.valueCode)) {
          refuse('timeZone appears at most once, as a valueCode naming an IANA time zone (e.g. Europe/Berlin)');
        }
        zoneSeen = true;
        timeZone = part.valueCode;
        break;
      case 'openingHours': {
        const { days, interval } = readOpeningHours(part);
        for (const day of days) {
          week[day].push(interval);
        }
        anyOpening = true;
        break;
      }
      case 'holiday':
        if (typeof part.valueDate !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(part.valueDate)) {
          refuse('holiday is a valueDate with a full date (YYYY-MM-DD)');
        }
        holidays.add(part.valueDate);
        break;
      default:
        refuse('its sub-extensions are timeZone, openingHours and holiday only');
    }
  }
  const defaults = defaultBusinessHours(timeZone);
  if (!anyOpening) {
    return { ...defaults, holidays };
  }
  for (const day of DAYS_OF_WEEK) {
    const intervals = week[day].sort((a, b) => a.open - b.open);
    if (intervals.some((interval, i) => i > 0 && interval.open < (intervals[i - 1] as OpeningInterval).close)) {
      refuse(`the openingHours of ${day} overlap`);
    }
  }
  return { timeZone, week, holidays };
}

function readOpeningHours(part: Extension): { days: DayOfWeek[]; interval: OpeningInterval } {
  const inner = Array.isArray(part.extension) ? part.extension : [];
  const days: DayOfWeek[] = [];
  let open: number | undefined;
  let close: number | undefined;
  for (const item of inner) {
    switch (item?.url) {
      case 'daysOfWeek':
        if (!(DAYS_OF_WEEK as readonly string[]).includes(item.valueCode ?? '')) {
          refuse('openingHours.daysOfWeek is a valueCode: mon, tue, wed, thu, fri, sat or sun');
        }
        days.push(item.valueCode as DayOfWeek);
        break;
      case 'openingTime':
      case 'closingTime': {
        const minutes = minutesOf(item.valueTime);
        const already = item.url === 'openingTime' ? open : close;
        if (minutes === undefined || already !== undefined) {
          refuse(`openingHours.${item.url} appears once, a valueTime (HH:MM:SS)`);
        }
        if (item.url === 'openingTime') {
          open = minutes;
        } else {
          close = minutes === 0 ? 24 * 60 : minutes;
        }
        break;
      }
      default:
        refuse('openingHours has sub-extensions daysOfWeek, openingTime and closingTime only');
    }
  }
  if (days.length === 0 || open === undefined || close === undefined || close <= open) {
    refuse('each openingHours names at least one daysOfWeek, an openingTime and a later closingTime');
  }
  return { days, interval: { open, close } };
}

function minutesOf(time: unknown): number | undefined {
  const match = typeof time === 'string' ? /^([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(\.\d+)?$/.exec(time) : null;
  return match ? Number(match[1]) * 60 + Number(match[2]) : undefined;
}

function hasValue(extension: Extension): boolean {
  return Object.keys(extension).some((key) => key.startsWith('value'));
}

function refuse(what: string): never {
  return refuseInvalid(`The business-hours extension (${BUSINESS_HOURS_URL}) is malformed: ${what}`, 'Organization.extension');
}

// ---- Arithmetic -------------------------------------------------------------------------------------------------

/** A civil date. */
interface LocalDate {
  year: number;
  month: number;
  day: number;
}

const MINUTE_MS = 60_000;
/** How far the arithmetic looks for open time before giving up (a calendar that is never open). */
const MAX_DAYS = 3 * 366;

/**
 * `start` plus `hours` business hours of `calendar` (negative: minus). Time outside opening hours does not count, so
 * a deadline falls inside them: Friday 17:00 plus 16 hours of a Monday-to-Friday 9-to-5 week is Tuesday 17:00. Throws
 * a RangeError when the calendar is never open (no opening interval within three years).
 */
export function addBusinessHours(start: Date, hours: number, calendar: BusinessHours): Date {
  if (!Number.isFinite(hours)) {
    throw new RangeError('hours must be a finite number');
  }
  const ms = Math.round(hours * 3_600_000);
  return ms >= 0 ? forward(start.getTime(), ms, calendar) : backward(start.getTime(), -ms, calendar);
}

function forward(startMs: number, remainingMs: number, calendar: BusinessHours): Date {
  let remaining = remainingMs;
  let cursor = startMs;
  let date = localDateOf(startMs, calendar.timeZone);
  for (let i = 0; i < MAX_DAYS; i++) {
    for (const { start, end } of openIntervals(date, calendar)) {
      const from = Math.max(cursor, start);
      if (from >= end) {
        continue;
      }
      if (remaining <= end - from) {
        return new Date(from + remaining);
      }
      remaining -= end - from;
      cursor = end;
    }
    date = nextDate(date, 1);
  }
  throw new RangeError('the business hours are never open');
}

function backward(startMs: number, remainingMs: number, calendar: BusinessHours): Date {
  let remaining = remainingMs;
  let cursor = startMs;
  let date = localDateOf(startMs, calendar.timeZone);
  for (let i = 0; i < MAX_DAYS; i++) {
    for (const { start, end } of [...openIntervals(date, calendar)].reverse()) {
      const to = Math.min(cursor, end);
      if (to <= start) {
        continue;
      }
      if (remaining <= to - start) {
        return new Date(to - remaining);
      }
      remaining -= to - start;
      cursor = start;
    }
    date = nextDate(date, -1);
  }
  throw new RangeError('the business hours are never open');
}

/** The open intervals of local date `date` as instants (epoch ms), in order; none on a holiday. */
function openIntervals(date: LocalDate, calendar: BusinessHours): { start: number; end: number }[] {
  if (calendar.holidays.has(isoDate(date))) {
    return [];
  }
  const day = DAYS_OF_WEEK[(new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay() + 6) % 7] as DayOfWeek;
  return calendar.week[day].map(({ open, close }) => ({
    start: instantOf(date, open, calendar.timeZone),
    end: instantOf(date, close, calendar.timeZone),
  }));
}

function isoDate({ year, month, day }: LocalDate): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

function nextDate({ year, month, day }: LocalDate, days: number): LocalDate {
  const d = new Date(Date.UTC(year, month - 1, day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall clock of `ms` in `timeZone`, as if it were UTC (epoch ms), and its civil date. */
function wallClock(ms: number, timeZone: string): { wallMs: number; date: LocalDate } {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(ms))) {
    if (part.type !== 'literal') {
      parts[part.type] = Number(part.value);
    }
  }
  const date = { year: parts.year ?? 1970, month: parts.month ?? 1, day: parts.day ?? 1 };
  const wallMs = Date.UTC(date.year, date.month - 1, date.day, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0);
  return { wallMs, date };
}

function localDateOf(ms: number, timeZone: string): LocalDate {
  return wallClock(ms, timeZone).date;
}

/**
 * The instant at which the wall clock of `timeZone` shows `minutes` after midnight of `date`. In a daylight-saving gap
 * the wall time does not exist and the instant after the gap is taken; in an overlap, the first.
 */
function instantOf(date: LocalDate, minutes: number, timeZone: string): number {
  const wall = Date.UTC(date.year, date.month - 1, date.day) + minutes * MINUTE_MS;
  const guess = wall - offsetAt(wall, timeZone);
  const second = wall - offsetAt(guess, timeZone);
  if (second === guess || wallClock(second, timeZone).wallMs === wall) {
    return second;
  }
  // In a gap neither shows the wall time: the later one is the instant just after the gap.
  return Math.max(guess, second);
}

/** The zone's offset from UTC at instant `ms`, in ms. */
function offsetAt(ms: number, timeZone: string): number {
  const whole = Math.floor(ms / 1000) * 1000;
  return wallClock(whole, timeZone).wallMs - whole;
}

/**
 * The write rule that keeps a malformed business-hours extension from being stored on an Organization (400 naming
 * what is wrong, expression `Organization.extension`), whoever writes it and however: deadlines computed from a stored
 * one must never meet a surprise. The zone given does not matter here, only the shape.
 */
export const checkBusinessHours: WriteRule = (next) => {
  if (next.resourceType !== 'Organization') {
    return;
  }
  const extensions = (Array.isArray(next.extension) ? next.extension : []).filter((e) => e?.url === BUSINESS_HOURS_URL);
  if (extensions.length > 1) {
    refuse('an Organization carries it at most once');
  }
  if (extensions[0]) {
    readBusinessHours(extensions[0], 'UTC');
  }
};
