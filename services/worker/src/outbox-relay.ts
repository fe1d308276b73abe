/**
 * The outbox relay: moves committed changes from the `outbox` table to the `outbox-events` queue. Rows are claimed with
 * FOR UPDATE SKIP LOCKED (replicas share the work), enqueued with jobId = the outbox event id (a relay that dies after
 * enqueueing and before marking re-enqueues nothing new), and marked relayed in the same transaction. It runs when a
 * commit notifies it, every `relayIntervalMs` when idle, and immediately again after a full batch.
 * A row whose job Redis lost is handed back here by the delivery sweeper (relayed_at cleared), and relayed again.
 * Each job carries the id of the request whose write made the change, and each relayed event is logged with it.
 */
import type { Logger } from '@carecircle/log';
import { NOTIFY_QUEUES, topicsTriggeredBy, type OutboxEventJob } from '@carecircle/notify';
import { claimPendingOutboxEvents, markOutboxEventsRelayed, type Database, type Listener, type PendingOutboxEvent } from '@carecircle/store';
import type { Queue } from 'bullmq';

const BATCH_SIZE = 500;
/** A relay not listening yet tries again after a poll interval, and at least this often. */
const RELISTEN_AT_MOST_MS = 5_000;

export interface OutboxRelay {
  /** Stops polling and waits for the batch in progress. */
  close(): Promise<void>;
}

/**
 * Starts the relay: a batch whenever a change commits (NOTIFY on channel `outbox`, sent by a trigger of migration
 * 0007), and every `intervalMs` anyway, so a lost notification or a listener still reconnecting costs at most a poll.
 * After a failed batch it tries again one interval later (a lone failure: its database connection was cut, say), and
 * after failures in a row every ten intervals, notifications or not (an outage: Redis down), so it is not a log flood.
 */
export function startOutboxRelay(db: Database, queue: Queue, logger: Logger, intervalMs: number): OutboxRelay {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let busy = false;
  let wokenWhileBusy = false;
  let backingOff = false;
  let failuresInRow = 0;

  const schedule = (delay: number): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      backingOff = false;
      tick();
    }, delay);
  };
  const tick = (): void => {
    if (stopped) {
      return;
    }
    busy = true;
    wokenWhileBusy = false;
    running = relayBatch(db, queue, logger)
      .then((count) => {
        failuresInRow = 0;
        return count === BATCH_SIZE || wokenWhileBusy ? 0 : intervalMs;
      })
      .catch((err: unknown) => {
        logger.warn({ err: (err as Error).name, queue: NOTIFY_QUEUES.outboxEvents }, 'outbox relay failed; retrying');
        backingOff = true;
        failuresInRow++;
        return failuresInRow === 1 ? intervalMs : intervalMs * 10;
      })
      .then((delay) => {
        busy = false;
        if (!stopped) {
          schedule(delay);
        }
      });
  };
  const wake = (): void => {
    if (busy) {
      wokenWhileBusy = true;
    } else if (!stopped && !backingOff) {
      clearTimeout(timer);
      tick();
    }
  };

  // Once listening, the store's listener keeps itself listening across lost connections. Until then (the database
  // away or the connection cut while the worker starts), the relay polls and tries to listen again a poll later.
  let listener: Listener | undefined;
  let listening: Promise<void> = Promise.resolve();
  let relisten: NodeJS.Timeout | undefined;
  let listenFailures = 0;
  const listen = (): void => {
    listening = db.listen('outbox', wake).then(
      async (opened) => {
        if (stopped) {
          await opened.close();
          return;
        }
        listener = opened;
        if (listenFailures > 0) {
          logger.info('outbox relay listens for commits now');
          wake();
        }
      },
      (err: unknown) => {
        if (listenFailures++ === 0) {
          logger.warn({ err: (err as Error).name }, 'outbox relay cannot listen for commits; polling and trying again');
        }
        if (!stopped) {
          relisten = setTimeout(listen, Math.min(intervalMs, RELISTEN_AT_MOST_MS));
        }
      },
    );
  };

  tick();
  listen();
  return {
    async close() {
      stopped = true;
      clearTimeout(timer);
      clearTimeout(relisten);
      await listening;
      await listener?.close();
      await running;
    },
  };
}

/** Relays one batch and logs each event it enqueued (once committed); returns how many outbox rows it claimed. */
export async function relayBatch(db: Database, queue: Queue, logger: Logger): Promise<number> {
  const { claimed, relayed } = await db.transaction(async (tx) => {
    const rows = await claimPendingOutboxEvents(tx, BATCH_SIZE);
    if (rows.length === 0) {
      return { claimed: 0, relayed: [] };
    }
    const jobs = rows.filter(concernsNotifications).map((row) => {
      const data: OutboxEventJob = {
        eventId: row.eventId,
        kind: row.kind,
        resourceType: row.resourceType,
        resourceId: row.resourceId,
        versionId: row.versionId,
        occurredAt: Math.floor(row.createdMs),
        ...(row.requestId === undefined ? {} : { requestId: row.requestId }),
      };
      return { name: row.kind, data, opts: { jobId: row.eventId } };
    });
    if (jobs.length > 0) {
      await queue.addBulk(jobs);
    }
    // A row that became no job needs no matching either: marked matched at once, so the sweeper never hands it back.
    const jobless = rows.filter((row) => !concernsNotifications(row)).map((r) => r.seq);
    await markOutboxEventsRelayed(tx, rows.map((r) => r.seq), jobless);
    return { claimed: rows.length, relayed: jobs.map((job) => job.data) };
  }, 'read committed');
  for (const event of relayed) {
    logger.info(
      { requestId: event.requestId, eventId: event.eventId, kind: event.kind, resourceType: event.resourceType, queue: NOTIFY_QUEUES.outboxEvents },
      'outbox event relayed',
    );
  }
  return claimed;
}

/**
 * Only changes some topic or the subscription lifecycle cares about become jobs; the rest are marked relayed without
 * costing Redis anything. A future outbox consumer widens this predicate (and, for AuditEvents, which the store keeps
 * out of the outbox altogether, the store's `hasOutboxEvents` too).
 */
function concernsNotifications(row: PendingOutboxEvent): boolean {
  if (row.resourceType === 'Subscription') {
    return true;
  }
  return row.kind !== 'delete' && topicsTriggeredBy(row.resourceType, row.kind).length > 0;
}
