/**
 * Authorization codes: random, single use, valid 60 seconds, bound to the client, the redirect URI, the granted scope
 * and the PKCE challenge. Kept in Redis (shared by replicas, expiring by itself) under the SHA-256 of the code, and
 * consumed with GETDEL so two concurrent redemptions cannot both succeed. Redeeming a code starts a session (a new id,
 * which names the refresh-token family and goes into every access token of the sign-in as `sid`) and, in the same
 * atomic step, leaves a marker naming that session, so presenting the code again revokes everything it produced,
 * access tokens included (RFC 6749 section 4.1.2; session-revocation.ts).
 *
 * The code also records when it was issued, and redemption checks the age against the deps' clock: Redis' own
 * expiry removes codes, the recorded time is what makes the 60 seconds testable without waiting for them.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { nowMs, redisKey, type AuthDeps } from './auth-deps';
import { onRedis } from './redis-availability';
import { AUTHORIZATION_CODE_SECONDS, USER_ACCESS_TOKEN_SECONDS } from './token-lifetimes';

const codeGrantSchema = z.object({
  clientId: z.string(),
  redirectUri: z.string(),
  scope: z.string(),
  codeChallenge: z.string(),
  userId: z.string(),
});

const storedCodeSchema = codeGrantSchema.extend({ issuedAt: z.number() });

/** What a code stands for. */
export type CodeGrant = z.infer<typeof codeGrantSchema>;

type CodeDeps = Pick<AuthDeps, 'redis' | 'config' | 'clock'>;

function codeKey(deps: CodeDeps, code: string, kind: 'code' | 'code-used'): string {
  return redisKey(deps, kind, createHash('sha256').update(code).digest('base64url'));
}

/** Stores a grant and returns its new code. */
export async function issueAuthorizationCode(deps: CodeDeps, grant: CodeGrant): Promise<string> {
  const code = randomBytes(32).toString('base64url');
  const stored = JSON.stringify({ ...grant, issuedAt: nowMs(deps) });
  await onRedis(deps.redis.set(codeKey(deps, code, 'code'), stored, 'EX', AUTHORIZATION_CODE_SECONDS));
  return code;
}

/**
 * GETDEL of the code and, only when it was there, the marker naming the session its redemption starts, in one step:
 * no second presentation can come between them and find neither. Returns `[1, grant]`, or `[0, marker or nil]`.
 */
const CONSUME_SCRIPT = `
local grant = redis.call('GETDEL', KEYS[1])
if grant then
  redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
  return {1, grant}
end
return {0, redis.call('GET', KEYS[2])}
`;

/**
 * Takes the grant of a code out of the store, so it can never be redeemed again, and starts its session.
 * Returns `{ reusedSession }` when the code had already been redeemed (within the last hour: the session that
 * redemption started), `'expired'` for a code older than {@link AUTHORIZATION_CODE_SECONDS}, undefined when unknown.
 */
export async function consumeAuthorizationCode(
  deps: CodeDeps,
  code: string,
): Promise<{ grant: CodeGrant; sessionId: string } | { reusedSession: string | undefined } | 'expired' | undefined> {
  const sessionId = randomUUID();
  const result = (await onRedis(
    deps.redis.eval(CONSUME_SCRIPT, 2, codeKey(deps, code, 'code'), codeKey(deps, code, 'code-used'), sessionId, USER_ACCESS_TOKEN_SECONDS),
  )) as [number, string | null];
  const [found, value] = result;
  if (found !== 1) {
    // '-' is what markers written before sessions had ids hold.
    return value === null ? undefined : { reusedSession: value === '-' ? undefined : value };
  }
  const parsed = storedCodeSchema.safeParse(JSON.parse(value ?? 'null'));
  if (!parsed.success) {
    return undefined;
  }
  if (nowMs(deps) - parsed.data.issuedAt >= AUTHORIZATION_CODE_SECONDS * 1000) {
    return 'expired';
  }
  const { issuedAt: _issuedAt, ...grant } = parsed.data;
  return { grant, sessionId };
}
