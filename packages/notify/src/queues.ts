/**
 * The notification queues: names and job payload schemas, defined once (CONVENTIONS.md, practice 6). Names are
 * contract between API, worker and operators' dashboards: never renamed. Payloads carry ids and numbers only, never
 * PHI or resources; every processor re-reads what it needs, so a retried or duplicated job is harmless.
 *
 * Every job made because of a write carries that write's request id ({@link jobOriginSchema}), so the worker runs it in
 * a context rebuilt from it (services/worker job-context.ts) and a delivery can be traced to the request that caused
 * it. No job carries a principal: the one a delivery acts for is the subscription's, read again with the Subscription
 * when the job runs (a principal copied into the job could be stale by then).
 */
import { z } from 'zod';

/** BullMQ queue names. */
export const NOTIFY_QUEUES = {
  /** One job per outbox event (jobId = the outbox event id): match it against subscriptions. */
  outboxEvents: 'outbox-events',
  /** One job per numbered subscription event: deliver the subscription's events in order, through this one. */
  delivery: 'subscription-delivery',
  /** One job per Subscription version in `requested`: the handshake. */
  handshake: 'subscription-handshake',
  /** Repeatable per subscription with a heartbeat period. */
  heartbeat: 'subscription-heartbeat',
  /** Events given up on after the retry policy's last attempt; kept for operators (no processor). */
  deadLetter: 'subscription-dead-letter',
  /** One job per replay an operator asks for (admin API): that dead-lettered event is sent once more, gate first. */
  deadLetterReplay: 'subscription-dead-letter-replay',
  /**
   * One delayed job per open referral Task and follow-up step (reminder, escalation, expiry), due when the step is:
   * the job id names the step (`reminder_<task>`, `escalation_<task>`, `expiry_<task>`).
   */
  referralReminders: 'referral-reminders',
} as const;

export type NotifyQueueName = (typeof NOTIFY_QUEUES)[keyof typeof NOTIFY_QUEUES];

const fhirId = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/);
const positive = z.number().int().positive();
/** A request id as the API assigns or accepts it (`X-Request-Id`): an opaque token, never content. */
const requestIdSchema = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/);

/**
 * Where a job comes from: the id of the HTTP request whose write (or, for a replay, whose admin action) caused it.
 * Absent for the server's own work (schedules, sweeps, rebuilds) and for jobs enqueued before it was carried.
 */
export const jobOriginSchema = z.object({ requestId: requestIdSchema.optional() });
export type JobOrigin = z.infer<typeof jobOriginSchema>;

export const outboxEventJobSchema = z.object({
  eventId: z.uuid(),
  kind: z.enum(['create', 'update', 'delete']),
  resourceType: z.string().regex(/^[A-Z][A-Za-z]{1,63}$/),
  resourceId: fhirId,
  versionId: positive,
  /** Commit time of the change, epoch milliseconds. */
  occurredAt: z.number().int().nonnegative(),
  ...jobOriginSchema.shape,
});
export type OutboxEventJob = z.infer<typeof outboxEventJobSchema>;

/**
 * A delivery job, named after one numbered event, carries the request id of that event's write. One delivery job sends
 * every pending event of its subscription, so each event's lines name its own write's request (read with the event).
 */
export const deliveryJobSchema = z.object({ subscriptionId: fhirId, eventNumber: positive, ...jobOriginSchema.shape });
export type DeliveryJob = z.infer<typeof deliveryJobSchema>;

/** The handshake of a Subscription version, carrying the request id of the write that made it `requested`. */
export const handshakeJobSchema = z.object({ subscriptionId: fhirId, versionId: positive, ...jobOriginSchema.shape });
export type HandshakeJob = z.infer<typeof handshakeJobSchema>;

/** A heartbeat: the server's own schedule, caused by no request. */
export const heartbeatJobSchema = z.object({ subscriptionId: fhirId });
export type HeartbeatJob = z.infer<typeof heartbeatJobSchema>;

export const deadLetterJobSchema = z.object({
  subscriptionId: fhirId,
  eventNumber: positive,
  attempts: z.number().int().nonnegative(),
  /** HTTP status of the last attempt; absent for a network error or timeout. */
  lastStatus: z.number().int().optional(),
  /** Why the last attempt failed, as the webhook client says it (`status 503`, `timeout`, `ECONNREFUSED`); no body. */
  reason: z.string().max(200).optional(),
  /** The request id of the write whose event this is. */
  ...jobOriginSchema.shape,
});
export type DeadLetterJob = z.infer<typeof deadLetterJobSchema>;

export const deadLetterReplayJobSchema = z.object({
  subscriptionId: fhirId,
  eventNumber: positive,
  /** Here the admin request that asked for the replay, for the worker's logs. */
  ...jobOriginSchema.shape,
});
export type DeadLetterReplayJob = z.infer<typeof deadLetterReplayJobSchema>;

/** The follow-up steps of an unacknowledged referral, in order (@carecircle/care referral-follow-up.ts). */
export const REFERRAL_FOLLOW_UP_STEPS = ['reminder', 'escalation', 'expiry'] as const;

/**
 * A referral follow-up step, carrying the request id of the Task write that scheduled it (none when the sweeper rebuilt
 * it). `step` is absent in jobs from before the steps: they stand for the reminder.
 */
export const referralReminderJobSchema = z.object({
  taskId: fhirId,
  step: z.enum(REFERRAL_FOLLOW_UP_STEPS).optional(),
  /** When the step was planned for (epoch ms), so a moved deadline replaces the job. */
  due: z.number().int().nonnegative().optional(),
  ...jobOriginSchema.shape,
});
export type ReferralReminderJob = z.infer<typeof referralReminderJobSchema>;

/** BullMQ job ids (they may not contain ':'); FHIR ids never contain '_', so these are unambiguous. */
export const notifyJobIds = {
  delivery: (job: Pick<DeliveryJob, 'subscriptionId' | 'eventNumber'>) => `${job.subscriptionId}_${job.eventNumber}`,
  /** One replay of an event at a time: asking again while one waits adds nothing. */
  deadLetterReplay: (job: Pick<DeliveryJob, 'subscriptionId' | 'eventNumber'>) => `replay_${job.subscriptionId}_${job.eventNumber}`,
  handshake: (job: Pick<HandshakeJob, 'subscriptionId' | 'versionId'>) => `${job.subscriptionId}_v${job.versionId}`,
  heartbeatScheduler: (subscriptionId: string) => `heartbeat_${subscriptionId}`,
  referralReminder: (job: Pick<ReferralReminderJob, 'taskId' | 'step'>) => `${job.step ?? 'reminder'}_${job.taskId}`,
};

/** The subscription and event number of a delivery job id (`{subscription}_{number}`, a dead letter's id too). */
export function parseDeliveryJobId(id: string): DeliveryJob | undefined {
  const match = /^([A-Za-z0-9\-.]{1,64})_([1-9][0-9]{0,14})$/.exec(id);
  return match ? { subscriptionId: match[1] as string, eventNumber: Number(match[2]) } : undefined;
}
