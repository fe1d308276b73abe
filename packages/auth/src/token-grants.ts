/**
 * The token endpoint's logic, framework-free: one function per grant type, each taking the form fields and returning
 * the token response or throwing an {@link OAuthError}.
 *
 * - `client_credentials` (SMART Backend Services): a system client authenticated by its signed assertion (a
 *   `client_id` parameter naming another client is refused) gets a 5-minute token with the intersection of the scopes
 *   it asked for and those it is registered for (all of its registered system scopes when it names none); no refresh
 *   token.
 * - `authorization_code`: an app redeems a code with its PKCE verifier; the user gets a token of at most an hour
 *   (and a refresh token when `offline_access` or `online_access` was granted, which needs the app's registration to
 *   list it). A client's login carries `patient`. A public app names itself with `client_id`; a confidential app
 *   authenticates with its client assertion (client-authentication.ts), on this grant and on `refresh_token`.
 * - `refresh_token`: rotates the refresh token (reuse revokes the session) and issues a new access token, optionally
 *   for fewer scopes, never more; an online session's tokens never outlive the session.
 *
 * Every grant may carry `purpose_of_use` (space-separated v3-ActReason codes): the access token then carries them as
 * its `purpose_of_use` claim, and requests with it act for those purposes only (purpose-of-use.ts).
 *
 * Before any grant runs, the form as a whole is checked: a parameter given more than once (RFC 6749 section 3.2) or
 * a value holding NUL or an unpaired surrogate (no client id, code or token does) is `invalid_request`, so nothing
 * is read as its first value and nothing the database cannot hold reaches it.
 */
import { z } from 'zod';
import { issueAccessToken, type AccessTokenSubject } from './access-token';
import { nowMs, type AuthDeps } from './auth-deps';
import { consumeAuthorizationCode } from './authorization-code';
import { authenticateClientAssertion } from './client-assertion';
import { authenticateUserFacingApp } from './client-authentication';
import { OAuthError } from './oauth-error';
import { assertWellFormedForm, parseForm } from './oauth-form';
import { verifyCodeVerifier } from './pkce';
import { parseRequestedPurposes } from './purpose-of-use';
import { issueRefreshToken, rotateRefreshToken, type RefreshOutcome } from './refresh-token';
import { formatScopes, intersectScopes, parseScopes, type ScopeSet } from './scopes';
import { revokeSession } from './session-revocation';
import { SYSTEM_ACCESS_TOKEN_SECONDS, USER_ACCESS_TOKEN_SECONDS } from './token-lifetimes';
import { findUser, type UserAccount } from './user-registry';

/** The successful token response (RFC 6749 section 5.1 plus SMART's `patient`). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
  patient?: string;
  /** The purposes of use the access token is limited to, space separated, when the request named any. */
  purpose_of_use?: string;
}

export const GRANT_TYPES = ['client_credentials', 'authorization_code', 'refresh_token'] as const;

const field = z.string().min(1).max(4096);
const purposeOfUse = z.string().max(512).optional();

const clientCredentialsSchema = z.object({
  scope: z.string().max(4096).optional(),
  client_assertion_type: field.optional(),
  client_assertion: z.string().min(1).max(16384).optional(),
  // Optional with an assertion (RFC 7521 section 4.2), but when sent it must name the assertion's client.
  client_id: field.optional(),
  purpose_of_use: purposeOfUse,
});
// A public app sends client_id; a confidential app its assertion (and client_id optionally, naming itself).
const appAuthentication = {
  client_id: field.optional(),
  client_assertion_type: field.optional(),
  client_assertion: z.string().min(1).max(16384).optional(),
};
const authorizationCodeSchema = z.object({
  code: field,
  redirect_uri: field,
  code_verifier: field,
  ...appAuthentication,
  purpose_of_use: purposeOfUse,
});
const refreshTokenSchema = z.object({
  refresh_token: field,
  ...appAuthentication,
  scope: z.string().max(4096).optional(),
  purpose_of_use: purposeOfUse,
});

type Deps = Pick<AuthDeps, 'db' | 'redis' | 'config' | 'clock'>;

/** Why a refresh token was refused, as the `invalid_grant` description says it. */
const REFRESH_REFUSALS: Record<Exclude<RefreshOutcome['kind'], 'rotated'>, string> = {
  unknown: 'refresh_token is not valid for this client',
  expired: 'refresh_token has expired; sign in again',
  revoked: 'refresh_token has been revoked; sign in again',
  disabled: 'the user or the app has been disabled',
  reused: 'refresh_token was already used; the session is revoked',
};

