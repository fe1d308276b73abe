/**
 * What the notification processors share: the database and a full-access repository, the queues they hand work to,
 * the delivery gate, and the tunables (with their documented defaults).
 */
import { DEFAULT_REFERRAL_DEADLINES, type ReferralDeadlineSettings } from '@carecircle/care';
import type { Config } from '@carecircle/config';
import type { Logger } from '@carecircle/log';
import { DELIVERY_RETRY_POLICY, type DeliveryGate, type RetryPolicy } from '@carecircle/notify';
import type { Database, Repository } from '@carecircle/store';
import type { Queue } from 'bullmq';
import type { WebhookClient } from './webhook-client';
import type { DeliveryMetrics } from './worker-metrics';

/** Notification tunables; every field is optional and defaults as documented. */
export interface NotifyOptions {
  /** Accept `http:` endpoints on loopback (development and tests). Default false: https only. */
  allowLoopbackHttp?: boolean;
  /** Default {@link DELIVERY_RETRY_POLICY}. */
  retryPolicy?: RetryPolicy;
  /** Per attempt, connect to last byte; a subscription's backport-timeout may only shorten it. Default 10 000 ms. */
  requestTimeoutMs?: number;
  /** Bytes of a receiver's answer read at most. Default 64 KiB. */
  maxResponseBytes?: number;
  /** Outbox poll when idle, behind the relay's wake-up on every commit (a lost wake-up costs at most this). Default 1000 ms. */
  relayIntervalMs?: number;
  /** A delivery lease outlives a crashed holder by at most this. Default requestTimeoutMs + 10 000 ms. */
  leaseMs?: number;
  /** BullMQ lock duration: a crashed worker's active jobs are retried after about this long. Default 30 000 ms. */
  lockDurationMs?: number;
  /** BullMQ stalled-job check interval. Default 30 000 ms. */
  stalledIntervalMs?: number;
  /**
   * Jobs in flight per queue in this worker. Defaults: matching 1 (numbering follows the outbox order within a worker),
   * delivery 16 (different subscriptions in parallel; one subscription is always sequential).
   */
  matchConcurrency?: number;
  deliveryConcurrency?: number;
  /** Pause between two sweeps for notification work Redis lost (delivery-sweeper.ts). Default 5 000 ms. */
  sweepIntervalMs?: number;
  /**
   * Heartbeat schedulers and referral reminder jobs are rebuilt from Postgres when Redis is found to have lost its data,
   * and at least this often anyway. Default 600 000 ms (10 minutes).
   */
  rebuildIntervalMs?: number;
  /**
   * Work this old without progress is presumed lost and re-enqueued: outbox rows relayed and not matched, subscriptions
   * with a due event and no lease. Longer than matching and delivery ever lag in normal running, since every re-enqueue
   * costs a Redis round trip (though a job still there absorbs it). Default 30 000 ms.
   */
  sweepAfterMs?: number;
  /**
   * The clock the referral follow-up steps are timed by (epoch ms): when a step is due and how long its job waits.
   * Default Date.now; tests pass one they can move, so no test sleeps for hours.
   */
  clock?: () => number;
  /**
   * The referral follow-up settings (config `referralDeadlines`): the default zone of practices without business
   * hours, the reminder's lead and the expiry's delay in business hours. Default DEFAULT_REFERRAL_DEADLINES.
   */
  referralFollowUp?: Pick<ReferralDeadlineSettings, 'timeZone' | 'remindBefore' | 'expireAfter'>;
}

export type ResolvedNotifyOptions = Required<NotifyOptions>;

/** The options configured through the environment (NOTIFY_*); the rest keep their defaults. */
export function notifyOptionsFrom(config: Pick<Config, 'notify'> & Partial<Pick<Config, 'referralDeadlines'>>): NotifyOptions {
  return {
    ...(config.referralDeadlines ? { referralFollowUp: config.referralDeadlines } : {}),
    allowLoopbackHttp: config.notify.allowLoopbackHttp,
    requestTimeoutMs: config.notify.requestTimeoutMs,
    maxResponseBytes: config.notify.maxResponseBytes,
    deliveryConcurrency: config.notify.deliveryConcurrency,
  };
}

export function resolveNotifyOptions(options: NotifyOptions = {}): ResolvedNotifyOptions {
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  return {
    allowLoopbackHttp: options.allowLoopbackHttp ?? false,
    retryPolicy: options.retryPolicy ?? DELIVERY_RETRY_POLICY,
    requestTimeoutMs,
    maxResponseBytes: options.maxResponseBytes ?? 64 * 1024,
    relayIntervalMs: options.relayIntervalMs ?? 1000,
    leaseMs: options.leaseMs ?? requestTimeoutMs + 10_000,
    lockDurationMs: options.lockDurationMs ?? 30_000,
    stalledIntervalMs: options.stalledIntervalMs ?? 30_000,
    matchConcurrency: options.matchConcurrency ?? 1,
    deliveryConcurrency: options.deliveryConcurrency ?? 16,
    sweepIntervalMs: options.sweepIntervalMs ?? 5_000,
    sweepAfterMs: options.sweepAfterMs ?? 30_000,
    rebuildIntervalMs: options.rebuildIntervalMs ?? 600_000,
    clock: options.clock ?? Date.now,
    referralFollowUp: options.referralFollowUp ?? DEFAULT_REFERRAL_DEADLINES,
  };
}

export interface NotifyQueues {
  outboxEvents: Queue;
  delivery: Queue;
  handshake: Queue;
  heartbeat: Queue;
  deadLetter: Queue;
  referralReminders: Queue;
}

export interface NotifyContext {
  db: Database;
  /**
   * Full access: the worker acts for the server (statuses, matching filters). Nothing read through it is sent to a
   * subscriber: resource content in a notification comes only from `gate`.
   */
  repository: Repository;
  queues: NotifyQueues;
  gate: DeliveryGate;
  /** Posts to subscribers, connecting only to allowed addresses. */
  webhooks: WebhookClient;
  logger: Logger;
  fhirBaseUrl: string;
  options: ResolvedNotifyOptions;
  /** Aborted on a hard stop, to cut in-flight HTTP requests short. */
  stopSignal: AbortSignal;
  /** Delivery latency and attempts, for the process's metrics. */
  metrics: DeliveryMetrics;
}
