/**
 * FHIR dates as ranges. A date, dateTime or instant stands for the whole interval its precision covers (`2024` is all of
 * 2024, `2024-05-01T10:00` a whole minute), stored and searched as a half-open [low, high) pair of instants. Values
 * without a time zone are read as UTC, so a value near the ends of FHIR's years 0001-9999 may fall in year 0 or 10000
 * once its offset is applied (`0001-01-01T00:00:00+14:00`); {@link timestamptz} writes those as PostgreSQL reads them.
 * A leap second (`23:59:60`) is the last millisecond of the second before it.
 */

/** A half-open interval of instants in epoch milliseconds; -Infinity / Infinity for open ends. */
export interface DateRange {
  low: number;
  high: number;
}

const DATE_PATTERN =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/**
 * The range a FHIR date/dateTime/instant covers, or undefined when the text is not one (wrong shape, impossible
 * calendar date, time without minutes).
 */
export function parseDateRange(text: string): DateRange | undefined {
  const m = DATE_PATTERN.exec(text);
  if (!m) {
    return undefined;
  }
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  const month = mo === undefined ? 1 : Number(mo);
  const day = d === undefined ? 1 : Number(d);
  const hour = h === undefined ? 0 : Number(h);
  const minute = mi === undefined ? 0 : Number(mi);
  const second = s === undefined ? 0 : Number(s);
  const millis = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return undefined;
  }
  if (hour > 23 || minute > 59 || second > 60) {
    return undefined;
  }
  const offsetMinutes = zone === undefined || zone === 'Z' ? 0 : parseOffset(zone);
  if (offsetMinutes === undefined) {
    return undefined;
  }
  if (second === 60) {
    // FHIR's pattern admits leap seconds; UTC instants as PostgreSQL and JavaScript keep them have none.
    const last = utcMillis(year, month - 1, day, hour, minute, 59, 999) - offsetMinutes * 60_000;
    return { low: last, high: last + 1 };
  }
  const start = utcMillis(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
  let end: number;
  if (mo === undefined) {
    end = utcMillis(year + 1, 0, 1, 0, 0, 0, 0);
  } else if (d === undefined) {
    end = utcMillis(year, month, 1, 0, 0, 0, 0);
  } else if (h === undefined) {
    end = utcMillis(year, month - 1, day + 1, 0, 0, 0, 0);
  } else if (s === undefined) {
    end = start + 60_000;
  } else if (frac === undefined) {
    end = start + 1000;
  } else {
    // Sub-millisecond digits are beyond what we keep: the value's millisecond is its range.
    end = start + Math.max(1, 10 ** (3 - Math.min(frac.length, 3)));
  }
  return { low: start, high: end };
}

function parseOffset(zone: string): number | undefined {
  const sign = zone.startsWith('-') ? -1 : 1;
  const hours = Number(zone.slice(1, 3));
  const minutes = Number(zone.slice(4, 6));
  if (hours > 14 || minutes > 59 || (hours === 14 && minutes > 0)) {
    return undefined;
  }
  return sign * (hours * 60 + minutes);
}

function daysInMonth(year: number, month: number): number {
  return new Date(utcMillis(year, month, 0, 0, 0, 0, 0)).getUTCDate();
}

/** Milliseconds since the epoch of a UTC wall-clock time; out-of-range months and days roll over (Date.UTC would
 * also shift years below 100 into the 1900s). */
function utcMillis(year: number, monthIndex: number, day: number, h: number, mi: number, s: number, ms: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, monthIndex, day);
  date.setUTCHours(h, mi, s, ms);
  return date.getTime();
}

// PostgreSQL's earliest timestamptz is in 4714 BC (its latest, in 294276, is beyond JavaScript's last instant).
const EARLIEST_TIMESTAMPTZ = Date.UTC(-4712, 0, 1);

/**
 * `millis` as text PostgreSQL reads as a timestamptz: ISO 8601 in UTC, years before 1 with its `BC` suffix (ISO year 0
 * is 1 BC) and years after 9999 with five digits and no sign, `-infinity` / `infinity` for the open ends.
 */
export function timestamptz(millis: number): string {
  if (Number.isNaN(millis)) {
    throw new RangeError('Not an instant');
  }
  if (millis < EARLIEST_TIMESTAMPTZ) {
    return '-infinity';
  }
  const date = new Date(millis);
  if (Number.isNaN(date.getTime())) {
    // Infinity, or past JavaScript's last instant (year 275760).
    return 'infinity';
  }
  const year = date.getUTCFullYear();
  const time = date.toISOString().slice(date.toISOString().indexOf('T'));
  const monthDay = `${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)}`;
  return year >= 1 ? `${pad(year, 4)}-${monthDay}${time}` : `${pad(1 - year, 4)}-${monthDay}${time} BC`;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}