/** The parameters a token request may carry; others are ignored (RFC 6749 section 3.2), but named in errors. */
const TOKEN_PARAMETERS: ReadonlySet<string> = new Set([
  'grant_type',
  'scope',
  'client_assertion_type',
  'client_assertion',
  'purpose_of_use',
  'code',
  'redirect_uri',
  'code_verifier',
  'client_id',
  'refresh_token',
]);

/**
 * Handles one token request: the form fields as parsed, a repeated field as an array of its values (as body-parser
 * and Node's querystring give them).
 */
export async function handleTokenRequest(deps: Deps, form: Record<string, unknown>): Promise<TokenResponse> {
  assertWellFormedForm(form, TOKEN_PARAMETERS);
  const grantType = form.grant_type;
  switch (grantType) {
    case 'client_credentials':
      return grantClientCredentials(deps, parseForm(clientCredentialsSchema, form));
    case 'authorization_code':
      return grantAuthorizationCode(deps, parseForm(authorizationCodeSchema, form));
    case 'refresh_token':
      return grantRefreshToken(deps, parseForm(refreshTokenSchema, form));
    case undefined:
      throw new OAuthError('invalid_request', 'grant_type is required');
    default:
      throw new OAuthError('unsupported_grant_type', `supported grant types: ${GRANT_TYPES.join(', ')}`);
  }
}

async function grantClientCredentials(deps: Deps, form: z.infer<typeof clientCredentialsSchema>): Promise<TokenResponse> {
  const purposes = parseRequestedPurposes(form.purpose_of_use);
  const client = await authenticateClientAssertion(deps, form.client_assertion_type, form.client_assertion, form.client_id);
  if (client.kind !== 'system') {
    throw new OAuthError('unauthorized_client', 'an app gets user tokens through the authorization_code grant, not client_credentials');
  }
  // Omitted (or empty), the scope is the client's registration: RFC 6749 section 3.3 lets the server apply a pre-defined
  // default, and stock clients (MedplumClient.startJwtAssertionLogin) send none, though SMART Backend Services asks for
  // one. The response's `scope` always says what was granted.
  const asked = form.scope?.trim() ? form.scope : client.scope;
  const granted = intersectScopes(parseScopes(asked), parseScopes(client.scope), { contexts: ['system'], identity: [] });
  requireResourceScopes(granted);
  const scope = formatScopes(granted);
  const { accessToken } = await issueAccessToken(
    deps,
    { sub: client.clientId, client_id: client.clientId, scope, organization: client.organization, ...purposeClaim(purposes) },
    SYSTEM_ACCESS_TOKEN_SECONDS,
  );
  return {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: SYSTEM_ACCESS_TOKEN_SECONDS,
    scope,
    ...(purposes ? { purpose_of_use: purposes.join(' ') } : {}),
  };
}

function purposeClaim(purposes: readonly string[] | undefined): { purpose_of_use?: string[] } {
  return purposes ? { purpose_of_use: [...purposes] } : {};
}

async function grantAuthorizationCode(deps: Deps, form: z.infer<typeof authorizationCodeSchema>): Promise<TokenResponse> {
  const purposes = parseRequestedPurposes(form.purpose_of_use);
  const app = await authenticateUserFacingApp(deps, form);
  const consumed = await consumeAuthorizationCode(deps, form.code);
  if (!consumed) {
    throw new OAuthError('invalid_grant', 'code is invalid or expired');
  }
  if (consumed === 'expired') {
    throw new OAuthError('invalid_grant', 'code has expired (codes are valid for 60 seconds)');
  }
  if ('reusedSession' in consumed) {
    // A code presented twice: whatever the first redemption produced can no longer be trusted, access tokens included.
    if (consumed.reusedSession) {
      await revokeSession(deps.db, consumed.reusedSession);
    }
    throw new OAuthError('invalid_grant', 'code is invalid or expired');
  }
  const { grant, sessionId } = consumed;
  if (grant.clientId !== app.clientId || grant.redirectUri !== form.redirect_uri) {
    throw new OAuthError('invalid_grant', 'code was issued to another client or redirect_uri');
  }
  if (!verifyCodeVerifier(form.code_verifier, grant.codeChallenge)) {
    throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge');
  }
  const user = await requireEnabledUser(deps, grant.userId);
  const scopes = parseScopes(grant.scope);
  if (!scopes.identity.has('offline_access') && !scopes.identity.has('online_access')) {
    return userTokenResponse(deps, user, app.clientId, grant.scope, purposes, sessionId);
  }
  const session = await issueRefreshToken(deps, { sessionId, userId: user.id, clientId: app.clientId, scope: grant.scope, purposes });
  const response = await userTokenResponse(deps, user, app.clientId, grant.scope, purposes, sessionId, session.expiresAt);
  response.refresh_token = session.refreshToken;
  return response;
}

