/**
 * The `referral-reminders` queue: a referral not acknowledged in time reminds the partner and tells the therapist.
 *
 * Each open referral Task (status requested or received, with a due date in restriction.period.end) has one delayed
 * job (jobId `reminder_<task id>`), kept in step with the Task by {@link followReferralTask} as its changes pass through
 * the worker, and removed as soon as the Task moves on. When a job comes due, the processor reads the Task again and,
 * if it is still unacknowledged and overdue, writes two Communications about it — one to the owner, one to the
 * requester — which reach subscribers through the communication topic like any other change. The Communications are
 * created conditionally on an identifier naming the Task and its due date, so a retried job, or one re-added after
 * Redis lost it (the delivery sweeper rebuilds reminder jobs from Postgres), writes nothing twice.
 */
import { createServerRepository } from '@carecircle/access';
import { readOrUndefined, SHARE_CATEGORY_SYSTEM } from '@carecircle/fhir';
import { jobRetryOptions, notifyJobIds, REFERRAL_REMINDER_JOB_RETRY, referralReminderJobSchema, type ReferralReminderJob } from '@carecircle/notify';
import type { Communication, Reference, Task } from '@medplum/fhirtypes';
import type { Job, Queue } from 'bullmq';
import type { NotifyContext } from './notify-context';

export const REMINDER_IDENTIFIER_SYSTEM = 'https://carecircle.dev/fhir/referral-reminder';
const OPEN_STATUSES: ReadonlySet<string> = new Set(['requested', 'received']);

function dueAt(task: Task): number | undefined {
  const end = task.restriction?.period?.end;
  const due = end ? Date.parse(end) : Number.NaN;
  return Number.isNaN(due) ? undefined : due;
}

function isAwaitingAcknowledgement(task: Task): boolean {
  return OPEN_STATUSES.has(task.status) && dueAt(task) !== undefined;
}

/**
 * The identifier value of the reminder to `side` for `taskId` due at `due` (epoch ms): one reminder per side and due
 * date, however often the job runs or the Task changes meanwhile.
 */
export function reminderIdentifierValue(taskId: string, due: number, side: 'owner' | 'requester'): string {
  return `${taskId}-due-${due}-${side}`;
}

/** The open referral Tasks' due dates, when they are awaiting acknowledgement (for the sweeper). */
export function reminderDue(task: Task): number | undefined {
  return isAwaitingAcknowledgement(task) ? dueAt(task) : undefined;
}

/**
 * Schedules, moves or removes the reminder of `task` to match its current state; a new job carries `requestId`, the id
 * of the request whose write of the Task scheduled it.
 */
export async function followReferralTask(ctx: NotifyContext, task: Task, requestId: string | undefined): Promise<void> {
  const taskId = task.id;
  if (!taskId) {
    return;
  }
  const jobId = notifyJobIds.referralReminder({ taskId });
  const queue = ctx.queues.referralReminders;
  const existing = await queue.getJob(jobId);
  const due = dueAt(task);
  if (!isAwaitingAcknowledgement(task) || due === undefined) {
    await existing?.remove();
    return;
  }
  if (existing && existing.timestamp + (existing.opts.delay ?? 0) === due) {
    return;
  }
  await existing?.remove();
  await addReminderJob(queue, taskId, due, requestId);
}

/**
 * Adds the reminder job of `taskId` due at `due` (a job with that id already there absorbs the add), carrying
 * `requestId` when a request's write scheduled it (the sweeper's rebuilds carry none).
 */
export async function addReminderJob(queue: Queue, taskId: string, due: number, requestId?: string): Promise<void> {
  const jobId = notifyJobIds.referralReminder({ taskId });
  const data: ReferralReminderJob = { taskId, ...(requestId === undefined ? {} : { requestId }) };
  const now = Date.now();
  await queue.add('remind', data, {
    jobId,
    delay: Math.max(0, due - now),
    timestamp: now,
    removeOnComplete: true,
    ...jobRetryOptions(REFERRAL_REMINDER_JOB_RETRY),
  });
}

/** Processes a due reminder job: reminds both sides if the Task is still unacknowledged and overdue. */
export async function processReferralReminder(ctx: NotifyContext, job: Job): Promise<void> {
  const { taskId } = referralReminderJobSchema.parse(job.data);
  // Absent or deleted: nothing to remind of. A database error is thrown, and BullMQ retries the job.
  const task = await readOrUndefined<Task>(ctx.repository, 'Task', taskId);
  const due = task ? dueAt(task) : undefined;
  if (!task || !isAwaitingAcknowledgement(task) || due === undefined || due > Date.now()) {
    // Gone, acknowledged, or given more time (a newer job covers the new due date).
    return;
  }
  const repository = createServerRepository(ctx.db, { allowLoopbackHttp: ctx.options.allowLoopbackHttp });
  for (const [side, recipient, text] of [
    ['owner', task.owner, 'A referral addressed to you is awaiting acknowledgement: please accept or reject its Task.'],
    ['requester', task.requester, 'A referral you sent has not been acknowledged by its due date.'],
  ] as const) {
    if (!recipient?.reference) {
      continue;
    }
    const identifier = { system: REMINDER_IDENTIFIER_SYSTEM, value: reminderIdentifierValue(taskId, due, side) };
    await repository.create(reminderFor(task, recipient, identifier, text), {
      ifNoneExist: `identifier=${identifier.system}|${identifier.value}`,
    });
  }
  ctx.logger.info({ taskId }, 'referral reminder sent');
}

function reminderFor(task: Task, recipient: Reference, identifier: { system: string; value: string }, text: string): Communication {
  const tags = (task.meta?.tag ?? []).filter((t) => t.system === SHARE_CATEGORY_SYSTEM);
  return {
    resourceType: 'Communication',
    ...(tags.length > 0 ? { meta: { tag: tags } } : {}),
    identifier: [identifier],
    status: 'completed',
    category: [{ text: 'Referral reminder' }],
    ...(task.for?.reference ? { subject: { reference: task.for.reference } } : {}),
    about: [{ reference: `Task/${task.id}` }],
    recipient: [{ reference: recipient.reference }],
    sent: new Date().toISOString(),
    payload: [{ contentString: text }],
  };
}
