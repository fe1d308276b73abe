/**
 * Ending a sign-in session before its access tokens expire. Access tokens are JWTs verified without the database, so
 * revoking a session's refresh tokens alone left its access tokens working for up to an hour after the session was
 * found compromised (an authorization code presented twice, a rotated refresh token presented again). Every user
 * access token names its session (`sid`: the refresh-token family, or a session id of its own for a sign-in without
 * refresh tokens); revoking a session records its id, and every authenticated request asks for it by primary key, in
 * PostgreSQL, in the same statement that checks the client and user are enabled (isTokenHolderEnabled, so, like
 * disabling, it holds on every replica at once and needs no Redis). A revocation is kept only as long as a token of
 * the session could still be live.
 */
import { sql, type Database, type Queryable } from '@carecircle/store';
import { CLOCK_SKEW_SECONDS, USER_ACCESS_TOKEN_SECONDS } from './token-lifetimes';

/** How long a revocation must be remembered: no access token of the session outlives this (none is issued after). */
const REVOCATION_KEPT_SECONDS = USER_ACCESS_TOKEN_SECONDS + CLOCK_SKEW_SECONDS;

/**
 * Ends session `sessionId`: its refresh tokens are revoked and its access tokens refused from the next request on.
 * Idempotent. Runs on `db`, so inside the caller's transaction when given one.
 */
export async function revokeSession(db: Queryable, sessionId: string): Promise<void> {
  await db.query(sql`UPDATE auth_refresh_token SET revoked_at = now() WHERE family_id = ${sessionId} AND revoked_at IS NULL`);
  await db.query(sql`
    INSERT INTO auth_session_revocation (session_id, expires_at)
    VALUES (${sessionId}, now() + make_interval(secs => ${REVOCATION_KEPT_SECONDS}))
    ON CONFLICT (session_id) DO NOTHING`);
  await db.query(sql`DELETE FROM auth_session_revocation WHERE expires_at < now()`);
}

/**
 * Ends every session of `userId` in app `clientId` ("sign out everywhere"): each refresh-token family is revoked as
 * {@link revokeSession} does, and the app's access tokens of the user issued before this second are refused from the
 * next request on (auth_app_sessions_ended, asked by isTokenHolderEnabled), which reaches sign-ins without refresh
 * tokens too. Sessions of the user in other apps are untouched. Runs in one transaction.
 */
export async function endAppSessions(db: Database, userId: string, clientId: string): Promise<void> {
  await db.transaction(async (tx) => {
    const { rows } = await tx.query<{ family_id: string }>(sql`
      SELECT DISTINCT family_id FROM auth_refresh_token WHERE user_id = ${userId} AND client_id = ${clientId} AND revoked_at IS NULL`);
    for (const row of rows) {
      await revokeSession(tx, row.family_id);
    }
    await tx.query(sql`
      INSERT INTO auth_app_sessions_ended (user_id, client_id, ended_at) VALUES (${userId}, ${clientId}, now())
      ON CONFLICT (user_id, client_id) DO UPDATE SET ended_at = excluded.ended_at`);
  });
}
