/**
 * The dead-letter queue as the operator sees it (the API's admin routes): notifications that used up their retries,
 * listed oldest first, and replayed one at a time. A dead letter is known by its delivery job id,
 * `{subscription}_{event number}`, and shows ids, numbers, times and the last failure's status and reason, never a
 * payload (the queue holds none). Replaying queues a job for the worker (its dead-letter-replay-queue.ts), which sends the
 * event only if the subscriber may read it now, and takes the entry off this queue; a replay that fails puts it back.
 *
 * It runs on the caller's Redis connection (the API's), which the caller closes: `close()` releases the queue handles.
 */
import { Queue, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { deadLetterJobSchema, NOTIFY_QUEUES, notifyJobIds, parseDeliveryJobId, type DeadLetterJob, type DeadLetterReplayJob } from './queues';
import { DEAD_LETTER_REPLAY_JOB_RETRY, jobRetryOptions } from './retry-policy';

/**
 * A replay job: BullMQ retries only unexpected errors (database down), per {@link DEAD_LETTER_REPLAY_JOB_RETRY}
 * (1 + 2 + 4 + 8 s); receiver failures are not retried (the event goes back on the dead-letter queue). Done jobs are
 * removed so the same event can be replayed again; failed ones are kept a week for the operator.
 */
const REPLAY_JOB_OPTIONS: JobsOptions = {
  ...jobRetryOptions(DEAD_LETTER_REPLAY_JOB_RETRY),
  removeOnComplete: true,
  removeOnFail: { age: 7 * 86400 },
};

/** One dead letter, as listed. */
export interface DeadLetter {
  /** `{subscription}_{event number}`: the id to replay it by. */
  id: string;
  subscriptionId: string;
  eventNumber: number;
  /** When it was dead-lettered (ISO 8601). */
  failedAt: string;
  attempts: number;
  /** HTTP status of the last attempt; absent for a network error or timeout. */
  lastStatus?: number;
  /** Why the last attempt failed (`status 503`, `timeout`, `ECONNREFUSED` ...); absent for letters of older versions. */
  reason?: string;
}

export interface DeadLetterPage {
  /** Dead letters in the queue now. */
  total: number;
  deadLetters: DeadLetter[];
}

export interface DeadLetters {
  /** `count` dead letters from `offset` on, oldest first. */
  list(offset: number, count: number): Promise<DeadLetterPage>;
  /**
   * Queues dead letter `id` for one more delivery attempt and takes it off the dead-letter queue; undefined when there
   * is no such dead letter. `requestId` travels with the job, for the worker's logs.
   */
  replay(id: string, requestId: string): Promise<DeadLetter | undefined>;
  close(): Promise<void>;
}

function toDeadLetter(job: Job): DeadLetter | undefined {
  const parsed = deadLetterJobSchema.safeParse(job.data);
  if (!job.id || !parsed.success) {
    return undefined;
  }
  const data: DeadLetterJob = parsed.data;
  return {
    id: job.id,
    subscriptionId: data.subscriptionId,
    eventNumber: data.eventNumber,
    failedAt: new Date(job.timestamp).toISOString(),
    attempts: data.attempts,
    ...(data.lastStatus === undefined ? {} : { lastStatus: data.lastStatus }),
    ...(data.reason === undefined ? {} : { reason: data.reason }),
  };
}

/** The dead letters of the queues under `prefix`, on `connection` (shared: not closed here). */
export function openDeadLetters(connection: Redis, prefix: string): DeadLetters {
  const deadLetterQueue = new Queue(NOTIFY_QUEUES.deadLetter, { connection, prefix });
  const replayQueue = new Queue(NOTIFY_QUEUES.deadLetterReplay, { connection, prefix });
  return {
    async list(offset, count) {
      // Dead letters have no processor: they wait in the queue until replayed.
      const [jobs, counts] = await Promise.all([
        deadLetterQueue.getJobs(['wait'], offset, offset + count - 1, true),
        deadLetterQueue.getJobCounts('wait'),
      ]);
      return {
        total: counts.wait ?? 0,
        deadLetters: jobs.flatMap((job) => toDeadLetter(job) ?? []),
      };
    },
    async replay(id, requestId) {
      const key = parseDeliveryJobId(id);
      const job = key ? await deadLetterQueue.getJob(id) : undefined;
      const deadLetter = job ? toDeadLetter(job) : undefined;
      if (!key || !job || !deadLetter) {
        return undefined;
      }
      const replay: DeadLetterReplayJob = { ...key, requestId };
      await replayQueue.add('replay', replay, { ...REPLAY_JOB_OPTIONS, jobId: notifyJobIds.deadLetterReplay(key) });
      await job.remove();
      return deadLetter;
    },
    async close() {
      await Promise.all([deadLetterQueue.close(), replayQueue.close()]);
    },
  };
}
