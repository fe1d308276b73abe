/**
 * The context a job runs in, rebuilt from what its payload carries (CONVENTIONS.md, practices 3 and 6): the id of the
 * request whose write caused the job, the queue and the job id, in AsyncLocalStorage as the API keeps its request
 * context, and the worker's logger bound to that request id, so the job's lines name the request an operator finds in
 * the API's access log. The worker's own writes do not take the request id on: DESIGN.md records none for the server's
 * own writes, so this context is for logs and tracing only, never for the outbox or access decisions.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from '@carecircle/log';
import { jobOriginSchema, type NotifyQueueName } from '@carecircle/notify';
import type { Job } from 'bullmq';

export interface JobContext {
  readonly queue: NotifyQueueName;
  readonly jobId: string | undefined;
  /** The request whose write (or admin action) caused the job; undefined for the server's own work. */
  readonly requestId: string | undefined;
}

const storage = new AsyncLocalStorage<JobContext>();

/** The context a job's payload describes (a payload without a valid request id gets none). */
export function jobContextOf(queue: NotifyQueueName, job: Pick<Job, 'id' | 'data'>): JobContext {
  const origin = jobOriginSchema.safeParse(job.data);
  return { queue, jobId: job.id, requestId: origin.success ? origin.data.requestId : undefined };
}

/** Runs `fn` (and everything it starts) as the work of the job `context` describes. */
export function runInJobContext<T>(context: JobContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** The context of the job being processed; undefined outside one (the relay, the sweeper, start-up). */
export function currentJobContext(): JobContext | undefined {
  return storage.getStore();
}

/** `logger` bound to the request id of `context`, when it has one: every line it writes names that request. */
export function jobLogger(logger: Logger, context: JobContext): Logger {
  return context.requestId === undefined ? logger : logger.child({ requestId: context.requestId });
}
