/** The board's rules on their own: where a Task stands, what may be done, the order, the last message, durations. */
import type { Communication, Organization, Patient, ServiceRequest, Task } from '@medplum/fhirtypes';
import { actionsFor, boardStateOf, buildBoard, durationParts, FOLLOW_UP_SYSTEM, lastMessages } from './referral-board';

const NOW = new Date('2026-12-07T12:00:00Z');
const hours = (h: number) => new Date(NOW.getTime() + h * 3_600_000).toISOString();

function task(id: string, status: Task['status'], more: Partial<Task> = {}): Task {
  return {
    resourceType: 'Task',
    id,
    meta: { versionId: '1' },
    status,
    intent: 'order',
    for: { reference: 'Patient/p' },
    owner: { reference: 'Organization/o' },
    focus: { reference: `ServiceRequest/sr-${id}` },
    restriction: { period: { end: hours(24) } },
    ...more,
  };
}

describe('boardStateOf', () => {
  test.each<[Task['status'], Partial<Task>, string | undefined]>([
    ['requested', {}, 'waiting'],
    ['received', {}, 'waiting'],
    ['requested', { restriction: { period: { end: hours(-1) } } }, 'overdue'],
    ['accepted', {}, 'accepted'],
    ['in-progress', {}, 'in-progress'],
    ['on-hold', {}, 'in-progress'],
    ['completed', {}, 'completed'],
    ['failed', { businessStatus: { coding: [{ system: FOLLOW_UP_SYSTEM, code: 'expired' }] } }, 'expired'],
    ['failed', {}, 'closed'],
    ['rejected', {}, 'closed'],
    ['cancelled', {}, 'closed'],
    ['entered-in-error', {}, undefined],
  ])('%s %j -> %s', (status, more, expected) => {
    expect(boardStateOf(task('t', status, more), NOW)).toBe(expected);
  });

  test('a deadline that is exactly now has passed', () => {
    expect(boardStateOf(task('t', 'requested', { restriction: { period: { end: NOW.toISOString() } } }), NOW)).toBe('overdue');
  });
});

test('actions: remind and cancel while open, re-send when stuck or closed, nothing once completed', () => {
  expect(actionsFor('overdue')).toEqual({ remind: true, cancel: true, resend: true });
  expect(actionsFor('in-progress')).toEqual({ remind: true, cancel: true, resend: false });
  expect(actionsFor('closed')).toEqual({ remind: false, cancel: false, resend: true });
  expect(actionsFor('completed')).toEqual({ remind: false, cancel: false, resend: false });
});

test('the board groups by state in board order, soonest deadline first, with names from the included resources', () => {
  const included = [
    { resourceType: 'Patient', id: 'p', name: [{ given: ['Jordan'], family: 'Lee' }] } satisfies Patient,
    { resourceType: 'Organization', id: 'o', name: 'Harbour Clinic' } satisfies Organization,
    { resourceType: 'ServiceRequest', id: 'sr-a', status: 'active', intent: 'order', subject: { reference: 'Patient/p' }, code: { text: 'Hormone panel' } } satisfies ServiceRequest,
  ];
  const groups = buildBoard(
    [
      task('a', 'requested', { restriction: { period: { end: hours(30) } } }),
      task('b', 'requested', { restriction: { period: { end: hours(2) } } }),
      task('c', 'requested', { restriction: { period: { end: hours(-5) } } }),
      task('d', 'completed'),
      task('e', 'entered-in-error'),
    ],
    included,
    [],
    NOW,
  );
  expect(groups.map((g) => [g.state, g.referrals.map((r) => r.taskId)])).toEqual([
    ['overdue', ['c']],
    ['waiting', ['b', 'a']],
    ['completed', ['d']],
  ]);
  const a = groups[1]?.referrals[1];
  expect(a).toMatchObject({ clientName: 'Jordan Lee', partnerName: 'Harbour Clinic', reason: 'Hormone panel', msToDeadline: 30 * 3_600_000 });
  expect(groups[2]?.referrals[0]?.msToDeadline).toBeUndefined();
});

test('the last message is the newest reply or message about the Task; a reminder has no sender', () => {
  const tasks = [task('a', 'requested'), task('b', 'accepted')];
  const message = (id: string, sent: string, links: Partial<Communication>, text: string): Communication => ({
    resourceType: 'Communication',
    id,
    status: 'completed',
    sent,
    payload: [{ contentString: text }],
    ...links,
  });
  const last = lastMessages(
    tasks,
    [
      message('1', hours(-10), { about: [{ reference: 'Task/a' }] }, 'old reminder'),
      message('2', hours(-1), { about: [{ reference: 'Task/a' }] }, 'new reminder'),
      message('3', hours(-2), { basedOn: [{ reference: 'ServiceRequest/sr-b' }], sender: { reference: 'Organization/o', display: 'Clinic' } }, 'booked'),
      message('4', hours(-1), { about: [{ reference: 'Task/elsewhere' }] }, 'not ours'),
    ],
    new Map(),
  );
  expect(last.get('a')).toEqual({ sent: hours(-1), from: undefined, text: 'new reminder' });
  expect(last.get('b')).toEqual({ sent: hours(-2), from: 'Clinic', text: 'booked' });
  expect(last.size).toBe(2);
});

test.each([
  [3 * 86_400_000 + 5_000, { value: 3, unit: 'day' }],
  [30 * 3_600_000, { value: 30, unit: 'hour' }],
  [-3 * 3_600_000 - 60_000, { value: 3, unit: 'hour' }],
  [10_000, { value: 1, unit: 'minute' }],
  [-45 * 60_000, { value: 45, unit: 'minute' }],
])('durationParts(%d)', (ms, expected) => {
  expect(durationParts(ms)).toEqual(expected);
});
