/**
 * A per-caller limit on refused requests (issue 17, finding 5). Every read of a client's resource that no consent
 * permits is recorded in that client's accounting of disclosures (one AuditEvent per client per request, however many
 * refusals the request folds: disclosure-audit.ts); a caller with `limit` refused requests within
 * {@link DENIAL_WINDOW_SECONDS} is answered 429 with `Retry-After` until the window ends, so no partner can grow a
 * client's trail (or probe ids) at will. Counted per caller (OAuth client, and user for a practitioner, at its
 * organization), in Redis so every replica counts together, like the sign-in limits (login-rate-limit.ts).
 *
 * Asking Redis before every request cost a round trip per request (a tenth of a custodian read's CPU), almost always
 * to learn that the caller was never refused. A process therefore asks Redis only about callers it has itself counted
 * a refusal of in the current window (its INCR's answer tells it); a caller refused only on other replicas is asked
 * about once this replica refuses it too. So every replica enforces the shared count exactly from its own first
 * refusal of a caller on, and a caller over the limit can be refused at most once more per replica per window: one
 * more record in a client's trail per replica, not a trail grown at will.
 *
 * When Redis does not answer, the limit does not silently lapse, nor does every partner request fail: each process
 * keeps counting in memory (the limit then holds per replica) and the `onRedisDown` callback is told, so the operator
 * sees it in the logs.
 */
import { hash } from 'node:crypto';
import { tooManyRequests } from '@medplum/core';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { nowMs, redisKey, type AuthDeps } from './auth-deps';
import { describeCaller, type Caller } from './caller';
import { onRedis } from './redis-availability';

/** The window refused requests are counted in. */
export const DENIAL_WINDOW_SECONDS = 60;

type LimitDeps = Pick<AuthDeps, 'redis' | 'config' | 'clock'>;

/** The limit of one process: asked before a request, told after it. */
export interface DeniedRequestLimit {
  /** Seconds `caller` must wait before its next request, or undefined when it is within the limit. */
  retryAfter(caller: Caller): Promise<number | undefined>;
  /** Counts one refused request (however many refusals it made) in `caller`'s window. */
  countRefusedRequest(caller: Caller): Promise<void>;
}

/** The 429 OperationOutcome (`too-many-requests`) of a caller over the limit, saying how long to wait. */
export function tooManyDenials(retryAfterSeconds: number): OperationOutcome {
  return {
    ...tooManyRequests,
    issue: [
      {
        severity: 'error',
        code: 'throttled',
        details: { text: `Too many requests refused for lack of consent; try again in ${retryAfterSeconds} s` },
      },
    ],
  };
}

/** Callers whose reads can be refused by consent: organizations' systems and practitioners. */
function canBeRefused(caller: Caller): boolean {
  return caller.kind === 'system' || caller.kind === 'practitioner';
}

/**
 * The limit of `limit` refused requests per window (0: none) over `deps.redis`; `onRedisDown` is called (with the
 * error) each time Redis does not answer and the process's own count is used instead.
 */
export function createDeniedRequestLimit(deps: LimitDeps, limit: number, onRedisDown: (err: unknown) => void): DeniedRequestLimit {
  const isLimited = (caller: Caller): boolean => limit > 0 && canBeRefused(caller);
  const local = new Map<string, { count: number; endsAtMs: number }>();
  // Callers this process has counted a refusal of, until when their window can last: only these are asked about.
  const refusedHere = new Map<string, number>();
  const keyOf = (caller: Caller): string =>
    redisKey(deps, 'denied', hash('sha256', JSON.stringify(describeCaller(caller)), 'base64url'));

  function refusedHereRecently(key: string): boolean {
    const until = refusedHere.get(key);
    if (until === undefined) {
      return false;
    }
    if (until > nowMs(deps)) {
      return true;
    }
    refusedHere.delete(key);
    return false;
  }

  function noteRefusedHere(key: string): void {
    const now = nowMs(deps);
    for (const [k, until] of refusedHere) {
      if (until <= now) {
        refusedHere.delete(k);
      }
    }
    refusedHere.set(key, now + DENIAL_WINDOW_SECONDS * 1000);
  }

  function localWindow(key: string): { count: number; endsAtMs: number } {
    const now = nowMs(deps);
    for (const [k, w] of local) {
      if (w.endsAtMs <= now) {
        local.delete(k);
      }
    }
    const window = local.get(key) ?? { count: 0, endsAtMs: now + DENIAL_WINDOW_SECONDS * 1000 };
    local.set(key, window);
    return window;
  }

  return {
    async retryAfter(caller) {
      if (!isLimited(caller) || refusedHere.size === 0) {
        // No caller refused here: nothing to ask, and no key to compute.
        return undefined;
      }
      const key = keyOf(caller);
      if (!refusedHereRecently(key)) {
        return undefined;
      }
      let count: number;
      let waitMs: number;
      try {
        const replies = await onRedis(deps.redis.multi().get(key).pttl(key).exec());
        const [stored, ttl] = (replies ?? []).map(([, value]) => value) as [string | null | undefined, number | undefined];
        count = Number(stored ?? 0);
        waitMs = ttl !== undefined && ttl > 0 ? ttl : DENIAL_WINDOW_SECONDS * 1000;
      } catch (err) {
        onRedisDown(err);
        const window = localWindow(key);
        count = window.count;
        waitMs = window.endsAtMs - nowMs(deps);
      }
      return count >= limit ? Math.max(1, Math.ceil(waitMs / 1000)) : undefined;
    },
    async countRefusedRequest(caller) {
      if (!isLimited(caller)) {
        return;
      }
      const key = keyOf(caller);
      noteRefusedHere(key);
      try {
        await onRedis(deps.redis.multi().incr(key).expire(key, DENIAL_WINDOW_SECONDS, 'NX').exec());
      } catch (err) {
        onRedisDown(err);
        localWindow(key).count++;
      }
    },
  };
}
