/**
 * Authorization codes: random, single use, valid 60 seconds, bound to the client, the redirect URI, the granted scope
 * and the PKCE challenge. Kept in Redis (shared by replicas, expiring by itself) under the SHA-256 of the code, and
 * consumed with GETDEL so two concurrent redemptions cannot both succeed. A redeemed code leaves a marker naming the
 * refresh-token family it produced, so presenting it again revokes that family (RFC 6749 section 4.1.2).
 */
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { redisKey, type AuthDeps } from './auth-deps';
import { AUTHORIZATION_CODE_SECONDS, USER_ACCESS_TOKEN_SECONDS } from './token-lifetimes';

const codeGrantSchema = z.object({
  clientId: z.string(),
  redirectUri: z.string(),
  scope: z.string(),
  codeChallenge: z.string(),
  userId: z.string(),
});

/** What a code stands for. */
export type CodeGrant = z.infer<typeof codeGrantSchema>;

type CodeDeps = Pick<AuthDeps, 'redis' | 'config'>;

function codeKey(deps: CodeDeps, code: string, kind: 'code' | 'code-used'): string {
  return redisKey(deps, kind, createHash('sha256').update(code).digest('base64url'));
}

/** Stores a grant and returns its new code. */
export async function issueAuthorizationCode(deps: CodeDeps, grant: CodeGrant): Promise<string> {
  const code = randomBytes(32).toString('base64url');
  await deps.redis.set(codeKey(deps, code, 'code'), JSON.stringify(grant), 'EX', AUTHORIZATION_CODE_SECONDS);
  return code;
}

/**
 * Takes the grant of a code out of the store, so it can never be redeemed again.
 * Returns `{ reused: familyId }` when the code had already been redeemed (within the last hour), undefined when unknown.
 */
export async function consumeAuthorizationCode(
  deps: CodeDeps,
  code: string,
): Promise<{ grant: CodeGrant } | { reusedFamily: string | undefined } | undefined> {
  const raw = await deps.redis.getdel(codeKey(deps, code, 'code'));
  if (raw === null) {
    const used = await deps.redis.get(codeKey(deps, code, 'code-used'));
    return used === null ? undefined : { reusedFamily: used === '-' ? undefined : used };
  }
  const parsed = codeGrantSchema.safeParse(JSON.parse(raw));
  if (!parsed.success) {
    return undefined;
  }
  await deps.redis.set(codeKey(deps, code, 'code-used'), '-', 'EX', USER_ACCESS_TOKEN_SECONDS);
  return { grant: parsed.data };
}

/** Records which refresh-token family a redeemed code produced, for reuse detection. */
export async function recordCodeFamily(deps: CodeDeps, code: string, familyId: string): Promise<void> {
  await deps.redis.set(codeKey(deps, code, 'code-used'), familyId, 'EX', USER_ACCESS_TOKEN_SECONDS);
}
