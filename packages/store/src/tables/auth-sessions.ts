/**
 * Sign-in sessions as rows: `auth_refresh_token` (refresh tokens by hash, in families, one family per session),
 * `auth_session_revocation` (sessions whose access tokens are refused before they expire) and
 * `auth_app_sessions_ended` ("sign out everywhere" for one user in one app), and the one statement every authenticated
 * request runs against them and the client and user tables ({@link areTokenHoldersEnabled}). How a refresh token rotates,
 * what counts as reuse and how long a revocation is kept are auth's rules (packages/auth refresh-token.ts,
 * session-revocation.ts); this module only reads and writes the rows.
 */
import type { Queryable } from '../database';
import { sql } from '../sql';
import { tokenHoldersChanged } from './token-holder-generation';

/** A refresh token to store: its SHA-256 hash (never the token), its session (family) and what the session holds. */
export interface NewRefreshToken {
  readonly tokenHash: Buffer;
  readonly familyId: string;
  readonly userId: string;
  readonly clientId: string;
  readonly scope: string;
  /** The purposes of use the session is limited to; undefined when it names none. */
  readonly purposes: readonly string[] | undefined;
  readonly expiresAt: Date;
}

/** A stored refresh token, with whether its user and client are both enabled now. */
export interface RefreshTokenRecord {
  readonly familyId: string;
  readonly userId: string;
  readonly clientId: string;
  readonly scope: string;
  readonly purposes: readonly string[] | undefined;
  readonly expiresAt: Date;
  readonly usedAt: Date | undefined;
  readonly revokedAt: Date | undefined;
  readonly holdersEnabled: boolean;
}

/** Stores a refresh token. */
export async function insertRefreshToken(db: Queryable, token: NewRefreshToken): Promise<void> {
  await db.query(sql`
    INSERT INTO auth_refresh_token (token_hash, family_id, user_id, client_id, scope, purpose_of_use, expires_at)
    VALUES (${token.tokenHash}, ${token.familyId}, ${token.userId}, ${token.clientId}, ${token.scope},
            ${token.purposes ? [...token.purposes] : null}::text[], ${token.expiresAt.toISOString()}::timestamptz)`);
}

/**
 * The refresh token with this hash, whatever its state, its row locked until `tx` ends (so two presentations of one
 * token are judged one after the other).
 */
export async function findRefreshTokenForUpdate(tx: Queryable, tokenHash: Buffer): Promise<RefreshTokenRecord | undefined> {
  const { rows } = await tx.query<{
    family_id: string;
    user_id: string;
    client_id: string;
    scope: string;
    purpose_of_use: string[] | null;
    expires_at: Date;
    used_at: Date | null;
    revoked_at: Date | null;
    holders_enabled: boolean;
  }>(sql`
    SELECT t.family_id, t.user_id, t.client_id, t.scope, t.purpose_of_use, t.expires_at, t.used_at, t.revoked_at,
           (u.disabled_at IS NULL AND c.disabled_at IS NULL) AS holders_enabled
    FROM auth_refresh_token t
    JOIN auth_user u ON u.id = t.user_id
    JOIN auth_client c ON c.id = t.client_id
    WHERE t.token_hash = ${tokenHash}
    FOR UPDATE OF t`);
  const row = rows[0];
  return row
    ? {
        familyId: row.family_id,
        userId: row.user_id,
        clientId: row.client_id,
        scope: row.scope,
        purposes: row.purpose_of_use ?? undefined,
        expiresAt: row.expires_at,
        usedAt: row.used_at ?? undefined,
        revokedAt: row.revoked_at ?? undefined,
        holdersEnabled: row.holders_enabled,
      }
    : undefined;
}

/** Marks the refresh token with this hash used (rotated). */
export async function markRefreshTokenUsed(db: Queryable, tokenHash: Buffer): Promise<void> {
  await db.query(sql`UPDATE auth_refresh_token SET used_at = now() WHERE token_hash = ${tokenHash}`);
}

/** The session (family) and user of the refresh token with this hash issued to `clientId`, whatever its state. */
export async function findRefreshTokenFamily(
  db: Queryable,
  tokenHash: Buffer,
  clientId: string,
): Promise<{ familyId: string; userId: string } | undefined> {
  const { rows } = await db.query<{ family_id: string; user_id: string }>(sql`
    SELECT family_id, user_id FROM auth_refresh_token WHERE token_hash = ${tokenHash} AND client_id = ${clientId}`);
  const row = rows[0];
  return row ? { familyId: row.family_id, userId: row.user_id } : undefined;
}

