import type { Extension } from '@medplum/fhirtypes';
import { statusOf, OperationOutcomeError } from '@carecircle/fhir';
import { addBusinessHours, BUSINESS_HOURS_URL, defaultBusinessHours, readBusinessHours } from './business-hours';
import { DEFAULT_REFERRAL_DEADLINES, followUpTimes, referralDeadlines } from './referral-deadlines';

const utc = defaultBusinessHours('UTC');

function hours(parts: Extension[]): Extension {
  return { url: BUSINESS_HOURS_URL, extension: parts };
}

function opening(days: string[], open: string, close: string): Extension {
  return {
    url: 'openingHours',
    extension: [...days.map((d) => ({ url: 'daysOfWeek', valueCode: d })), { url: 'openingTime', valueTime: open }, { url: 'closingTime', valueTime: close }],
  };
}

function refusal(run: () => unknown): { status: number; text: string } | 'ok' {
  try {
    run();
    return 'ok';
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return { status: statusOf(err.outcome), text: err.outcome.issue?.[0]?.details?.text ?? '' };
    }
    throw err;
  }
}

describe('business-hours arithmetic', () => {
  test('a routine referral sent Friday 17:00 is due Tuesday 17:00 (16 business hours of Mon-Fri 9-5)', () => {
    const friday = new Date('2026-12-04T17:00:00Z');
    const { acknowledgeBy } = referralDeadlines(friday, 'routine', utc, DEFAULT_REFERRAL_DEADLINES);
    expect(acknowledgeBy.toISOString()).toBe('2026-12-08T17:00:00.000Z');
  });

  test('time sent inside opening hours counts; weekends and nights do not', () => {
    expect(addBusinessHours(new Date('2026-12-04T15:00:00Z'), 4, utc).toISOString()).toBe('2026-12-07T11:00:00.000Z');
    expect(addBusinessHours(new Date('2026-12-05T12:00:00Z'), 1, utc).toISOString()).toBe('2026-12-07T10:00:00.000Z');
    expect(addBusinessHours(new Date('2026-12-07T08:00:00Z'), 8, utc).toISOString()).toBe('2026-12-07T17:00:00.000Z');
  });

  test('subtracting walks back over closed time (the reminder before a deadline)', () => {
    expect(addBusinessHours(new Date('2026-12-07T10:00:00Z'), -4, utc).toISOString()).toBe('2026-12-04T14:00:00.000Z');
    const times = followUpTimes(new Date('2026-12-08T17:00:00Z'), utc, DEFAULT_REFERRAL_DEADLINES);
    expect(times.remindAt.toISOString()).toBe('2026-12-08T13:00:00.000Z');
    expect(times.escalateAt.toISOString()).toBe('2026-12-08T17:00:00.000Z');
    expect(times.expireAt.toISOString()).toBe('2026-12-10T17:00:00.000Z');
  });

  test("the practice's zone, opening hours and holidays are followed, daylight saving included", () => {
    const berlin = readBusinessHours(
      hours([
        { url: 'timeZone', valueCode: 'Europe/Berlin' },
        opening(['mon', 'tue', 'wed', 'thu'], '08:00:00', '12:00:00'),
        opening(['mon', 'tue', 'wed', 'thu'], '13:00:00', '17:00:00'),
        opening(['fri'], '08:00:00', '12:00:00'),
        { url: 'holiday', valueDate: '2026-12-07' },
      ]),
      'UTC',
    );
    // Friday 2026-12-04 16:00 in Berlin (15:00Z): closed; Monday the 7th is a holiday; Tuesday 08:00-12:00 and 13:00-17:00.
    expect(addBusinessHours(new Date('2026-12-04T15:00:00Z'), 8, berlin).toISOString()).toBe('2026-12-08T16:00:00.000Z');
    // Friday 12:00 in Berlin (winter time, 11:00Z) is closing time; Monday 2026-03-30 opens 08:00 summer time (06:00Z).
    expect(addBusinessHours(new Date('2026-03-27T11:00:00Z'), 2, berlin).toISOString()).toBe('2026-03-30T08:00:00.000Z');
  });

  test('a calendar that is never open is refused rather than looping', () => {
    const closed = { ...utc, week: { mon: [], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] } };
    expect(() => addBusinessHours(new Date('2026-12-04T15:00:00Z'), 1, closed)).toThrow(RangeError);
  });
});

describe('reading the business-hours extension', () => {
  test('without openingHours the defaults hold in the given zone', () => {
    const read = readBusinessHours(hours([{ url: 'timeZone', valueCode: 'America/New_York' }]), 'UTC');
    expect(read.timeZone).toBe('America/New_York');
    expect(read.week.mon).toEqual([{ open: 540, close: 1020 }]);
    expect(read.week.sat).toEqual([]);
  });

  test.each([
    ['an unknown zone', [{ url: 'timeZone', valueCode: 'Mars/Olympus' }], 'IANA time zone'],
    ['a closing before the opening', [opening(['mon'], '17:00:00', '09:00:00')], 'later closingTime'],
    ['an unknown day', [opening(['monday'], '09:00:00', '17:00:00')], 'daysOfWeek'],
    ['overlapping hours', [opening(['mon'], '09:00:00', '13:00:00'), opening(['mon'], '12:00:00', '17:00:00')], 'overlap'],
    ['a holiday that is no date', [{ url: 'holiday', valueDate: '2026-12' }], 'holiday'],
    ['an unknown part', [{ url: 'lunch', valueString: 'noon' }], 'sub-extensions'],
    ['no parts at all', [], 'sub-extensions'],
  ])('%s is a 400 naming the problem', (_label, parts, words) => {
    const outcome = refusal(() => readBusinessHours(hours(parts as Extension[]), 'UTC'));
    expect(outcome).toMatchObject({ status: 400 });
    expect((outcome as { text: string }).text).toContain(words);
  });
});
