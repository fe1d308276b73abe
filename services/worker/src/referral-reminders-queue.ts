/**
 * The `referral-reminders` queue: the follow-up of referrals nobody acknowledges (DESIGN.md, "Referral
 * follow-through"). An open referral Task (requested or received, with a deadline in restriction.period.end) waits for
 * one step at a time, reminder -> escalation -> expiry, each due at a time in business hours of the practice; what
 * each step writes, and the rule that it is written once, are @carecircle/care's (referral-follow-up.ts).
 *
 * Here: the Task's next step has one delayed job, jobId `<step>_<task id>` (`reminder_`, `escalation_`, `expiry_`),
 * kept in step with the Task by {@link followReferralTask} as its changes pass through the worker (a step's own write
 * of the Task schedules the next), and removed as soon as the Task moves on (accepted, rejected, cancelled ...). When a
 * job comes due, the processor reads the Task again and runs the step if the Task still waits for it and it is due
 * by the worker's clock; a job that comes early (the clock says otherwise) waits again. Two workers never both write a
 * step: BullMQ runs one job id once at a time, and the step's Task update is conditional on the version read (412 for
 * the second). After Redis lost its data the delivery sweeper calls {@link ensureFollowUpJob} for every open Task.
 */
import { createServerRepository } from '@carecircle/access';
import { nextFollowUpStep, practiceBusinessHours, runFollowUpStep, type FollowUpStep, type PlannedStep } from '@carecircle/care';
import { readOrUndefined } from '@carecircle/fhir';
import { jobRetryOptions, notifyJobIds, REFERRAL_FOLLOW_UP_STEPS, REFERRAL_REMINDER_JOB_RETRY, referralReminderJobSchema, type ReferralReminderJob } from '@carecircle/notify';
import type { Task } from '@medplum/fhirtypes';
import { DelayedError, type Job } from 'bullmq';
import type { NotifyContext } from './notify-context';

/** What planning a Task's follow-up needs: the repository (to read the practice's hours), queues and options. */
export type FollowUpContext = Pick<NotifyContext, 'repository' | 'queues' | 'options'>;

/** The step `task` waits for next (the practice's business hours read through the server's repository). */
export async function plannedStepOf(ctx: FollowUpContext, task: Task): Promise<PlannedStep | undefined> {
  const settings = ctx.options.referralFollowUp;
  const hours = await practiceBusinessHours(ctx.repository, task.for?.reference, settings);
  return nextFollowUpStep(task, hours, settings);
}

/**
 * Schedules the job of the step `task` waits for next and removes those of the other steps (all of them when it waits
 * for none); a new job carries `requestId`, the id of the request whose write of the Task scheduled it.
 */
export async function followReferralTask(ctx: FollowUpContext, task: Task, requestId: string | undefined): Promise<void> {
  const taskId = task.id;
  if (!taskId) {
    return;
  }
  const planned = await plannedStepOf(ctx, task);
  for (const step of REFERRAL_FOLLOW_UP_STEPS) {
    if (step !== planned?.step) {
      await removeUnlessRunning(await ctx.queues.referralReminders.getJob(notifyJobIds.referralReminder({ taskId, step })));
    }
  }
  if (planned) {
    await scheduleStep(ctx, taskId, planned, requestId, true);
  }
}

/**
 * Makes sure the open Task `task` has the job of its next step (the sweeper's rebuild after Redis lost its data): adds
 * it when missing, leaves one that is there alone. True when it had to be added.
 */
export async function ensureFollowUpJob(ctx: FollowUpContext, task: Task): Promise<boolean> {
  const planned = task.id ? await plannedStepOf(ctx, task) : undefined;
  return planned !== undefined && task.id !== undefined && scheduleStep(ctx, task.id, planned, undefined, false);
}

/**
 * Adds the job of `planned` for `taskId`, due when the step is by the worker's clock. With `replace`, a job of that
 * step scheduled for another time is replaced (the deadline moved); otherwise one that exists is kept. True when added.
 */
async function scheduleStep(ctx: FollowUpContext, taskId: string, planned: PlannedStep, requestId: string | undefined, replace: boolean): Promise<boolean> {
  const queue = ctx.queues.referralReminders;
  const jobId = notifyJobIds.referralReminder({ taskId, step: planned.step });
  const existing = await queue.getJob(jobId);
  const due = planned.at.getTime();
  const state = existing ? await existing.getState() : 'unknown';
  // A finished job (failed for good, or kept) would absorb the add: it is replaced. A running one finishes by itself.
  const live = state === 'delayed' || state === 'waiting' || state === 'prioritized' || state === 'active';
  if (existing && live && (state === 'active' || !replace || referralReminderJobSchema.parse(existing.data).due === due)) {
    return false;
  }
  await removeUnlessRunning(existing);
  const data: ReferralReminderJob = { taskId, step: planned.step, due, ...(requestId === undefined ? {} : { requestId }) };
  const now = Date.now();
  await queue.add(planned.step, data, {
    jobId,
    delay: Math.max(0, due - ctx.options.clock()),
    timestamp: now,
    removeOnComplete: true,
    ...jobRetryOptions(REFERRAL_REMINDER_JOB_RETRY),
  });
  return true;
}

/**
 * Removes `job` unless it is running now (its processor re-reads the Task, so it does no harm). BullMQ refuses to
 * remove a locked job; a job that finished or went meanwhile needs no removing either.
 */
async function removeUnlessRunning(job: Job | undefined): Promise<void> {
  if (!job) {
    return;
  }
  try {
    await job.remove();
  } catch (err) {
    const state = await job.getState();
    if (state !== 'active' && state !== 'completed' && state !== 'unknown') {
      throw err;
    }
  }
}

/**
 * Processes a due step job: runs the step if the Task, read now, still waits for it and it is due by the worker's
 * clock; a job early by that clock goes back to wait (BullMQ's delayed set) for the rest.
 */
export async function processReferralReminder(ctx: NotifyContext, job: Job, token?: string): Promise<void> {
  const { taskId, step: jobStep } = referralReminderJobSchema.parse(job.data);
  const step: FollowUpStep = jobStep ?? 'reminder';
  // Absent or deleted: nothing to follow up. A database error is thrown, and BullMQ retries the job.
  const task = await readOrUndefined<Task>(ctx.repository, 'Task', taskId);
  const planned = task ? await plannedStepOf(ctx, task) : undefined;
  if (!task || !planned) {
    return;
  }
  if (planned.step !== step) {
    // The Task is past this step, or not yet at it (a job of an earlier version): its own step's job takes over.
    await followReferralTask(ctx, task, undefined);
    return;
  }
  const wait = planned.at.getTime() - ctx.options.clock();
  if (wait > 0 && token) {
    await job.moveToDelayed(Date.now() + wait, token);
    throw new DelayedError();
  }
  const repository = createServerRepository(ctx.db, { allowLoopbackHttp: ctx.options.allowLoopbackHttp });
  const settings = ctx.options.referralFollowUp;
  const hours = await practiceBusinessHours(ctx.repository, task.for?.reference, settings);
  const outcome = await runFollowUpStep(repository, taskId, step, new Date(ctx.options.clock()), hours, settings);
  ctx.logger.info({ taskId, step, outcome }, 'referral follow-up step');
  if (outcome === 'done') {
    // The step's Task write reaches followReferralTask through the outbox too; scheduling here saves the round trip.
    const after = await readOrUndefined<Task>(ctx.repository, 'Task', taskId);
    if (after) {
      await followReferralTask(ctx, after, undefined);
    }
  }
}
