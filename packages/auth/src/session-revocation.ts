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
import {
  listLiveRefreshSessions,
  recordAppSessionsEnded,
  recordSessionRevocation,
  revokeFamilyRefreshTokens,
  type Database,
  type Queryable,
} from '@carecircle/store';
import { CLOCK_SKEW_SECONDS, USER_ACCESS_TOKEN_SECONDS } from './token-lifetimes';

/** How long a revocation must be remembered: no access token of the session outlives this (none is issued after). */
const REVOCATION_KEPT_SECONDS = USER_ACCESS_TOKEN_SECONDS + CLOCK_SKEW_SECONDS;

/**
 * Ends session `sessionId`: its refresh tokens are revoked and its access tokens refused from the next request on.
 * Idempotent. Runs on `db`, so inside the caller's transaction when given one.
 */
export async function revokeSession(db: Queryable, sessionId: string): Promise<void> {
  await revokeFamilyRefreshTokens(db, sessionId);
  await recordSessionRevocation(db, sessionId, REVOCATION_KEPT_SECONDS);
}

/**
 * Ends every session of `userId` in app `clientId` ("sign out everywhere"): each refresh-token family is revoked as
 * {@link revokeSession} does, and the app's access tokens of the user issued before this second are refused from the
 * next request on (auth_app_sessions_ended, asked by isTokenHolderEnabled), which reaches sign-ins without refresh
 * tokens too. Sessions of the user in other apps are untouched. Runs in one transaction.
 */
export async function endAppSessions(db: Database, userId: string, clientId: string): Promise<void> {
  await db.transaction(async (tx) => {
    for (const sessionId of await listLiveRefreshSessions(tx, userId, clientId)) {
      await revokeSession(tx, sessionId);
    }
    await recordAppSessionsEnded(tx, userId, clientId);
  });
}
