/**
 * The referral Task's state machine (contract, DESIGN.md), as harmonised in HL7 BSeR and the Gravity SDOH referral
 * Task, and who may make each move. Pure: the write rule in task-workflow-rule.ts applies it to stored Tasks.
 *
 *   requested -> received | accepted | rejected          (owner)
 *   received  -> accepted | rejected                     (owner)
 *   accepted  -> in-progress                             (owner)
 *   in-progress <-> on-hold                              (owner)
 *   in-progress | on-hold -> completed | failed          (owner)
 *   any open status -> cancelled                         (requester)
 *   any status but entered-in-error -> entered-in-error  (requester)
 *
 * The owner never cancels (BSeR): it declines with `rejected` before acceptance and reports `failed` after it. The
 * requester never moves the work forward. `draft` and `ready` are FHIR statuses this workflow does not use: a referral
 * Task is created `requested`, and the partner must accept before working on it.
 */
import type { Task } from '@medplum/fhirtypes';

/** A FHIR R4 Task status. */
export type TaskStatus = Task['status'];

/** Every Task status, in FHIR's order. */
export const TASK_STATUSES: readonly TaskStatus[] = [
  'draft',
  'requested',
  'received',
  'accepted',
  'rejected',
  'ready',
  'cancelled',
  'in-progress',
  'on-hold',
  'failed',
  'completed',
  'entered-in-error',
];

/** Who moves a Task: its owner (the partner the referral went to) or the requester's side (the referring practice). */
export type TaskParty = 'owner' | 'requester';

/** Statuses that need `statusReason` (contract): why the partner declined, gave up or paused. */
export const STATUSES_NEEDING_REASON: ReadonlySet<TaskStatus> = new Set<TaskStatus>(['rejected', 'failed', 'on-hold']);

/** What an update of a stored Task does. */
export type TaskChange =
  /** Same status, other fields (notes, businessStatus, output ...). */
  | { kind: 'amend'; status: TaskStatus }
  /** A status change. */
  | { kind: 'transition'; from: TaskStatus; to: TaskStatus };

/** True when `value` is a Task status code. */
export function isTaskStatus(value: unknown): value is TaskStatus {
  return typeof value === 'string' && (TASK_STATUSES as readonly string[]).includes(value);
}

/** Classifies an update of a stored Task with status `previous` to status `next`. */
export function classifyTaskChange(next: TaskStatus, previous: TaskStatus): TaskChange {
  return previous === next ? { kind: 'amend', status: next } : { kind: 'transition', from: previous, to: next };
}

/** Who may move a Task from `from` to `to`, or undefined when the workflow has no such move at all. */
export function transitionParty(from: TaskStatus, to: TaskStatus): TaskParty | undefined {
  if (ownerMoves(from).includes(to)) {
    return 'owner';
  }
  if (requesterMoves(from).includes(to)) {
    return 'requester';
  }
  return undefined;
}

/** True when no party can move the Task on except to mark it entered-in-error. */
export function isClosedStatus(status: TaskStatus): boolean {
  return ownerMoves(status).length === 0 && !requesterMoves(status).includes('cancelled');
}

/** The statuses the owner may move a Task to from `from`. */
export function ownerMoves(from: TaskStatus): readonly TaskStatus[] {
  switch (from) {
    case 'requested':
      return ['received', 'accepted', 'rejected'];
    case 'received':
      return ['accepted', 'rejected'];
    case 'accepted':
      return ['in-progress'];
    case 'in-progress':
      return ['on-hold', 'completed', 'failed'];
    case 'on-hold':
      return ['in-progress', 'completed', 'failed'];
    case 'draft':
    case 'ready':
    case 'rejected':
    case 'cancelled':
    case 'failed':
    case 'completed':
    case 'entered-in-error':
      return [];
    default:
      return from satisfies never;
  }
}

/** The statuses the requester's side may move a Task to from `from`. */
export function requesterMoves(from: TaskStatus): readonly TaskStatus[] {
  switch (from) {
    case 'requested':
    case 'received':
    case 'accepted':
    case 'in-progress':
    case 'on-hold':
      return ['cancelled', 'entered-in-error'];
    case 'draft':
    case 'ready':
    case 'rejected':
    case 'cancelled':
    case 'failed':
    case 'completed':
      return ['entered-in-error'];
    case 'entered-in-error':
      return [];
    default:
      return from satisfies never;
  }
}
