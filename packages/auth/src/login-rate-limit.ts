/**
 * Failed-sign-in throttling, in Redis so every replica counts together. Two limits, neither of which lets anyone lock
 * another person out by knowing their username:
 *
 * - per username and client address together: the first {@link FREE_FAILURES_PER_PAIR} failures cost nothing, then
 *   each attempt must wait after the last failure, a delay doubling with every further failure (15 s, 30 s, 1 min ...,
 *   at most {@link MAX_PAIR_DELAY_SECONDS}). Guessing one person's password from one address slows to a crawl; the
 *   person signing in from their own address is not slowed at all. A success clears the pair's count; so does an
 *   hour without failures.
 * - per client address: {@link MAX_FAILURES_PER_ADDRESS} failures within {@link LOGIN_FAILURE_WINDOW_SECONDS},
 *   whatever the usernames, then refused until the window ends (one address trying many usernames).
 *
 * (A username-wide limit, as there was, locked its owner out for 15 minutes after five wrong passwords from anyone.)
 * Usernames are hashed in the keys: they can be e-mail addresses, which do not belong in Redis in clear. Without
 * Redis nobody can be throttled, so sign-in is refused as temporarily unavailable rather than left unlimited.
 */
import { createHash } from 'node:crypto';
import { nowMs, redisKey, type AuthDeps } from './auth-deps';
import { onRedis } from './redis-availability';

export const LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60;
export const MAX_FAILURES_PER_ADDRESS = 30;
/** Failures of one username from one address that cost no waiting. */
export const FREE_FAILURES_PER_PAIR = 4;
/** The first wait, after failure number FREE_FAILURES_PER_PAIR + 1; each further failure doubles it. */
export const FIRST_PAIR_DELAY_SECONDS = 15;
export const MAX_PAIR_DELAY_SECONDS = LOGIN_FAILURE_WINDOW_SECONDS;
/** A pair's count is forgotten this long after its last failure (longer than the longest delay, so it keeps growing). */
export const PAIR_MEMORY_SECONDS = 60 * 60;

type LimitDeps = Pick<AuthDeps, 'redis' | 'config' | 'clock'>;

function keys(deps: LimitDeps, username: string, address: string): { pair: string; address: string } {
  const pairHash = createHash('sha256').update(`${username.trim().toLowerCase()}\u0000${address}`).digest('base64url');
  return {
    pair: redisKey(deps, 'login-fail', 'pair', pairHash),
    address: redisKey(deps, 'login-fail', 'addr', address),
  };
}

/** Seconds a username and address pair waits after its `failures`-th failure. */
export function pairDelaySeconds(failures: number): number {
  if (failures <= FREE_FAILURES_PER_PAIR) {
    return 0;
  }
  return Math.min(MAX_PAIR_DELAY_SECONDS, FIRST_PAIR_DELAY_SECONDS * 2 ** (failures - FREE_FAILURES_PER_PAIR - 1));
}

/**
 * How many seconds this username from this address must still wait before trying again, or undefined when it may
 * try now.
 */
export async function loginRetryAfter(deps: LimitDeps, username: string, address: string): Promise<number | undefined> {
  const k = keys(deps, username, address);
  const replies = await onRedis(deps.redis.multi().hmget(k.pair, 'count', 'last').get(k.address).pttl(k.address).exec());
  const [pair, addressCount, addressTtl] = (replies ?? []).map(([, value]) => value) as [
    [string | null, string | null] | undefined,
    string | null | undefined,
    number | undefined,
  ];
  if (Number(addressCount ?? 0) >= MAX_FAILURES_PER_ADDRESS) {
    return Math.max(1, Math.ceil((addressTtl ?? LOGIN_FAILURE_WINDOW_SECONDS * 1000) / 1000));
  }
  const waitMs = Number(pair?.[1] ?? 0) + pairDelaySeconds(Number(pair?.[0] ?? 0)) * 1000 - nowMs(deps);
  return waitMs > 0 ? Math.ceil(waitMs / 1000) : undefined;
}

/** Counts a failed sign-in against the username and address pair, and against the address. */
export async function recordLoginFailure(deps: LimitDeps, username: string, address: string): Promise<void> {
  const k = keys(deps, username, address);
  await onRedis(
    deps.redis
      .multi()
      .hincrby(k.pair, 'count', 1)
      .hset(k.pair, 'last', String(nowMs(deps)))
      .expire(k.pair, PAIR_MEMORY_SECONDS)
      .incr(k.address)
      .expire(k.address, LOGIN_FAILURE_WINDOW_SECONDS, 'NX')
      .exec(),
  );
}

/** Clears the pair's failures after a successful sign-in (the address's count stays). */
export async function clearLoginFailures(deps: LimitDeps, username: string, address: string): Promise<void> {
  await onRedis(deps.redis.del(keys(deps, username, address).pair));
}
