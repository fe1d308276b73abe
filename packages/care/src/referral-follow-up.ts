/**
 * The follow-up of an unacknowledged referral, as FHIR writes (DESIGN.md, "Referral follow-through"). While its Task is
 * open (requested or received), three steps come due in business hours of the practice around the acknowledgement
 * deadline (restriction.period.end; times in referral-deadlines.ts), each once and in order, the Task's businessStatus
 * (follow-up-state.ts) recording which have happened:
 *
 *   reminder    D - remindBefore   a Communication to the owner; businessStatus reminded
 *   escalation  D                  Communications to the owner's organization and to the requester; escalated
 *   expiry      D + expireAfter    the Task failed, statusReason "not acknowledged in time", a Communication to the
 *                                  requester; expired. The ServiceRequest is left active, for the therapist to
 *                                  re-route (or cancel) it.
 *
 * Each step is one transaction: the Task update first, with If-Match on the version the step was decided on (the
 * store locks that version, so a second runner of the same step waits, then finds the version gone: 412, nothing of
 * its own written), then the Communications, created conditionally on an identifier naming the Task, its deadline and
 * the step (`https://carecircle.dev/fhir/referral-reminder`, `{task}-due-{epoch ms}-{step}-{recipient side}`). So a
 * step runs exactly once however many workers try it, and retries write nothing twice. The worker
 * (services/worker referral-reminders-queue.ts) decides when to call; the Task says what is next.
 */
import type { Communication, PractitionerRole, Reference, Task } from '@medplum/fhirtypes';
import { OperationOutcomeError, readOrUndefined, SHARE_CATEGORY_SYSTEM, statusOf } from '@carecircle/fhir';
import type { Repository } from '@carecircle/store';
import type { BusinessHours } from './business-hours';
import { referenceTo } from './current-resources';
import { followUpStateOf, withFollowUpState, type FollowUpState } from './follow-up-state';
import { followUpTimes, type ReferralDeadlineSettings } from './referral-deadlines';

/** The identifier system of the Communications the follow-up writes (and of the reminders before it). */
export const FOLLOW_UP_IDENTIFIER_SYSTEM = 'https://carecircle.dev/fhir/referral-reminder';

/** The statusReason of a Task that expired. */
export const EXPIRED_REASON = 'not acknowledged in time';

/** The steps, in order. */
export const FOLLOW_UP_STEPS = ['reminder', 'escalation', 'expiry'] as const;
export type FollowUpStep = (typeof FOLLOW_UP_STEPS)[number];

/** The step that follows each state, and the state it leaves behind. */
const NEXT: Record<FollowUpState, FollowUpStep | undefined> = { 'on-time': 'reminder', reminded: 'escalation', escalated: 'expiry', expired: undefined };
const AFTER: Record<FollowUpStep, FollowUpState> = { reminder: 'reminded', escalation: 'escalated', expiry: 'expired' };

const OPEN_STATUSES: ReadonlySet<string> = new Set(['requested', 'received']);

/** The next step of a Task and when it is due. */
export interface PlannedStep {
  step: FollowUpStep;
  at: Date;
  /** The acknowledgement deadline it was planned from (restriction.period.end). */
  acknowledgeBy: Date;
}

