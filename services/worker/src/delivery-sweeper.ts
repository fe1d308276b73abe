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
 *      are derived, so concurrent adds collapse into one job.
 *
 * Replicas sweep side by side: outbox rows and delivery rows are taken FOR UPDATE SKIP LOCKED, so no two sweepers
 * look at the same row at once. Matching marks a row matched (`recordOutboxEventMatched`) after its delivery jobs are
 * enqueued, so a row is only ever marked once everything it led to is in Postgres or on the queue.
 */
import type { Logger } from '@carecircle/log';
import { lockIdleDeliveries, notifyJobIds, outboxEventJobSchema, type DeliveryJob } from '@carecircle/notify';
import { sql, type Database } from '@carecircle/store';
import type { Job, Queue } from 'bullmq';

/** Outbox rows handed back, and subscriptions looked at, per statement. */
const BATCH_SIZE = 500;

export interface DeliverySweeper {
  /** Stops sweeping and waits for the sweep in progress. */
  close(): Promise<void>;
}

export interface SweeperSettings {
  db: Database;
  deliveryQueue: Queue;
  logger: Logger;
  /** Pause between sweeps. */
  intervalMs: number;
  /** Work older than this with no progress is presumed lost. */
  afterMs: number;
}

export interface SweepResult {
  /** Outbox rows handed back to the relay. */
  changes: number;
  /** Delivery jobs added or retried. */
  deliveries: number;
}

/** Starts sweeping, the first time one interval from now. */
export function startDeliverySweeper(settings: SweeperSettings): DeliverySweeper {
  const { logger, intervalMs } = settings;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const tick = () => {
    running = sweep(settings)
      .then((result) => {
        if (result.changes > 0 || result.deliveries > 0) {
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

/** One sweep: both kinds of lost work. */
export async function sweep(settings: Pick<SweeperSettings, 'db' | 'deliveryQueue' | 'afterMs'>): Promise<SweepResult> {
  const changes = await handBackUnmatchedChanges(settings.db, settings.afterMs);
  const deliveries = await restartIdleDeliveries(settings.db, settings.deliveryQueue, settings.afterMs);
  return { changes, deliveries };
}

/**
 * Clears relayed_at on outbox rows relayed more than `afterMs` ago and not matched since, so the relay enqueues them
 * again (oldest first; at most one batch per sweep). Returns how many.
 */
export async function handBackUnmatchedChanges(db: Database, afterMs: number): Promise<number> {
  const { rowCount } = await db.query(sql`
    UPDATE outbox SET relayed_at = NULL
    WHERE seq IN (
      SELECT seq FROM outbox
      WHERE relayed_at IS NOT NULL AND matched_at IS NULL
        AND relayed_at < now() - make_interval(secs => ${afterMs / 1000})
      ORDER BY relayed_at LIMIT ${BATCH_SIZE}
      FOR UPDATE SKIP LOCKED)`);
  return rowCount ?? 0;
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
  await db.query(sql`UPDATE outbox SET matched_at = now() WHERE event_id = ${eventId} AND matched_at IS NULL`);
}
