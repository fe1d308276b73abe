import type { Task } from '@medplum/fhirtypes';
import { followUpConcept } from './follow-up-state';
import { median, percentile, referralMetrics, timelineOf } from './referral-metrics';

const H = 3_600_000;
const sent = Date.parse('2026-12-01T09:00:00Z');

function version(status: Task['status'], hoursAfter: number, extra: Partial<Task> = {}): Task {
  return {
    resourceType: 'Task',
    status,
    intent: 'order',
    authoredOn: new Date(sent).toISOString(),
    restriction: { period: { end: new Date(sent + 16 * H).toISOString() } },
    meta: { lastUpdated: new Date(sent + hoursAfter * H).toISOString() },
    ...extra,
  };
}

test('median (middle two averaged) and nearest-rank 90th percentile', () => {
  expect(median([5, 1, 3])).toBe(3);
  expect(median([4, 1, 3, 2])).toBe(2.5);
  expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9);
  expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 0.9)).toBe(10);
  expect(median([])).toBeUndefined();
  expect(percentile([], 0.9)).toBeUndefined();
});

test('acknowledgement is the first accept or reject; an expiry is none; completion the first completed', () => {
  const accepted = timelineOf([version('requested', 0), version('accepted', 2), version('in-progress', 3), version('completed', 50)], 'Organization/a');
  expect(accepted).toMatchObject({ sentAt: sent, acknowledgeBy: sent + 16 * H, acknowledgedAt: sent + 2 * H, completedAt: sent + 50 * H });
  const expired = timelineOf([version('requested', 0), version('failed', 40, { businessStatus: followUpConcept('expired') })], 'Organization/a');
  expect(expired?.acknowledgedAt).toBeUndefined();
});

test('per partner: counts, times in hours, overdue late or unanswered past the deadline', () => {
  const a = 'Organization/a';
  const b = 'Organization/b';
  const timelines = [
    timelineOf([version('requested', 0), version('accepted', 2), version('completed', 40)], a),
    timelineOf([version('requested', 0), version('rejected', 20)], a),
    timelineOf([version('requested', 0)], a),
    timelineOf([version('requested', 0)], b),
  ].flatMap((x) => (x ? [x] : []));
  // Now is 10 hours in: a's open one is not overdue yet; b's neither.
  expect(referralMetrics(timelines, sent + 10 * H)).toEqual([
    {
      partner: a,
      referrals: 3,
      acknowledged: 2,
      acknowledgementMedianHours: 11,
      acknowledgementP90Hours: 20,
      completed: 1,
      completionMedianHours: 40,
      completionP90Hours: 40,
      overdue: 1,
      overdueShare: 0.33,
    },
    { partner: b, referrals: 1, acknowledged: 0, completed: 0, overdue: 0, overdueShare: 0 },
  ]);
  // A day later the open ones are overdue too.
  expect(referralMetrics(timelines, sent + 24 * H).map((m) => [m.partner, m.overdue, m.overdueShare])).toEqual([
    [a, 2, 0.67],
    [b, 1, 1],
  ]);
});
