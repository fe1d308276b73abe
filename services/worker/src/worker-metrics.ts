/**
 * The worker's own metrics, in the process's registry (@carecircle/process's metrics-registry.ts: one per process,
 * shared by the API and the worker when they run together, ROLE=all): queue depths, the dead-letter size,
 * subscriptions by status (these three read at scrape time, each bounded by a timeout so a scrape never hangs on Redis
 * or the database), and notification delivery latency and attempts.
 *
 * Labels are bounded sets of fixed words (queue names, job states, statuses, outcomes): never ids, never content.
 * Every worker replica reports the same queue and subscription figures: aggregate them with max(), not sum().
 */
import { NOTIFY_QUEUES, type NotifyQueueName } from '@carecircle/notify';
import { METRIC_PREFIX } from '@carecircle/process';
import { countSubscriptionsByStatus, type Database } from '@carecircle/store';
import type { Queue } from 'bullmq';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** A figure read at scrape time from Redis or the database is left out of that scrape when it takes longer. */
const SCRAPE_READ_TIMEOUT_MS = 1000;

/** Job states whose counts are reported per queue. */
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/**
 * Seconds from a change's commit to the subscriber's 2xx: from tens of milliseconds when all is well, through retries
 * (5 s doubling, about 10.5 minutes in all), to the hour a `Retry-After` may ask for.
 */
const DELIVERY_LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/** What one POST of an event notification came to: 2xx, 410 (the subscription turns off), anything else. */
export type DeliveryAttemptOutcome = 'delivered' | 'gone' | 'failed';

/** How an event was settled: sent and accepted, withheld (not permitted, never sent), or given up on. */
export type SettledOutcome = 'delivered' | 'withheld' | 'dead-lettered';

/** The delivery processor's instruments. */
export interface DeliveryMetrics {
  /** Counts one POST of an event notification. */
  attempted(outcome: DeliveryAttemptOutcome): void;
  /** Counts an event settled; for `delivered`, observes the time since the change was committed. */
  settled(outcome: SettledOutcome, occurredAt?: Date): void;
}

/** What the worker's scrape-time gauges read from. */
export interface WorkerMetricSources {
  db: Database;
  /** Every queue of the worker, whose jobs are counted by state, and the dead-letter queue among them, counted apart. */
  queues: readonly Queue[];
  deadLetter: Queue;
  /**
   * Whether the queues' Redis connection is up. While it is not, the queue gauges are left out at once: the connection
   * holds commands until it reconnects, so asking would only pile up commands for every scrape of an outage.
   */
  redisReady: () => boolean;
}

/**
 * Registers the worker's metrics on `registry` and returns the delivery processor's instruments:
 * `carecircle_queue_jobs` (`queue`, `state`), `carecircle_dead_letter_jobs`, `carecircle_subscriptions` (`status`),
 * `carecircle_notification_delivery_seconds`, `carecircle_notification_attempts_total` (`outcome`) and
 * `carecircle_notification_events_settled_total` (`outcome`).
 */
export function registerWorkerMetrics(registry: Registry, { db, queues, deadLetter, redisReady }: WorkerMetricSources): DeliveryMetrics {
  new Gauge({
    name: `${METRIC_PREFIX}queue_jobs`,
    help: 'Jobs in each notification queue, by state (waiting, active, delayed, failed); absent when Redis does not answer.',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      if (!redisReady()) {
        return;
      }
      const counts = await Promise.all(queues.map((queue) => withinTimeout(queue.getJobCounts(...QUEUE_STATES))));
      queues.forEach((queue, i) => {
        const count = counts[i];
        if (count) {
          for (const state of QUEUE_STATES) {
            this.set({ queue: queue.name as NotifyQueueName, state }, count[state] ?? 0);
          }
        }
      });
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}dead_letter_jobs`,
    help: `Events given up on, kept in the ${NOTIFY_QUEUES.deadLetter} queue for operators; absent when Redis does not answer.`,
    registers: [registry],
    async collect() {
      this.reset();
      const size = redisReady() ? await withinTimeout(deadLetter.count()) : undefined;
      if (size !== undefined) {
        this.set(size);
      }
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}subscriptions`,
    help: 'Current Subscriptions by status; absent when the database does not answer.',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const counts = await withinTimeout(countSubscriptionsByStatus(db));
      for (const [status, count] of Object.entries(counts ?? {})) {
        this.set({ status }, count);
      }
    },
  });
  const latency = new Histogram({
    name: `${METRIC_PREFIX}notification_delivery_seconds`,
    help: "Seconds from a change's commit to the subscriber's 2xx for the notification of it.",
    buckets: DELIVERY_LATENCY_BUCKETS,
    registers: [registry],
  });
  const attempts = new Counter({
    name: `${METRIC_PREFIX}notification_attempts_total`,
    help: 'Event notifications posted to subscribers, by outcome (delivered: 2xx, gone: 410, failed: anything else).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const settled = new Counter({
    name: `${METRIC_PREFIX}notification_events_settled_total`,
    help: 'Subscription events settled, by outcome (delivered, withheld: not permitted and never sent, dead-lettered).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  return {
    attempted(outcome) {
      attempts.inc({ outcome });
    },
    settled(outcome, occurredAt) {
      settled.inc({ outcome });
      if (outcome === 'delivered' && occurredAt) {
        latency.observe(Math.max(0, Date.now() - occurredAt.getTime()) / 1000);
      }
    },
  };
}

/** The value, or undefined when it fails or takes longer than a scrape may wait. */
async function withinTimeout<T>(read: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), SCRAPE_READ_TIMEOUT_MS);
  });
  try {
    return await Promise.race([read.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