/** The acknowledgement deadline of `task` (restriction.period.end), if it has a valid one. */
export function acknowledgementDeadline(task: Task): Date | undefined {
  const end = task.restriction?.period?.end;
  const ms = end ? Date.parse(end) : Number.NaN;
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

/**
 * The step `task` waits for next, or undefined when it waits for none: acknowledged or closed (not requested or
 * received), without a deadline, or expired already.
 */
export function nextFollowUpStep(task: Task, hours: BusinessHours, settings: Pick<ReferralDeadlineSettings, 'remindBefore' | 'expireAfter'>): PlannedStep | undefined {
  const acknowledgeBy = acknowledgementDeadline(task);
  const step = NEXT[followUpStateOf(task)];
  if (!OPEN_STATUSES.has(task.status) || acknowledgeBy === undefined || step === undefined) {
    return undefined;
  }
  const times = followUpTimes(acknowledgeBy, hours, settings);
  const at = step === 'reminder' ? times.remindAt : step === 'escalation' ? times.escalateAt : times.expireAt;
  return { step, at, acknowledgeBy };
}

/** What running a step came to. */
export type StepOutcome =
  /** The step was written now. */
  | 'done'
  /** Not due yet by `now`. */
  | 'not-due'
  /** The Task does not wait for this step (any more): acknowledged, closed, gone, or another runner did it first. */
  | 'not-waiting';

/**
 * Runs `step` of Task `taskId` if the Task, read now, waits for it and it is due at `now` (see the module header).
 * `repository` is the server's (full access, write rules on); `hours` the practice's business hours.
 */
export async function runFollowUpStep(
  repository: Repository,
  taskId: string,
  step: FollowUpStep,
  now: Date,
  hours: BusinessHours,
  settings: Pick<ReferralDeadlineSettings, 'remindBefore' | 'expireAfter'>,
): Promise<StepOutcome> {
  const task = await readOrUndefined<Task>(repository, 'Task', taskId);
  const planned = task ? nextFollowUpStep(task, hours, settings) : undefined;
  if (!task || !planned || planned.step !== step) {
    return 'not-waiting';
  }
  if (planned.at.getTime() > now.getTime()) {
    return 'not-due';
  }
  try {
    await repository.transaction(async (tx) => {
      await tx.update(advanced(task, step), { ifMatch: task.meta?.versionId ?? '0' });
      for (const message of await messagesOf(tx, task, step, planned.acknowledgeBy, now)) {
        const identifier = message.identifier?.[0];
        await tx.create(message, { ifNoneExist: `identifier=${identifier?.system ?? ''}|${identifier?.value ?? ''}` });
      }
    });
  } catch (err) {
    // Another runner moved the Task first (this step, or the owner's acknowledgement): nothing of ours was written.
    if (err instanceof OperationOutcomeError && statusOf(err.outcome) === 412) {
      return 'not-waiting';
    }
    throw err;
  }
  return 'done';
}

/** The Task after `step`: its businessStatus, and for the expiry its status and reason. */
function advanced(task: Task, step: FollowUpStep): Task {
  const next: Task = { ...task, businessStatus: withFollowUpState(task.businessStatus, AFTER[step]) };
  switch (step) {
    case 'reminder':
    case 'escalation':
      return next;
    case 'expiry':
      return { ...next, status: 'failed', statusReason: { text: EXPIRED_REASON } };
    default:
      return step satisfies never;
  }
}

/** Who hears of a step: the side and the reference. */
interface Addressee {
  side: 'owner' | 'owner-organization' | 'requester';
  recipient: string;
  text: string;
}

async function messagesOf(repository: Repository, task: Task, step: FollowUpStep, acknowledgeBy: Date, now: Date): Promise<Communication[]> {
  const addressees: Addressee[] = [];
  const owner = task.owner?.reference;
  const requester = task.requester?.reference;
  switch (step) {
    case 'reminder':
      if (owner) {
        addressees.push({ side: 'owner', recipient: owner, text: 'A referral addressed to you is due for acknowledgement soon: please accept or reject its Task.' });
      }
      break;
    case 'escalation': {
      const organization = await ownerOrganization(repository, task.owner);
      if (organization) {
        addressees.push({
          side: 'owner-organization',
          recipient: organization,
          text: 'A referral addressed to your organization has passed its acknowledgement deadline: please accept or reject its Task.',
        });
      }
      if (requester) {
        addressees.push({ side: 'requester', recipient: requester, text: 'A referral you sent has not been acknowledged by its deadline.' });
      }
      break;
    }
    case 'expiry':
      if (requester) {
        addressees.push({
          side: 'requester',
          recipient: requester,
          text: 'A referral you sent was not acknowledged in time: its Task has failed. The referral is still active: send it to another provider, or cancel it.',
        });
      }
      break;
    default:
      return step satisfies never;
  }
  return addressees.map((a) => communication(task, step, a, acknowledgeBy, now));
}

/** The organization of the owner: an Organization itself, a PractitionerRole's organization, else the owner itself. */
async function ownerOrganization(repository: Repository, owner: Reference | undefined): Promise<string | undefined> {
  const role = referenceTo(owner?.reference, 'PractitionerRole');
  if (role) {
    const stored = await readOrUndefined<PractitionerRole>(repository, 'PractitionerRole', role.id);
    return stored?.organization?.reference ?? owner?.reference;
  }
  return owner?.reference;
}

/** The identifier value of the Communication to `side` for `step` of `taskId` due at `acknowledgeBy`. */
export function followUpIdentifierValue(taskId: string, acknowledgeBy: Date, step: FollowUpStep, side: string): string {
  return `${taskId}-due-${acknowledgeBy.getTime()}-${step}-${side}`;
}

function communication(task: Task, step: FollowUpStep, addressee: Addressee, acknowledgeBy: Date, now: Date): Communication {
  const tags = (task.meta?.tag ?? []).filter((t) => t.system === SHARE_CATEGORY_SYSTEM);
  const category = { reminder: 'Referral reminder', escalation: 'Referral escalation', expiry: 'Referral expired' }[step];
  return {
    resourceType: 'Communication',
    ...(tags.length > 0 ? { meta: { tag: tags } } : {}),
    identifier: [{ system: FOLLOW_UP_IDENTIFIER_SYSTEM, value: followUpIdentifierValue(task.id ?? '', acknowledgeBy, step, addressee.side) }],
    status: 'completed',
    category: [{ text: category }],
    ...(task.for?.reference ? { subject: { reference: task.for.reference } } : {}),
    about: [{ reference: `Task/${task.id}` }],
    recipient: [{ reference: addressee.recipient }],
    sent: now.toISOString(),
    payload: [{ contentString: addressee.text }],
  };
}
