/**
 * The revocation endpoint (RFC 7009, `POST /oauth2/revoke`): an app signs a user out by revoking a token it holds.
 * The app authenticates as at the token endpoint (client-authentication.ts: a confidential app with its client
 * assertion, a public app with `client_id`); only its own tokens are revoked, and an unknown token, another app's, or
 * one that is already dead is answered like a revoked one (200, nothing revoked), as RFC 7009 section 2.2 says.
 *
 * - A refresh token ends its whole session: its rotation family and the session's access tokens (OAuth 2.0 Security
 *   BCP / RFC 6819 5.2.2.3: a revoked refresh token takes the grant with it).
 * - A user's access token ends its session likewise (RFC 7009 section 2: revoking one may revoke the grant). A backend
 *   system's access token has no session and is not revocable (`unsupported_token_type`; it lives 5 minutes).
 * - `carecircle_sessions=all` (a CareCircle extension parameter, vendor-prefixed as RFC 6749 section 8.2 asks):
 *   "sign out everywhere", every session of the token's user in the calling app, on every device (endAppSessions).
 *
 * `token_type_hint` (`refresh_token` | `access_token`) only says which lookup comes first; another hint is ignored.
 */
import { z } from 'zod';
import { AccessTokenRejected, verifyAccessToken } from './access-token';
import type { AuthDeps } from './auth-deps';
import { authenticateClient } from './client-authentication';
import { OAuthError } from './oauth-error';
import { assertWellFormedForm, parseForm } from './oauth-form';
import { findRefreshTokenSession } from './refresh-token';
import { endAppSessions, revokeSession } from './session-revocation';

/** The extension parameter that widens a revocation to every session of the user in the app. */
export const REVOKE_SESSIONS_PARAMETER = 'carecircle_sessions';

const REVOCATION_PARAMETERS: ReadonlySet<string> = new Set([
  'token',
  'token_type_hint',
  REVOKE_SESSIONS_PARAMETER,
  'client_id',
  'client_assertion_type',
  'client_assertion',
]);

const revocationSchema = z.object({
  token: z.string().min(1).max(16384),
  token_type_hint: z.string().max(64).optional(),
  [REVOKE_SESSIONS_PARAMETER]: z.literal('all').optional(),
  client_id: z.string().min(1).max(4096).optional(),
  client_assertion_type: z.string().min(1).max(4096).optional(),
  client_assertion: z.string().min(1).max(16384).optional(),
});

type Deps = Pick<AuthDeps, 'db' | 'redis' | 'config' | 'clock'>;

/** Whose session a presented token belongs to, when it is one of the calling app's. */
interface PresentedSession {
  readonly sessionId: string;
  readonly userId: string;
}

/**
 * Handles one revocation request (the form as parsed, a repeated field as an array). Resolves when whatever the token
 * names is revoked, or when it names nothing of the caller's; throws OAuthError for a malformed request
 * (`invalid_request`), a client that does not authenticate (`invalid_client`, 401) or a token that cannot be revoked
 * (`unsupported_token_type`).
 */
export async function handleRevocationRequest(deps: Deps, form: Record<string, unknown>): Promise<void> {
  assertWellFormedForm(form, REVOCATION_PARAMETERS);
  const request = parseForm(revocationSchema, form);
  const client = await authenticateClient(deps, request);
  const lookups = [
    () => findRefreshTokenSession(deps.db, request.token, client.clientId),
    () => findAccessTokenSession(deps, request.token, client.clientId),
  ];
  if (request.token_type_hint === 'access_token') {
    lookups.reverse();
  }
  let session: PresentedSession | undefined;
  for (const lookup of lookups) {
    session = await lookup();
    if (session) {
      break;
    }
  }
  if (!session) {
    return;
  }
  if (request[REVOKE_SESSIONS_PARAMETER] === 'all') {
    await endAppSessions(deps.db, session.userId, client.clientId);
  }
  await revokeSession(deps.db, session.sessionId);
}

/**
 * The session of one of our access tokens issued to `clientId` and still valid; undefined for anything else (not
 * ours, expired, another client's). A valid token of the client without a session (a backend system's) cannot be
 * revoked: `unsupported_token_type`.
 */
async function findAccessTokenSession(deps: Deps, token: string, clientId: string): Promise<PresentedSession | undefined> {
  let claims;
  try {
    claims = await verifyAccessToken(deps, token);
  } catch (err) {
    if (err instanceof AccessTokenRejected) {
      return undefined;
    }
    throw err;
  }
  if (claims.client_id !== clientId) {
    return undefined;
  }
  if (!claims.sid) {
    throw new OAuthError('unsupported_token_type', "a backend system's access tokens are not revoked: they expire within 5 minutes");
  }
  return { sessionId: claims.sid, userId: claims.sub };
}
