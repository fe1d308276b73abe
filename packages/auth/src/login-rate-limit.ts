/**
 * Failed-login throttling, per username and per client address, in Redis so every replica counts together. After
 * {@link MAX_FAILURES_PER_USERNAME} failures for one username, or {@link MAX_FAILURES_PER_ADDRESS} from one address,
 * within the window, further attempts are refused (429) until the window ends; a success clears the username's count.
 * Usernames are hashed in the keys: they can be e-mail addresses, which do not belong in Redis in clear. Without
 * Redis nobody can be throttled, so sign-in is refused as temporarily unavailable rather than left unlimited.
 */
import { createHash } from 'node:crypto';
import { redisKey, type AuthDeps } from './auth-deps';
import { onRedis } from './redis-availability';

export const LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60;
export const MAX_FAILURES_PER_USERNAME = 5;
export const MAX_FAILURES_PER_ADDRESS = 30;

type LimitDeps = Pick<AuthDeps, 'redis' | 'config'>;

function keys(deps: LimitDeps, username: string, address: string): { user: string; address: string } {
  const userHash = createHash('sha256').update(username.trim().toLowerCase()).digest('base64url');
  return {
    user: redisKey(deps, 'login-fail', 'user', userHash),
    address: redisKey(deps, 'login-fail', 'addr', address),
  };
}

/** True when this username or address has failed too often recently. */
export async function isLoginThrottled(deps: LimitDeps, username: string, address: string): Promise<boolean> {
  const k = keys(deps, username, address);
  const [user, addr] = await onRedis(deps.redis.mget(k.user, k.address));
  return Number(user ?? 0) >= MAX_FAILURES_PER_USERNAME || Number(addr ?? 0) >= MAX_FAILURES_PER_ADDRESS;
}

/** Counts a failed login against the username and the address; the window starts at the first failure. */
export async function recordLoginFailure(deps: LimitDeps, username: string, address: string): Promise<void> {
  const k = keys(deps, username, address);
  await onRedis(
    deps.redis
      .multi()
      .incr(k.user)
      .expire(k.user, LOGIN_FAILURE_WINDOW_SECONDS, 'NX')
      .incr(k.address)
      .expire(k.address, LOGIN_FAILURE_WINDOW_SECONDS, 'NX')
      .exec(),
  );
}

/** Clears the username's failures after a successful login. */
export async function clearLoginFailures(deps: LimitDeps, username: string, address: string): Promise<void> {
  await onRedis(deps.redis.del(keys(deps, username, address).user));
}