/** The sessions (families) of `userId` in app `clientId` that still have unrevoked refresh tokens. */
export async function listLiveRefreshSessions(db: Queryable, userId: string, clientId: string): Promise<string[]> {
  const { rows } = await db.query<{ family_id: string }>(sql`
    SELECT DISTINCT family_id FROM auth_refresh_token WHERE user_id = ${userId} AND client_id = ${clientId} AND revoked_at IS NULL`);
  return rows.map((row) => row.family_id);
}

/** Revokes the unrevoked refresh tokens of one session (family). */
export async function revokeFamilyRefreshTokens(db: Queryable, familyId: string): Promise<void> {
  await db.query(sql`UPDATE auth_refresh_token SET revoked_at = now() WHERE family_id = ${familyId} AND revoked_at IS NULL`);
}

/** Revokes the unrevoked refresh tokens issued to one client. */
export async function revokeClientRefreshTokens(db: Queryable, clientId: string): Promise<void> {
  await db.query(sql`UPDATE auth_refresh_token SET revoked_at = now() WHERE client_id = ${clientId} AND revoked_at IS NULL`);
}

/** Revokes the unrevoked refresh tokens of one user, in every app. */
export async function revokeUserRefreshTokens(db: Queryable, userId: string): Promise<void> {
  await db.query(sql`UPDATE auth_refresh_token SET revoked_at = now() WHERE user_id = ${userId} AND revoked_at IS NULL`);
}

/**
 * Records that session `sessionId` is revoked, kept for `keptSeconds` from now (a second revocation keeps the first
 * record), and deletes the records past their time.
 */
export async function recordSessionRevocation(db: Queryable, sessionId: string, keptSeconds: number): Promise<void> {
  await db.query(sql`
    INSERT INTO auth_session_revocation (session_id, expires_at)
    VALUES (${sessionId}, now() + make_interval(secs => ${keptSeconds}))
    ON CONFLICT (session_id) DO NOTHING`);
  await db.query(sql`DELETE FROM auth_session_revocation WHERE expires_at < now()`);
  tokenHoldersChanged();
}

/** Records that every session of `userId` in app `clientId` ended now (replacing an earlier ending). */
export async function recordAppSessionsEnded(db: Queryable, userId: string, clientId: string): Promise<void> {
  await db.query(sql`
    INSERT INTO auth_app_sessions_ended (user_id, client_id, ended_at) VALUES (${userId}, ${clientId}, now())
    ON CONFLICT (user_id, client_id) DO UPDATE SET ended_at = excluded.ended_at`);
  tokenHoldersChanged();
}

/** Who an access token was issued to (its client, and user for a sign-in), and when: what {@link areTokenHoldersEnabled} asks about. */
export interface TokenHolder {
  readonly clientId: string;
  /** The signed-in user, for a user's token. */
  readonly userId?: string | undefined;
  /** The token's `iat` (JWT seconds); undefined when there is no token (a subscription's principal). */
  readonly issuedAt?: number | undefined;
  /** The token's sign-in session (`sid`). */
  readonly sessionId?: string | undefined;
}

/**
 * True when the client (and user) are registered and enabled, the token was not issued before the second of the last
 * re-enabling or password reset (`tokens_valid_after`), its session is not revoked, and, for a user's token, the
 * user's sessions in this app were not ended after it was issued. Conditions on what is undefined are not asked.
 * Up to four primary-key lookups in one round trip.
 */
export async function areTokenHoldersEnabled(db: Queryable, holder: TokenHolder): Promise<boolean> {
  const { clientId } = holder;
  const userId = holder.userId ?? null;
  const iat = holder.issuedAt ?? null;
  const sid = holder.sessionId ?? null;
  const { rows } = await db.query<{ enabled: boolean }>(sql`
    SELECT EXISTS (SELECT 1 FROM auth_client WHERE id = ${clientId} AND disabled_at IS NULL
                     AND (${iat}::float8 IS NULL OR tokens_valid_after IS NULL
                          OR ${iat}::float8 >= floor(EXTRACT(EPOCH FROM tokens_valid_after))))
       AND (${userId}::text IS NULL
            OR EXISTS (SELECT 1 FROM auth_user WHERE id = ${userId}::text AND disabled_at IS NULL
                         AND (${iat}::float8 IS NULL OR tokens_valid_after IS NULL
                              OR ${iat}::float8 >= floor(EXTRACT(EPOCH FROM tokens_valid_after)))))
       AND (${sid}::uuid IS NULL
            OR NOT EXISTS (SELECT 1 FROM auth_session_revocation WHERE session_id = ${sid}::uuid))
       AND (${userId}::text IS NULL OR ${iat}::float8 IS NULL
            OR NOT EXISTS (SELECT 1 FROM auth_app_sessions_ended e WHERE e.user_id = ${userId}::text AND e.client_id = ${clientId}
                             AND ${iat}::float8 < floor(EXTRACT(EPOCH FROM e.ended_at)))) AS enabled`);
  return rows[0]?.enabled === true;
}
