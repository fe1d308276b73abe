/**
 * How often and how long a notification is retried (DESIGN.md: at-least-once, exponential back-off, dead-letter queue).
 */

export interface RetryPolicy {
  /** Attempts per event, the first included; after the last failure the event is dead-lettered. */
  maxAttempts: number;
  /** Delay before the second attempt; each later delay doubles. */
  baseDelayMs: number;
  /** No computed delay is longer. */
  maxDelayMs: number;
  /** A receiver's Retry-After is honoured up to this long. */
  maxRetryAfterMs: number;
  /** Failed attempts in a row after which the Subscription's status becomes `error` (back to `active` on a success). */
  errorAfterFailures: number;
}

/**
 * The production policy. Delays after failed attempts 1..7: 5 s, 10 s, 20 s, 40 s, 80 s, 160 s, 320 s
 * (5 s * 2^(n-1), each under the 600 s cap); the 8th failure dead-letters the event after 5+10+20+40+80+160+320 =
 * 635 s, about 10.5 minutes of trying. Three failures in a row (5 + 10 = 15 s into an outage) mark the subscription
 * `error`. A 429/503 Retry-After longer than the computed delay replaces it (up to one hour); it still counts as an
 * attempt.
 */
export const DELIVERY_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 8,
  baseDelayMs: 5_000,
  maxDelayMs: 600_000,
  maxRetryAfterMs: 3_600_000,
  errorAfterFailures: 3,
};

/** The delay after failed attempt number `attempt` (1-based), with up to 10 % jitter so retries do not stampede. */
export function retryDelayMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const exponential = policy.baseDelayMs * 2 ** Math.max(0, attempt - 1);
  const capped = Math.min(exponential, policy.maxDelayMs);
  return Math.round(capped * (1 + 0.1 * random()));
}

/**
 * The delay before the next attempt after failed attempt number `attempt`: the computed back-off, or the receiver's
 * Retry-After when that is longer (never sooner than it asked, never longer than `maxRetryAfterMs`).
 */
export function nextAttemptDelayMs(policy: RetryPolicy, attempt: number, retryAfterMs: number | undefined): number {
  const computed = retryDelayMs(policy, attempt);
  return retryAfterMs === undefined ? computed : Math.max(computed, Math.min(retryAfterMs, policy.maxRetryAfterMs));
}

/** Parses Retry-After (delay seconds or an HTTP date) into milliseconds from `now`; undefined when absent or invalid. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (!value) {
    return undefined;
  }
  if (/^\d{1,9}$/.test(value.trim())) {
    return Number(value.trim()) * 1000;
  }
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * How BullMQ retries a queue's job when its processor throws (an unexpected error: the database or Redis away, a bug),
 * and how often a job whose worker died is taken over. Receiver failures are not these: they follow
 * {@link DELIVERY_RETRY_POLICY}. Structurally BullMQ's `attempts`/`backoff` job options, so notify needs no BullMQ.
 * BullMQ's exponential back-off waits `delay * 2^(n-1)` after failed attempt n.
 */
export interface JobRetryPolicy {
  /** Attempts per job, the first included. */
  readonly attempts: number;
  /** Exponential back-off from `delay` ms; absent: the next attempt runs at once. */
  readonly backoff?: { readonly type: 'exponential'; readonly delay: number };
  /** Times a job whose worker stopped answering (lock lost) is handed to another worker before it fails. */
  readonly maxStalledCount: number;
}

/**
 * Matching (`outbox-events`): 10 attempts, waits 0.5 s doubling: 0.5 + 1 + 2 + ... + 128 s = 0.5 s * (2^9 - 1) =
 * 255.5 s, about 4 minutes of trying before the job fails (the sweeper hands the outbox row back after that anyway).
 * Taken over up to 5 times after a worker dies.
 */
export const OUTBOX_EVENT_JOB_RETRY: JobRetryPolicy = { attempts: 10, backoff: { type: 'exponential', delay: 500 }, maxStalledCount: 5 };

/**
 * Delivery (`subscription-delivery`): 20 attempts, waits 1 s doubling: 1 + 2 + ... + 2^18 s = 2^19 - 1 s, about six
 * days, so a database outage of any plausible length does not lose the job. Taken over up to 20 times after a worker
 * dies (deliveries run longest, so they meet most restarts).
 */
export const DELIVERY_JOB_RETRY: JobRetryPolicy = { attempts: 20, backoff: { type: 'exponential', delay: 1000 }, maxStalledCount: 20 };

/** Handshakes (`subscription-handshake`): 5 attempts, waits 1 + 2 + 4 + 8 = 15 s in all. Taken over once. */
export const HANDSHAKE_JOB_RETRY: JobRetryPolicy = { attempts: 5, backoff: { type: 'exponential', delay: 1000 }, maxStalledCount: 1 };

/**
 * Referral reminders (`referral-reminders`): 5 attempts back to back, no wait (the Communications are conditional
 * creates, so a retry writes nothing twice; a job that used them up is rebuilt by the sweeper). Taken over once.
 */
export const REFERRAL_REMINDER_JOB_RETRY: JobRetryPolicy = { attempts: 5, maxStalledCount: 1 };

/**
 * Dead-letter replays (`subscription-dead-letter-replay`): 5 attempts, waits 1 + 2 + 4 + 8 = 15 s in all; a receiver
 * failure is not retried (the event goes back on the dead-letter queue). Taken over once.
 */
export const DEAD_LETTER_REPLAY_JOB_RETRY: JobRetryPolicy = { attempts: 5, backoff: { type: 'exponential', delay: 1000 }, maxStalledCount: 1 };

/** Heartbeats (`subscription-heartbeat`): one attempt (the next period sends another); taken over once. */
export const HEARTBEAT_JOB_RETRY: JobRetryPolicy = { attempts: 1, maxStalledCount: 1 };

/** `policy`'s attempts and back-off as BullMQ job options (`maxStalledCount` is a worker option, applied there). */
export function jobRetryOptions(policy: JobRetryPolicy): { attempts: number; backoff?: { type: 'exponential'; delay: number } } {
  return { attempts: policy.attempts, ...(policy.backoff ? { backoff: { ...policy.backoff } } : {}) };
}
