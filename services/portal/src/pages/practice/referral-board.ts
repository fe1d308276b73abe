/**
 * The referrals board's view data, built from what the loader fetched (the practitioner's referral Tasks with their
 * ServiceRequests, partners and clients, and the messages about them): each referral's state on the board, the time
 * to its acknowledgement deadline, the partner, the client and the last message, grouped by state. Pure: no API
 * calls, no clock of its own (`now` is passed), so each rule is tested on its own.
 *
 * States (issue 13): waiting for acknowledgement (requested or received, deadline ahead), overdue (deadline passed),
 * accepted, in progress (in-progress or on-hold), completed, expired (failed with the follow-up code `expired`), and
 * declined or stopped (rejected, cancelled, failed otherwise). A Task entered in error is not on the board.
 */
import type { Communication, Organization, Patient, Practitioner, PractitionerRole, Reference, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import { SHARE_CATEGORY_SYSTEM } from '../../i18n/categories';
import { personName } from '../sharing/recipient-directory';

/**
 * The referral follow-up states the API records in `Task.businessStatus` (DESIGN.md, "Referrals and care plans"). The
 * portal keeps its own copy of the contract's URL: it imports no domain package.
 */
export const FOLLOW_UP_SYSTEM = 'https://carecircle.dev/fhir/CodeSystem/referral-follow-up';
export type FollowUp = 'on-time' | 'reminded' | 'escalated' | 'expired';
const FOLLOW_UPS: readonly FollowUp[] = ['on-time', 'reminded', 'escalated', 'expired'];

/** A referral's place on the board, in the order the board shows them. */
export const BOARD_STATES = ['overdue', 'waiting', 'accepted', 'in-progress', 'expired', 'completed', 'closed'] as const;
export type BoardState = (typeof BOARD_STATES)[number];

/** What the practitioner may do with a referral in a state. */
export interface ReferralActions {
  readonly remind: boolean;
  readonly cancel: boolean;
  readonly resend: boolean;
}

/** The last message about a referral: when, from whom (undefined: CareCircle itself, a reminder), and its words. */
export interface LastMessage {
  readonly sent: string | undefined;
  readonly from: string | undefined;
  readonly text: string | undefined;
}

export interface BoardReferral {
  readonly taskId: string;
  readonly state: BoardState;
  /** The Task's version, for an If-Match when cancelling. */
  readonly version: string | undefined;
  readonly clientName: string | undefined;
  readonly partnerName: string | undefined;
  /** What the referral asks for, in the therapist's words (ServiceRequest.code's text). */
  readonly reason: string | undefined;
  /** The acknowledgement deadline (Task.restriction.period.end). */
  readonly due: string | undefined;
  /** Milliseconds to the deadline (negative once passed); undefined without one or once acknowledged. */
  readonly msToDeadline: number | undefined;
  readonly followUp: FollowUp | undefined;
  /** Why it was declined, stopped or failed (Task.statusReason's text). */
  readonly statusReason: string | undefined;
  readonly lastMessage: LastMessage | undefined;
  readonly actions: ReferralActions;
}

export interface BoardGroup {
  readonly state: BoardState;
  readonly referrals: readonly BoardReferral[];
}

/** The referral Task's follow-up code, when it carries one of the contract's. */
export function followUpOf(task: Task): FollowUp | undefined {
  const code = task.businessStatus?.coding?.find((c) => c.system === FOLLOW_UP_SYSTEM)?.code;
  return FOLLOW_UPS.find((f) => f === code);
}

/** Where a referral Task stands on the board at `now`; undefined for one that is not on it. */
export function boardStateOf(task: Task, now: Date): BoardState | undefined {
  switch (task.status) {
    case 'requested':
    case 'received': {
      const due = task.restriction?.period?.end;
      return due !== undefined && Date.parse(due) <= now.getTime() ? 'overdue' : 'waiting';
    }
    case 'accepted':
      return 'accepted';
    case 'in-progress':
    case 'on-hold':
      return 'in-progress';
    case 'completed':
      return 'completed';
    case 'failed':
      return followUpOf(task) === 'expired' ? 'expired' : 'closed';
    case 'rejected':
    case 'cancelled':
      return 'closed';
    case 'draft':
    case 'ready':
    case 'entered-in-error':
      return undefined;
    default:
      return task.status satisfies never;
  }
}

/** What may be done in `state`: remind and cancel while the referral is open, re-send once it is stuck or closed. */
export function actionsFor(state: BoardState): ReferralActions {
  switch (state) {
    case 'waiting':
      return { remind: true, cancel: true, resend: true };
    case 'overdue':
      return { remind: true, cancel: true, resend: true };
    case 'accepted':
    case 'in-progress':
      return { remind: true, cancel: true, resend: false };
    case 'expired':
    case 'closed':
      return { remind: false, cancel: false, resend: true };
    case 'completed':
      return { remind: false, cancel: false, resend: false };
    default:
      return state satisfies never;
  }
}

/** The share category of a referral (its ServiceRequest's, else its Task's tag), for a new referral and the 422 words. */
export function shareCategoryOf(resource: Resource | undefined): string | undefined {
  return resource?.meta?.tag?.find((t) => t.system === SHARE_CATEGORY_SYSTEM)?.code;
}

/** `Type/id` of a resource. */
function refOf(resource: Resource): string {
  return `${resource.resourceType}/${resource.id ?? ''}`;
}

/** The name of whoever a reference names (an Organization, a Practitioner, a PractitionerRole, a Patient). */
export function nameOf(reference: Reference | undefined, byRef: ReadonlyMap<string, Resource>): string | undefined {
  const ref = reference?.reference;
  const resource = ref ? byRef.get(ref) : undefined;
  switch (resource?.resourceType) {
    case 'Organization':
      return (resource as Organization).name?.trim() || reference?.display;
    case 'Practitioner':
      return personName((resource as Practitioner).name) ?? reference?.display;
    case 'Patient':
      return personName((resource as Patient).name) ?? reference?.display;
    case 'PractitionerRole': {
      const role = resource as PractitionerRole;
      return nameOf(role.practitioner, byRef) ?? nameOf(role.organization, byRef) ?? reference?.display;
    }
    default:
      return reference?.display?.trim() || undefined;
  }
}

/** The newest message about each Task: replies based on its ServiceRequest, and messages `about` the Task itself. */
export function lastMessages(tasks: readonly Task[], messages: readonly Communication[], byRef: ReadonlyMap<string, Resource>): Map<string, LastMessage> {
  const taskOfRef = new Map<string, string>();
  for (const task of tasks) {
    if (!task.id) {
      continue;
    }
    taskOfRef.set(`Task/${task.id}`, task.id);
    const focus = task.focus?.reference;
    if (focus?.startsWith('ServiceRequest/')) {
      taskOfRef.set(focus, task.id);
    }
  }
  const newest = new Map<string, Communication>();
  const when = (c: Communication): number => Date.parse(c.sent ?? c.meta?.lastUpdated ?? '') || 0;
  for (const message of messages) {
    const links = [...(message.about ?? []), ...(message.basedOn ?? [])].map((r) => r.reference).filter((r): r is string => Boolean(r));
    const taskIds = new Set(links.map((l) => taskOfRef.get(l)).filter((id): id is string => id !== undefined));
    for (const taskId of taskIds) {
      const current = newest.get(taskId);
      if (!current || when(message) > when(current)) {
        newest.set(taskId, message);
      }
    }
  }
  const result = new Map<string, LastMessage>();
  for (const [taskId, message] of newest) {
    const text = message.payload?.map((p) => p.contentString?.trim()).find(Boolean);
    result.set(taskId, { sent: message.sent ?? message.meta?.lastUpdated, from: message.sender ? nameOf(message.sender, byRef) : undefined, text });
  }
  return result;
}

/**
 * The board: the Tasks in `tasks` (with `included` resources: their ServiceRequests, owners, clients, and message
 * senders) grouped by state in board order, each group soonest deadline first (then newest first).
 */
export function buildBoard(tasks: readonly Task[], included: readonly Resource[], messages: readonly Communication[], now: Date): BoardGroup[] {
  const byRef = new Map<string, Resource>();
  for (const resource of included) {
    if (resource.id) {
      byRef.set(refOf(resource), resource);
    }
  }
  const last = lastMessages(tasks, messages, byRef);
  const referrals: BoardReferral[] = [];
  for (const task of tasks) {
    const state = task.id ? boardStateOf(task, now) : undefined;
    if (!state || !task.id) {
      continue;
    }
    const request = task.focus?.reference ? (byRef.get(task.focus.reference) as ServiceRequest | undefined) : undefined;
    const due = task.restriction?.period?.end;
    const open = state === 'waiting' || state === 'overdue';
    referrals.push({
      taskId: task.id,
      state,
      version: task.meta?.versionId,
      clientName: nameOf(task.for, byRef),
      partnerName: nameOf(task.owner, byRef),
      reason: request?.code?.text?.trim() || request?.code?.coding?.find((c) => c.display)?.display || undefined,
      due,
      msToDeadline: open && due !== undefined ? Date.parse(due) - now.getTime() : undefined,
      followUp: followUpOf(task),
      statusReason: task.statusReason?.text?.trim() || task.statusReason?.coding?.find((c) => c.display)?.display || undefined,
      lastMessage: last.get(task.id),
      actions: actionsFor(state),
    });
  }
  const order = (a: BoardReferral, b: BoardReferral): number =>
    (a.msToDeadline ?? Number.POSITIVE_INFINITY) - (b.msToDeadline ?? Number.POSITIVE_INFINITY) || (b.due ?? '').localeCompare(a.due ?? '');
  return BOARD_STATES.map((state) => ({ state, referrals: referrals.filter((r) => r.state === state).sort(order) })).filter((g) => g.referrals.length > 0);
}

/** Splits a duration into the largest whole unit a person reads: days, else hours, else minutes (at least 1). */
export function durationParts(ms: number): { value: number; unit: 'day' | 'hour' | 'minute' } {
  const abs = Math.abs(ms);
  const days = Math.floor(abs / 86_400_000);
  if (days >= 2) {
    return { value: days, unit: 'day' };
  }
  const hours = Math.floor(abs / 3_600_000);
  if (hours >= 1) {
    return { value: hours, unit: 'hour' };
  }
  return { value: Math.max(1, Math.floor(abs / 60_000)), unit: 'minute' };
}
