/**
 * The delivery sweeper: finds notification work that Redis lost and puts it back on the queues. Postgres is the
 * record of what is owed (the outbox, numbered events, delivery cursors); Redis only holds the jobs that move it along,
 * so a Redis restart without persistence, or a failover, can drop jobs that the database says were enqueued. Every
 * `sweepIntervalMs` the sweeper
 *
 *   1. hands back to the relay every outbox row relayed more than `sweepAfterMs` ago and still not matched (its
 *      matching job was lost or has not finished): relayed_at is cleared, and the relay enqueues it again with the same
 *      job id, the outbox event id. A job still in Redis absorbs the second add; a re-run numbers nothing twice
 *      (numbering is unique per subscription and outbox event);
 *   2. for every receiving subscription whose next unsettled event was numbered more than `sweepAfterMs` ago, is due,
 *      and has no live delivery lease, makes sure the delivery job named after that event exists: adds it when it is
 *      missing, retries it when it already finished (a job that stopped while its event was still pending). Job ids
 *      are derived, so concurrent adds collapse into one job;
 *   3. turns `off` subscriptions whose `end` has passed;
 *   4. when Redis is found to have lost its data (a marker key the sweeper keeps there is gone, as after a restart
 *      without persistence) and every `rebuildIntervalMs` anyway: rebuilds the heartbeat scheduler of every receiving
 *      subscription with a heartbeat period, and the job of the next follow-up step of every open referral Task
 *      (requested or received, with a deadline; the Task's businessStatus says which step is next). Scheduler and job ids are derived from the
 *      subscription and the Task, and an existing one is left alone, so a rebuild is idempotent.
 *
 * Replicas sweep side by side: outbox rows and delivery rows are taken FOR UPDATE SKIP LOCKED, so no two sweepers
 * look at the same row at once. Matching marks a row matched (`recordOutboxEventMatched`) after its delivery jobs are
 * enqueued, so a row is only ever marked once everything it led to is in Postgres or on the queue.
 */
import {
  notifyJobIds,
  outboxEventJobSchema,
  readSubscriptionSettings,
  type DeliveryJob,
} from '@carecircle/notify';
import {
  findEndedSubscriptions,
  findOpenTasksWithDueDate,
  handBackUnmatchedOutboxEvents,
  lockIdleDeliveries,
  markOutboxEventMatched,
  type Database,
} from '@carecircle/store';
import type { Subscription } from '@medplum/fhirtypes';
import type { Job, Queue } from 'bullmq';
import { findHeartbeatSubscriptions, scheduleHeartbeat } from './heartbeat-queue';
import type { NotifyContext } from './notify-context';
import { ensureFollowUpJob } from './referral-reminders-queue';
import { hasEnded, setSubscriptionStatus } from './subscription-status';

/** Outbox rows handed back, and subscriptions or Tasks looked at, per statement. */
const BATCH_SIZE = 500;

export interface DeliverySweeper {
  /** Stops sweeping and waits for the sweep in progress. */
  close(): Promise<void>;
}

/** What the sweeper works with: the worker's context (database, repository, queues, options, logger). */
export type SweeperContext = Pick<NotifyContext, 'db' | 'repository' | 'queues' | 'logger' | 'options'>;

export interface SweepResult {
  /** Outbox rows handed back to the relay. */
  changes: number;
  /** Delivery jobs added or retried. */
  deliveries: number;
  /** Subscriptions turned off because their end passed. */
  ended: number;
  /** Heartbeat schedulers rebuilt. */
  heartbeats: number;
  /** Referral reminder jobs rebuilt. */
  reminders: number;
}

/** Remembers when the last rebuild ran, per sweeper. */
export interface RebuildState {
  lastRebuildAt: number | undefined;
}

