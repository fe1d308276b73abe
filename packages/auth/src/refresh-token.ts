/**
 * Refresh tokens of logged-in users, rotated on every use: the presented token is marked used and a new one in the
 * same family is returned. Presenting a used (or revoked) token again means it leaked, so the whole family is revoked
 * and the legitimate holder must log in again (OAuth 2.0 Security BCP, refresh token rotation). Only SHA-256 hashes
 * are stored.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { sql, type Database, type Queryable } from '@carecircle/store';
import { REFRESH_TOKEN_SECONDS } from './token-lifetimes';

export interface RefreshGrant {
  readonly userId: string;
  readonly clientId: string;
  readonly scope: string;
  readonly familyId: string;
}

export type RefreshOutcome =
  | { kind: 'rotated'; grant: RefreshGrant; refreshToken: string }
  /** Unknown, expired, bound to another client, or its user or client is disabled. */
  | { kind: 'invalid' }
  /** A rotated token presented again: its family is now revoked. */
  | { kind: 'reused' };

function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** Issues a refresh token (in a new family unless one is given). */
export async function issueRefreshToken(
  db: Queryable,
  grant: { userId: string; clientId: string; scope: string; familyId?: string },
): Promise<{ refreshToken: string; familyId: string }> {
  const refreshToken = randomBytes(32).toString('base64url');
  const familyId = grant.familyId ?? randomUUID();
  await db.query(sql`
    INSERT INTO auth_refresh_token (token_hash, family_id, user_id, client_id, scope, expires_at)
    VALUES (${hashToken(refreshToken)}, ${familyId}, ${grant.userId}, ${grant.clientId}, ${grant.scope},
            now() + make_interval(secs => ${REFRESH_TOKEN_SECONDS}))`);
  return { refreshToken, familyId };
}

/** Revokes every token of a family. */
export async function revokeRefreshFamily(db: Queryable, familyId: string): Promise<void> {
  await db.query(sql`UPDATE auth_refresh_token SET revoked_at = now() WHERE family_id = ${familyId} AND revoked_at IS NULL`);
}

/** Redeems a refresh token presented by `clientId`: rotates it, or detects reuse, in one transaction. */
export async function rotateRefreshToken(db: Database, refreshToken: string, clientId: string): Promise<RefreshOutcome> {
  const outcome = await db.transaction(async (tx): Promise<RefreshOutcome> => {
    const { rows } = await tx.query<{
      family_id: string;
      user_id: string;
      client_id: string;
      scope: string;
      expired: boolean;
      used_at: Date | null;
      revoked_at: Date | null;
      usable_principals: boolean;
    }>(sql`
      SELECT t.family_id, t.user_id, t.client_id, t.scope, t.expires_at <= now() AS expired, t.used_at, t.revoked_at,
             (u.disabled_at IS NULL AND c.disabled_at IS NULL) AS usable_principals
      FROM auth_refresh_token t
      JOIN auth_user u ON u.id = t.user_id
      JOIN auth_client c ON c.id = t.client_id
      WHERE t.token_hash = ${hashToken(refreshToken)}
      FOR UPDATE OF t`);
    const row = rows[0];
    if (!row || row.client_id !== clientId) {
      return { kind: 'invalid' };
    }
    if (row.used_at !== null || row.revoked_at !== null) {
      await revokeRefreshFamily(tx, row.family_id);
      return { kind: 'reused' };
    }
    if (row.expired || !row.usable_principals) {
      return { kind: 'invalid' };
    }
    await tx.query(sql`UPDATE auth_refresh_token SET used_at = now() WHERE token_hash = ${hashToken(refreshToken)}`);
    const grant = { userId: row.user_id, clientId: row.client_id, scope: row.scope, familyId: row.family_id };
    const next = await issueRefreshToken(tx, grant);
    return { kind: 'rotated', grant, refreshToken: next.refreshToken };
  });
  return outcome;
}
