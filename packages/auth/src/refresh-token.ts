/**
 * Refresh tokens of logged-in users, rotated on every use: the presented token is marked used and a new one in the
 * same family is returned. Presenting a used token again means it leaked, so the whole family is revoked and the
 * legitimate holder must log in again (OAuth 2.0 Security BCP, refresh token rotation); the session's access tokens
 * stop working too (session-revocation.ts). Only SHA-256 hashes are stored.
 *
 * Two kinds of session, told apart by the family's scope: `offline_access` (each token valid 14 days from its issue,
 * so a session in use lives on) and `online_access` (every token of the family expires when the session does, at
 * most 12 hours after the sign-in; refreshing never extends it). Expiry is judged by the deps' clock. The rows are
 * store's (tables/auth-sessions.ts); rotation and reuse are decided here.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  findRefreshTokenFamily,
  findRefreshTokenForUpdate,
  insertRefreshToken,
  markRefreshTokenUsed,
  type Queryable,
} from '@carecircle/store';
import { nowMs, type AuthDeps } from './auth-deps';
import { parseScopes } from './scopes';
import { revokeSession } from './session-revocation';
import { ONLINE_SESSION_SECONDS, REFRESH_TOKEN_SECONDS } from './token-lifetimes';

export interface RefreshGrant {
  readonly userId: string;
  readonly clientId: string;
  readonly scope: string;
  readonly familyId: string;
  /** The purposes of use the session is limited to; undefined when it names none. */
  readonly purposes: readonly string[] | undefined;
  /** When the refresh token just issued expires (for an online session: when the session ends). */
  readonly expiresAt: Date;
}

export type RefreshOutcome =
  | { kind: 'rotated'; grant: RefreshGrant; refreshToken: string }
  /** Not a token we issued, or issued to another client. */
  | { kind: 'unknown' }
  /** Past its expiry (for an online session: the session is over). */
  | { kind: 'expired' }
  /** Revoked: its session ended because a token of it was reused, or its code was presented twice. */
  | { kind: 'revoked' }
  /** Its user or app has been disabled. */
  | { kind: 'disabled' }
  /** A rotated token presented again: its family is now revoked. */
  | { kind: 'reused' };

type RefreshDeps = Pick<AuthDeps, 'db' | 'clock'>;

function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** True for a session granted `online_access` and not `offline_access`: it ends with the sign-in's 12 hours. */
export function isOnlineSession(scope: string): boolean {
  const identity = parseScopes(scope).identity;
  return identity.has('online_access') && !identity.has('offline_access');
}

/** Makes a new refresh token for `grant` and stores its hash; returns the token. */
async function createRefreshToken(db: Queryable, grant: RefreshGrant): Promise<string> {
  const refreshToken = randomBytes(32).toString('base64url');
  await insertRefreshToken(db, { ...grant, tokenHash: hashToken(refreshToken) });
  return refreshToken;
}

/** Issues the first refresh token of a sign-in's session, whose id names the family. */
export async function issueRefreshToken(
  deps: RefreshDeps,
  grant: { sessionId: string; userId: string; clientId: string; scope: string; purposes: readonly string[] | undefined },
): Promise<{ refreshToken: string; familyId: string; expiresAt: Date }> {
  const familyId = grant.sessionId;
  const lifetime = isOnlineSession(grant.scope) ? ONLINE_SESSION_SECONDS : REFRESH_TOKEN_SECONDS;
  const expiresAt = new Date(nowMs(deps) + lifetime * 1000);
  const refreshToken = await createRefreshToken(deps.db, { ...grant, familyId, expiresAt });
  return { refreshToken, familyId, expiresAt };
}

/**
 * Redeems a refresh token presented by `clientId`: rotates it, or says why not, in one transaction. `check` sees the
 * session before the token is spent; when it throws (a refresh asking for more than the session holds), nothing is
 * rotated and the presented token stays good.
 */
export async function rotateRefreshToken(
  deps: RefreshDeps,
  refreshToken: string,
  clientId: string,
  check: (session: Pick<RefreshGrant, 'scope' | 'purposes'>) => void = () => undefined,
): Promise<RefreshOutcome> {
  const now = nowMs(deps);
  return deps.db.transaction(async (tx): Promise<RefreshOutcome> => {
    const tokenHash = hashToken(refreshToken);
    const token = await findRefreshTokenForUpdate(tx, tokenHash);
    if (!token || token.clientId !== clientId) {
      return { kind: 'unknown' };
    }
    if (!token.holdersEnabled) {
      return { kind: 'disabled' };
    }
    if (token.usedAt !== undefined) {
      await revokeSession(tx, token.familyId);
      return { kind: 'reused' };
    }
    if (token.revokedAt !== undefined) {
      return { kind: 'revoked' };
    }
    if (token.expiresAt.getTime() <= now) {
      return { kind: 'expired' };
    }
    const purposes = token.purposes;
    check({ scope: token.scope, purposes });
    await markRefreshTokenUsed(tx, tokenHash);
    // An online session keeps the end it was given at sign-in; an offline one gets a fresh 14 days per rotation.
    const expiresAt = isOnlineSession(token.scope) ? token.expiresAt : new Date(now + REFRESH_TOKEN_SECONDS * 1000);
    const grant = { userId: token.userId, clientId: token.clientId, scope: token.scope, purposes, familyId: token.familyId, expiresAt };
    const next = await createRefreshToken(tx, grant);
    return { kind: 'rotated', grant, refreshToken: next };
  });
}

/**
 * The session (refresh-token family) and user of a refresh token issued to `clientId`, whatever its state (used,
 * revoked, expired): revoking needs only to know whose it is. Undefined for a token not issued, or issued to another
 * client.
 */
export async function findRefreshTokenSession(
  db: Queryable,
  refreshToken: string,
  clientId: string,
): Promise<{ sessionId: string; userId: string } | undefined> {
  const token = await findRefreshTokenFamily(db, hashToken(refreshToken), clientId);
  return token ? { sessionId: token.familyId, userId: token.userId } : undefined;
}
