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