/** Starts sweeping, the first time one interval from now. */
export function startDeliverySweeper(ctx: SweeperContext): DeliverySweeper {
  const { logger } = ctx;
  const intervalMs = ctx.options.sweepIntervalMs;
  const state: RebuildState = { lastRebuildAt: undefined };
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const tick = () => {
    running = sweep(ctx, state)
      .then((result) => {
        if (result.changes > 0 || result.deliveries > 0 || result.heartbeats > 0 || result.reminders > 0) {
          logger.warn({ ...result }, 'sweeper re-enqueued notification work that had no job');
        }
      })
      .catch((err: unknown) => {
        logger.warn({ err: (err as Error).name }, 'delivery sweep failed; retrying');
      })
      .then(() => {
        if (!stopped) {
          timer = setTimeout(tick, intervalMs);
        }
      });
  };
  timer = setTimeout(tick, intervalMs);
  return {
    async close() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/** One sweep: every kind of lost work (see the module header). */
export async function sweep(ctx: SweeperContext, state: RebuildState = { lastRebuildAt: undefined }): Promise<SweepResult> {
  const afterMs = ctx.options.sweepAfterMs;
  const changes = await handBackUnmatchedChanges(ctx.db, afterMs);
  const deliveries = await restartIdleDeliveries(ctx.db, ctx.queues.delivery, afterMs);
  const ended = await endExpiredSubscriptions(ctx);
  let heartbeats = 0;
  let reminders = 0;
  if (await rebuildIsDue(ctx, state)) {
    heartbeats = await rebuildHeartbeats(ctx);
    reminders = await rebuildReminders(ctx);
    state.lastRebuildAt = Date.now();
  }
  return { changes, deliveries, ended, heartbeats, reminders };
}

/**
 * True when Redis lost the sweeper's marker (it restarted empty, or this is the first sweep against it) or the last
 * rebuild is `rebuildIntervalMs` old. False while Redis is away (nothing could be rebuilt).
 */
async function rebuildIsDue(ctx: SweeperContext, state: RebuildState): Promise<boolean> {
  const client = await ctx.queues.heartbeat.client;
  if (client.status !== 'ready') {
    return false;
  }
  const marker = `${ctx.queues.heartbeat.qualifiedName}:sweeper-marker`;
  // Two replicas may both find it missing and both rebuild: harmless, a rebuild is idempotent.
  const lost = (await client.get(marker)) === null;
  if (lost) {
    await client.set(marker, String(Date.now()));
  }
  return lost || state.lastRebuildAt === undefined || Date.now() - state.lastRebuildAt >= ctx.options.rebuildIntervalMs;
}

/** Makes sure every receiving subscription with a heartbeat period has its scheduler. Returns how many were missing. */
export async function rebuildHeartbeats(ctx: SweeperContext): Promise<number> {
  let rebuilt = 0;
  let afterId = '';
  for (;;) {
    const page = await findHeartbeatSubscriptions(ctx.db, afterId, BATCH_SIZE);
    for (const subscription of page) {
      const period = heartbeatPeriodOf(ctx, subscription);
      const id = subscription.id ?? '';
      if (period === undefined || (await ctx.queues.heartbeat.getJobScheduler(notifyJobIds.heartbeatScheduler(id)))) {
        continue;
      }
      await scheduleHeartbeat(ctx.queues, id, period);
      rebuilt++;
    }
    const last = page.at(-1);
    if (!last || page.length < BATCH_SIZE) {
      return rebuilt;
    }
    afterId = last.id ?? '';
  }
}

function heartbeatPeriodOf(ctx: SweeperContext, subscription: Subscription): number | undefined {
  try {
    return readSubscriptionSettings(subscription, { allowLoopbackHttp: ctx.options.allowLoopbackHttp }).heartbeatPeriod;
  } catch {
    return undefined;
  }
}

/**
 * Makes sure every open referral Task with a deadline has the job of its next follow-up step (none once expired).
 * Returns how many jobs were missing.
 */
export async function rebuildReminders(ctx: SweeperContext): Promise<number> {
  let rebuilt = 0;
  let afterId = '';
  for (;;) {
    const tasks = await findOpenTasksWithDueDate(ctx.db, afterId, BATCH_SIZE);
    for (const task of tasks) {
      if (await ensureFollowUpJob(ctx, task)) {
        rebuilt++;
      }
    }
    const last = tasks.at(-1)?.id;
    if (!last || tasks.length < BATCH_SIZE) {
      return rebuilt;
    }
    afterId = last;
  }
}

/** Turns off subscriptions past their `end`. Returns how many. */
export async function endExpiredSubscriptions(ctx: SweeperContext): Promise<number> {
  const ending = await findEndedSubscriptions(ctx.db, BATCH_SIZE);
  let ended = 0;
  for (const subscription of ending) {
    if (hasEnded(subscription) && (await setSubscriptionStatus(ctx.repository, subscription.id ?? '', 'off', ['requested', 'active', 'error']))) {
      ended++;
    }
  }
  return ended;
}

/**
 * Clears relayed_at on outbox rows relayed more than `afterMs` ago and not matched since, so the relay enqueues them
 * again (oldest first; at most one batch per sweep). Returns how many.
 */
export async function handBackUnmatchedChanges(db: Database, afterMs: number): Promise<number> {
  return handBackUnmatchedOutboxEvents(db, afterMs, BATCH_SIZE);
}

/**
 * Makes sure every idle subscription with a due event has a delivery job that will run: added when missing, retried
 * when it finished. Returns how many jobs it added or retried.
 */
export async function restartIdleDeliveries(db: Database, queue: Queue, afterMs: number): Promise<number> {
  if ((await queue.client).status !== 'ready') {
    // Redis is away: the jobs cannot be checked now, and row locks would be held until it is back.
    return 0;
  }
  let restarted = 0;
  let afterId = '';
  for (;;) {
    const page = await db.transaction(async (tx) => {
      const idle = await lockIdleDeliveries(tx, afterId, afterMs, BATCH_SIZE);
      const outcomes = await Promise.all(idle.map((delivery) => ensureDeliveryJob(queue, delivery)));
      restarted += outcomes.filter(Boolean).length;
      return idle;
    }, 'read committed');
    const last = page.at(-1);
    if (!last || page.length < BATCH_SIZE) {
      return restarted;
    }
    afterId = last.subscriptionId;
  }
}

/** True when the job had to be added or retried; false when a live one was there. */
async function ensureDeliveryJob(queue: Queue, data: DeliveryJob): Promise<boolean> {
  const jobId = notifyJobIds.delivery(data);
  const job: Job | undefined = await queue.getJob(jobId);
  const state = job ? await job.getState() : 'unknown';
  switch (state) {
    case 'unknown':
      await queue.add('deliver', data, { jobId });
      return true;
    case 'completed':
    case 'failed':
      // The job stopped while its event was pending (subscription briefly not receiving, lease lost, BullMQ attempts
      // used up): run it again. The row lock keeps other sweepers from doing the same at the same time.
      await job?.retry(state, { resetAttemptsMade: true });
      return true;
    default:
      return false;
  }
}

/**
 * Marks the outbox event of a matching job as matched: the last step of a matching job, after its events are numbered
 * and their delivery jobs enqueued. A job that dies before this runs again (from BullMQ, or handed back by the sweeper)
 * and numbers nothing twice.
 */
export async function recordOutboxEventMatched(db: Database, job: Job): Promise<void> {
  const { eventId } = outboxEventJobSchema.parse(job.data);
  await markOutboxEventMatched(db, eventId);
}
