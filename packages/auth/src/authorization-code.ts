/**
 * Authorization codes: random, single use, valid 60 seconds, bound to the client, the redirect URI, the granted scope
 * and the PKCE challenge. Kept in Redis (shared by replicas, expiring by itself) under the SHA-256 of the code, and
 * consumed with GETDEL so two concurrent redemptions cannot both succeed. A redeemed code leaves a marker naming the
 * refresh-token family it produced, so presenting it again revokes that family (RFC 6749 section 4.1.2).
 *
 * The code also records when it was issued, and redemption checks the age against the deps' clock: Redis' own
 * expiry removes codes, the recorded time is what makes the 60 seconds testable without waiting for them.
 */
import { createHash, randomBytes } from 'node:crypto';
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
 * Takes the grant of a code out of the store, so it can never be redeemed again.
 * Returns `{ reusedFamily }` when the code had already been redeemed (within the last hour), `'expired'` for a code
 * older than {@link AUTHORIZATION_CODE_SECONDS}, undefined when unknown.
 */
export async function consumeAuthorizationCode(
  deps: CodeDeps,
  code: string,
): Promise<{ grant: CodeGrant } | { reusedFamily: string | undefined } | 'expired' | undefined> {
  const raw = await onRedis(deps.redis.getdel(codeKey(deps, code, 'code')));
  if (raw === null) {
    const used = await onRedis(deps.redis.get(codeKey(deps, code, 'code-used')));
    return used === null ? undefined : { reusedFamily: used === '-' ? undefined : used };
  }
  const parsed = storedCodeSchema.safeParse(JSON.parse(raw));
  if (!parsed.success) {
    return undefined;
  }
  await onRedis(deps.redis.set(codeKey(deps, code, 'code-used'), '-', 'EX', USER_ACCESS_TOKEN_SECONDS));
  if (nowMs(deps) - parsed.data.issuedAt >= AUTHORIZATION_CODE_SECONDS * 1000) {
    return 'expired';
  }
  const { issuedAt: _issuedAt, ...grant } = parsed.data;
  return { grant };
}

/** Records which refresh-token family a redeemed code produced, for reuse detection. */
export async function recordCodeFamily(deps: CodeDeps, code: string, familyId: string): Promise<void> {
  await onRedis(deps.redis.set(codeKey(deps, code, 'code-used'), familyId, 'EX', USER_ACCESS_TOKEN_SECONDS));
}
