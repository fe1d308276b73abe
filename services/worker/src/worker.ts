/**
 * The worker: the queue side of CareCircle. It owns one Redis connection, the notification queues (names and job
 * schemas from @carecircle/notify) and their processors, one file per queue:
 *
 *   outbox table --outbox-relay.ts--> outbox-events --outbox-events-queue.ts (matching)--> subscription-delivery
 *   --delivery-queue.ts--> subscriber (signed POST); dead letters to subscription-dead-letter, listed and replayed
 *   by the operator (dead-letters.ts, through subscription-dead-letter-replay and dead-letter-replay-queue.ts);
 *   Subscription changes --> subscription-handshake (handshake-queue.ts); subscription-heartbeat (heartbeat-queue.ts);
 *   open referral Tasks --> referral-reminders (referral-reminders-queue.ts); lost jobs rebuilt from Postgres by
 *   delivery-sweeper.ts.
 *
 * Lifecycle: start checks Redis (and says how to start it), loads the FHIR definitions matching needs, starts the relay
 * and the BullMQ workers; close stops the relay, drains the workers (jobs in flight finish; with Redis away they are
 * closed by force), closes the queues and the connection, each step bounded in time. The database is the caller's to
 * close.
 */
import { hostname } from 'node:os';
import type { Config } from '@carecircle/config';
import { loadFhirDefinitions } from '@carecircle/fhir';
import type { Logger } from '@carecircle/log';
import { accessSettingsFrom, createConsentDeliveryGate, createServerRepository } from '@carecircle/access';
import {
  DEAD_LETTER_REPLAY_JOB_RETRY,
  DELIVERY_JOB_RETRY,
  HANDSHAKE_JOB_RETRY,
  HEARTBEAT_JOB_RETRY,
  jobRetryOptions,
  NOTIFY_QUEUES,
  OUTBOX_EVENT_JOB_RETRY,
  REFERRAL_REMINDER_JOB_RETRY,
  type DeliveryGate,
  type JobRetryPolicy,
  type NotifyQueueName,
} from '@carecircle/notify';
import type { Database } from '@carecircle/store';
import { Queue, Worker, type Job, type JobsOptions, type WorkerOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { processDeadLetterReplay } from './dead-letter-replay-queue';
import { processDelivery } from './delivery-queue';
import { startStatisticsKeeper } from './statistics-keeper';
import { recordOutboxEventMatched, startDeliverySweeper } from './delivery-sweeper';
import { processHandshake } from './handshake-queue';
import { processHeartbeat } from './heartbeat-queue';
import { jobContextOf, jobLogger, runInJobContext } from './job-context';
import { notifyOptionsFrom, resolveNotifyOptions, type NotifyContext, type NotifyOptions, type NotifyQueues } from './notify-context';
import { processOutboxEvent } from './outbox-events-queue';
import { processReferralReminder } from './referral-reminders-queue';
import { startSearchReindexer } from './search-reindexer';
import { startOutboxRelay } from './outbox-relay';
import { createWebhookClient } from './webhook-client';
import { registerWorkerMetrics } from './worker-metrics';

export interface WorkerDependencies {
  config: Config;
  db: Database;
  logger: Logger;
  /**
   * Asked before a change is numbered for a subscriber and before anything about it is sent. Default: the consent-based
   * gate of @carecircle/access (the subscriber's organization must be allowed to read that version now; disclosures are
   * audited).
   */
  deliveryGate?: DeliveryGate;
  /** Notification tunables (timeouts, retry policy, loopback http for development); by default from `config.notify`. */
  notify?: NotifyOptions;
  /** Where the worker's metrics are registered (the process's registry, see worker-metrics.ts); default a private one. */
  metrics?: Registry;
}

export interface RunningWorker {
  /** Stops taking jobs, lets running ones finish, then closes the worker's own connections (not `db`). Idempotent. */
  close(): Promise<void>;
  /** True while every queue consumer runs: false once closing, or when one stopped by itself (only a restart helps). */
  queuesRunning(): boolean;
  /** Resolves when Redis answers PING on the worker's connection; rejects at once while that connection is down. */
  pingRedis(): Promise<void>;
}

/** Completed jobs are kept an hour (the relay's jobId de-duplication covers a relay restart), failed ones a week. */
const KEEP_JOBS: JobsOptions = { removeOnComplete: { age: 3600 }, removeOnFail: { age: 7 * 86400 } };

/** A queue's default job options: `policy`'s attempts and back-off, and {@link KEEP_JOBS}. */
function retriedJobs(policy: JobRetryPolicy): JobsOptions {
  return { ...jobRetryOptions(policy), ...KEEP_JOBS };
}

/** How long one step of close (relay, consumers, queues, connection) may wait: jobs in flight finish within it. */
const CLOSE_STEP_MS = 15_000;
/** The same when Redis is away at close: nothing can finish, so the steps only get the chance to. */
const CLOSE_STEP_REDIS_AWAY_MS = 1000;

/** Starts the worker over an already-open database; throws when Redis cannot be reached. */
export async function startWorker({ config, db, logger, deliveryGate, notify, metrics }: WorkerDependencies): Promise<RunningWorker> {
  // BullMQ requires maxRetriesPerRequest: null on connections used by workers (blocking commands).
  const connection = new Redis(config.redisUrl, {
    maxRetriesPerRequest: null,
    lazyConnect: true,
    connectTimeout: 5000,
    connectionName: `carecircle-worker-${hostname()}-${process.pid}`,
  });
  connection.on('error', () => undefined);
  try {
    await connection.connect();
    await connection.ping();
  } catch {
    connection.disconnect();
    throw new Error(`Worker cannot reach Redis. Start it (e.g. \`redis-server --daemonize yes\`) or set REDIS_URL.`);
  }
  loadFhirDefinitions();
  const options = resolveNotifyOptions({ referralFollowUp: config.referralDeadlines, ...(notify ?? notifyOptionsFrom(config)) });
  const gate = deliveryGate ?? createConsentDeliveryGate(db, accessSettingsFrom(config));
  const queueOptions = { connection, prefix: config.redisPrefix };
  const queues: NotifyQueues = {
    outboxEvents: new Queue(NOTIFY_QUEUES.outboxEvents, { ...queueOptions, defaultJobOptions: retriedJobs(OUTBOX_EVENT_JOB_RETRY) }),
    // BullMQ attempts only cover unexpected errors (database down); receiver failures are retried by the retry
    // policy through the delayed set, without using these.
    delivery: new Queue(NOTIFY_QUEUES.delivery, { ...queueOptions, defaultJobOptions: retriedJobs(DELIVERY_JOB_RETRY) }),
    handshake: new Queue(NOTIFY_QUEUES.handshake, { ...queueOptions, defaultJobOptions: retriedJobs(HANDSHAKE_JOB_RETRY) }),
    heartbeat: new Queue(NOTIFY_QUEUES.heartbeat, queueOptions),
    deadLetter: new Queue(NOTIFY_QUEUES.deadLetter, queueOptions),
    referralReminders: new Queue(NOTIFY_QUEUES.referralReminders, queueOptions),
  };
  for (const [name, queue] of Object.entries(queues)) {
    queue.on('error', (err: Error) => logger.warn({ queue: name, err: err.name }, 'queue error'));
  }
  const stop = new AbortController();
  const ctx: NotifyContext = {
    db,
    // The server's own: every right, its writes (Subscription statuses) through the write pipeline as the server.
    repository: createServerRepository(db, accessSettingsFrom(config)),
    queues,
    gate,
    webhooks: createWebhookClient({ allowLoopback: options.allowLoopbackHttp }),
    logger,
    fhirBaseUrl: config.fhirBaseUrl,
    options,
    stopSignal: stop.signal,
    metrics: registerWorkerMetrics(metrics ?? new Registry(), {
      db,
      queues: Object.values(queues),
      deadLetter: queues.deadLetter,
      redisReady: () => connection.status === 'ready',
    }),
  };
  const workerOptions = (concurrency: number, retry: JobRetryPolicy): WorkerOptions => ({
    ...queueOptions,
    concurrency,
    lockDuration: options.lockDurationMs,
    stalledInterval: options.stalledIntervalMs,
    maxStalledCount: retry.maxStalledCount,
  });
  /**
   * Each job runs in the context its payload describes (job-context.ts): its request id in AsyncLocalStorage and on its
   * log lines. A delivery job's lines name each event's own request instead (one job sends several events), so its
   * logger is left unbound.
   */
  const inJobContext =
    (queue: NotifyQueueName, processJob: (ctx: NotifyContext, job: Job, token?: string) => Promise<void>, bindLogger = true) =>
    (job: Job, token?: string): Promise<void> => {
      const context = jobContextOf(queue, job);
      const jobCtx = bindLogger ? { ...ctx, logger: jobLogger(ctx.logger, context) } : ctx;
      return runInJobContext(context, () => processJob(jobCtx, job, token));
    };
  const processors: [NotifyQueueName, (job: Job, token?: string) => Promise<void>, WorkerOptions][] = [
    [
      NOTIFY_QUEUES.outboxEvents,
      inJobContext(NOTIFY_QUEUES.outboxEvents, async (jobCtx, job) => {
        await processOutboxEvent(jobCtx, job);
        await recordOutboxEventMatched(db, job);
      }),
      workerOptions(options.matchConcurrency, OUTBOX_EVENT_JOB_RETRY),
    ],
    [
      NOTIFY_QUEUES.delivery,
      inJobContext(NOTIFY_QUEUES.delivery, (jobCtx, job, token) => processDelivery(jobCtx, job, token), false),
      workerOptions(options.deliveryConcurrency, DELIVERY_JOB_RETRY),
    ],
    [NOTIFY_QUEUES.handshake, inJobContext(NOTIFY_QUEUES.handshake, processHandshake), workerOptions(4, HANDSHAKE_JOB_RETRY)],
    [NOTIFY_QUEUES.heartbeat, inJobContext(NOTIFY_QUEUES.heartbeat, processHeartbeat), workerOptions(4, HEARTBEAT_JOB_RETRY)],
    [
      NOTIFY_QUEUES.referralReminders,
      inJobContext(NOTIFY_QUEUES.referralReminders, processReferralReminder),
      workerOptions(2, REFERRAL_REMINDER_JOB_RETRY),
    ],
    [
      NOTIFY_QUEUES.deadLetterReplay,
      inJobContext(NOTIFY_QUEUES.deadLetterReplay, processDeadLetterReplay),
      workerOptions(2, DEAD_LETTER_REPLAY_JOB_RETRY),
    ],
  ];
  const workers = processors.map(([name, processor, opts]) => {
    const worker = new Worker(name, processor, opts);
    worker.on('error', (err) => logger.warn({ queue: name, err: err.name }, 'queue worker error'));
    worker.on('failed', (job, err) =>
      logger.warn(
        { requestId: job ? jobContextOf(name, job).requestId : undefined, queue: name, jobId: job?.id, attemptsMade: job?.attemptsMade, err: err.name },
        'job failed',
      ),
    );
    return worker;
  });
  // Connected before start returns, so a quick close never races a connection still being set up.
  await Promise.all([...workers, ...Object.values(queues)].map((w) => w.waitUntilReady()));
  const relay = startOutboxRelay(db, queues.outboxEvents, logger, options.relayIntervalMs);
  const sweeper = startDeliverySweeper(ctx);
  const reindexer = startSearchReindexer(db, logger);
  const statistics = startStatisticsKeeper(db, logger);
  logger.info({ queues: Object.values(NOTIFY_QUEUES) }, 'worker started');
  let closing: Promise<void> | undefined;
  const closeOnce = async () => {
    // With Redis away, a graceful close would wait for it for ever (BullMQ's close and ioredis' commands queue until it
    // is back): the consumers are then closed by force (a job in flight is taken over once its lock expires, by
    // BullMQ's stalled-job check) and each step waits briefly. Redis can also go while closing, hence a deadline on
    // every step either way.
    // Asked, not read off the connection's state: right after Redis goes, the connection still says 'ready' until its
    // socket's end is noticed, and a graceful close then waits out every step's deadline.
    const redisAway =
      connection.status !== 'ready' || !(await settledWithin(connection.ping(), CLOSE_STEP_REDIS_AWAY_MS).catch(() => false));
    const stepMs = redisAway ? CLOSE_STEP_REDIS_AWAY_MS : CLOSE_STEP_MS;
    await settledWithin(Promise.all([relay.close(), sweeper.close(), statistics.close()]), stepMs);
    await settledWithin(reindexer.close(), stepMs);
    await settledWithin(Promise.all(workers.map((w) => w.close(redisAway))), stepMs);
    stop.abort();
    ctx.webhooks.close();
    await settledWithin(Promise.all(Object.values(queues).map((q) => q.close())), stepMs);
    // quit() lets Redis close the connection; disconnect() (only if quit fails, hangs, or Redis is away) arms a 2 s
    // timer of ioredis's own.
    const quit = connection.status === 'ready' && (await settledWithin(connection.quit(), stepMs).catch(() => false));
    if (!quit) {
      connection.disconnect();
    }
    logger.info('worker stopped');
  };
  return {
    // Idempotent: a second close waits for the first (and never touches the closed connection again).
    close: () => (closing ??= closeOnce()),
    queuesRunning: () => closing === undefined && workers.every((w) => w.isRunning()),
    async pingRedis() {
      // The connection queues commands while it reconnects (maxRetriesPerRequest: null): a probe must not wait.
      if (connection.status !== 'ready') {
        throw new Error(`Redis connection is ${connection.status}`);
      }
      await connection.ping();
    },
  };
}

/**
 * Waits until `work` settles, or `ms` pass, whichever is first: true when it resolved in time, false when the time ran
 * out; rejects as `work` does.
 */
async function settledWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true as const), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