async function grantRefreshToken(deps: Deps, form: z.infer<typeof refreshTokenSchema>): Promise<TokenResponse> {
  const asked = parseRequestedPurposes(form.purpose_of_use);
  const app = await authenticateUserFacingApp(deps, form);
  // A refresh may narrow the session's scope and purposes, never widen them (RFC 6749 section 6); checked before the
  // presented token is spent, so a refused narrowing leaves the session as it was.
  let scope = '';
  let purposes: readonly string[] | undefined;
  const outcome = await rotateRefreshToken(deps, form.refresh_token, app.clientId, (session) => {
    scope = form.scope ? narrowScope(form.scope, session.scope) : session.scope;
    purposes = narrowPurposes(asked, session.purposes);
  });
  if (outcome.kind !== 'rotated') {
    throw new OAuthError('invalid_grant', REFRESH_REFUSALS[outcome.kind]);
  }
  const user = await requireEnabledUser(deps, outcome.grant.userId);
  const response = await userTokenResponse(deps, user, app.clientId, scope, purposes, outcome.grant.familyId, outcome.grant.expiresAt);
  response.refresh_token = outcome.refreshToken;
  return response;
}

function narrowScope(asked: string, sessionScope: string): string {
  const narrowed = intersectScopes(parseScopes(asked), parseScopes(sessionScope), { contexts: ['patient', 'user'], identity: [] });
  requireResourceScopes(narrowed);
  return formatScopes(narrowed);
}

/** The purposes a refreshed token carries: the session's, or those asked for when the session holds every one. */
function narrowPurposes(asked: string[] | undefined, session: readonly string[] | undefined): readonly string[] | undefined {
  if (!asked) {
    return session;
  }
  if (session && !asked.every((p) => session.includes(p))) {
    throw new OAuthError('invalid_request', `purpose_of_use may only narrow this session's purposes (${session.join(' ')})`);
  }
  return asked;
}

function requireResourceScopes(granted: ScopeSet): void {
  if (granted.resources.length === 0) {
    throw new OAuthError('invalid_scope', 'none of the requested scopes is allowed for this client');
  }
}

async function requireEnabledUser(deps: Deps, userId: string): Promise<UserAccount> {
  const user = await findUser(deps.db, userId);
  if (!user || user.disabled) {
    throw new OAuthError('invalid_grant', 'the user can no longer sign in');
  }
  return user;
}

/** The access-token subject of a logged-in user: fhirUser, organization, and `patient` for a client's own login. */
export function userTokenSubject(user: UserAccount, clientId: string, scope: string): AccessTokenSubject {
  const patient = user.fhirUser.startsWith('Patient/') ? user.fhirUser.slice('Patient/'.length) : undefined;
  return {
    sub: user.id,
    client_id: clientId,
    scope,
    fhirUser: user.fhirUser,
    ...(user.organization && !patient ? { organization: user.organization } : {}),
    ...(patient ? { patient } : {}),
  };
}

/**
 * The token response of a logged-in user, its access token naming the sign-in's session (`sid`, so revoking the
 * session refuses it). With a refresh token, the access token lives no longer than it (an online session's access
 * tokens end with the session).
 */
async function userTokenResponse(
  deps: Deps,
  user: UserAccount,
  clientId: string,
  scope: string,
  purposes: readonly string[] | undefined,
  sessionId: string,
  sessionEndsAt?: Date,
): Promise<TokenResponse> {
  const subject = { ...userTokenSubject(user, clientId, scope), sid: sessionId, ...purposeClaim(purposes) };
  const sessionLeft = sessionEndsAt ? Math.floor((sessionEndsAt.getTime() - nowMs(deps)) / 1000) : Infinity;
  const lifetime = Math.max(1, Math.min(USER_ACCESS_TOKEN_SECONDS, sessionLeft));
  const { accessToken } = await issueAccessToken(deps, subject, lifetime);
  return {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: lifetime,
    scope,
    ...(subject.patient ? { patient: subject.patient } : {}),
    ...(purposes ? { purpose_of_use: purposes.join(' ') } : {}),
  };
}
