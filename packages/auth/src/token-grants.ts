/**
 * The token endpoint's logic, framework-free: one function per grant type, each taking the form fields and returning
 * the token response or throwing an {@link OAuthError}.
 *
 * - `client_credentials` (SMART Backend Services): a system client authenticated by its signed assertion gets a
 *   5-minute token with the intersection of the scopes it asked for and those it is registered for; no refresh token.
 * - `authorization_code`: a public app redeems a code with its PKCE verifier; the user gets a token of at most an hour
 *   (and a refresh token when `offline_access` or `online_access` was granted). A client's login carries `patient`.
 * - `refresh_token`: rotates the refresh token (reuse revokes the family) and issues a new access token, optionally
 *   for fewer scopes.
 */
import { z } from 'zod';
import { issueAccessToken, type AccessTokenSubject } from './access-token';
import type { AuthDeps } from './auth-deps';
import { consumeAuthorizationCode, recordCodeFamily } from './authorization-code';
import { authenticateClientAssertion } from './client-assertion';
import { findClient, type PublicApp } from './client-registry';
import { OAuthError } from './oauth-error';
import { verifyCodeVerifier } from './pkce';
import { issueRefreshToken, revokeRefreshFamily, rotateRefreshToken } from './refresh-token';
import { formatScopes, intersectScopes, parseScopes, type ScopeSet } from './scopes';
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
}

export const GRANT_TYPES = ['client_credentials', 'authorization_code', 'refresh_token'] as const;

const field = z.string().min(1).max(4096);

const clientCredentialsSchema = z.object({
  scope: z.string().max(4096).optional(),
  client_assertion_type: field.optional(),
  client_assertion: z.string().min(1).max(16384).optional(),
});
const authorizationCodeSchema = z.object({
  code: field,
  redirect_uri: field,
  code_verifier: field,
  client_id: field,
});
const refreshTokenSchema = z.object({
  refresh_token: field,
  client_id: field,
  scope: z.string().max(4096).optional(),
});

type Deps = Pick<AuthDeps, 'db' | 'redis' | 'config'>;

/** Handles one token request (the form fields as parsed). */
export async function handleTokenRequest(deps: Deps, form: Record<string, unknown>): Promise<TokenResponse> {
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

function parseForm<T>(schema: z.ZodType<T>, form: Record<string, unknown>): T {
  const parsed = schema.safeParse(form);
  if (!parsed.success) {
    const names = [...new Set(parsed.error.issues.map((i) => i.path.join('.')))].join(', ');
    throw new OAuthError('invalid_request', `missing or invalid parameters: ${names}`);
  }
  return parsed.data;
}

async function grantClientCredentials(deps: Deps, form: z.infer<typeof clientCredentialsSchema>): Promise<TokenResponse> {
  const client = await authenticateClientAssertion(deps, form.client_assertion_type, form.client_assertion);
  if (!form.scope) {
    throw new OAuthError('invalid_scope', 'scope is required');
  }
  const granted = intersectScopes(parseScopes(form.scope), parseScopes(client.scope), { contexts: ['system'], identity: [] });
  requireResourceScopes(granted);
  const scope = formatScopes(granted);
  const { accessToken } = await issueAccessToken(
    deps,
    { sub: client.clientId, client_id: client.clientId, scope, organization: client.organization },
    SYSTEM_ACCESS_TOKEN_SECONDS,
  );
  return { access_token: accessToken, token_type: 'Bearer', expires_in: SYSTEM_ACCESS_TOKEN_SECONDS, scope };
}

async function grantAuthorizationCode(deps: Deps, form: z.infer<typeof authorizationCodeSchema>): Promise<TokenResponse> {
  const app = await requirePublicApp(deps, form.client_id);
  const consumed = await consumeAuthorizationCode(deps, form.code);
  if (!consumed) {
    throw new OAuthError('invalid_grant', 'code is invalid or expired');
  }
  if ('reusedFamily' in consumed) {
    // A code presented twice: whatever the first redemption produced can no longer be trusted.
    if (consumed.reusedFamily) {
      await revokeRefreshFamily(deps.db, consumed.reusedFamily);
    }
    throw new OAuthError('invalid_grant', 'code is invalid or expired');
  }
  const { grant } = consumed;
  if (grant.clientId !== app.clientId || grant.redirectUri !== form.redirect_uri) {
    throw new OAuthError('invalid_grant', 'code was issued to another client or redirect_uri');
  }
  if (!verifyCodeVerifier(form.code_verifier, grant.codeChallenge)) {
    throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge');
  }
  const user = await requireEnabledUser(deps, grant.userId);
  const response = await userTokenResponse(deps, user, app.clientId, grant.scope);
  const scopes = parseScopes(grant.scope);
  if (scopes.identity.has('offline_access') || scopes.identity.has('online_access')) {
    const { refreshToken, familyId } = await issueRefreshToken(deps.db, {
      userId: user.id,
      clientId: app.clientId,
      scope: grant.scope,
    });
    await recordCodeFamily(deps, form.code, familyId);
    response.refresh_token = refreshToken;
  }
  return response;
}

async function grantRefreshToken(deps: Deps, form: z.infer<typeof refreshTokenSchema>): Promise<TokenResponse> {
  const app = await requirePublicApp(deps, form.client_id);
  const outcome = await rotateRefreshToken(deps.db, form.refresh_token, app.clientId);
  switch (outcome.kind) {
    case 'invalid':
      throw new OAuthError('invalid_grant', 'refresh_token is invalid or expired');
    case 'reused':
      throw new OAuthError('invalid_grant', 'refresh_token was already used; the session is revoked');
    case 'rotated':
      break;
    default:
      return outcome satisfies never;
  }
  const familyScopes = parseScopes(outcome.grant.scope);
  let scope = outcome.grant.scope;
  if (form.scope) {
    // A refresh may narrow the access token's scope, never widen it (RFC 6749 section 6).
    const narrowed = intersectScopes(parseScopes(form.scope), familyScopes, {
      contexts: ['patient', 'user'],
      identity: [],
    });
    requireResourceScopes(narrowed);
    scope = formatScopes(narrowed);
  }
  const user = await requireEnabledUser(deps, outcome.grant.userId);
  const response = await userTokenResponse(deps, user, app.clientId, scope);
  response.refresh_token = outcome.refreshToken;
  return response;
}

function requireResourceScopes(granted: ScopeSet): void {
  if (granted.resources.length === 0) {
    throw new OAuthError('invalid_scope', 'none of the requested scopes is allowed for this client');
  }
}

async function requirePublicApp(deps: Deps, clientId: string): Promise<PublicApp> {
  const client = await findClient(deps.db, clientId);
  if (!client || client.kind !== 'public' || client.disabled) {
    throw new OAuthError('invalid_client', 'unknown or disabled client');
  }
  return client;
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

async function userTokenResponse(deps: Deps, user: UserAccount, clientId: string, scope: string): Promise<TokenResponse> {
  const subject = userTokenSubject(user, clientId, scope);
  const { accessToken } = await issueAccessToken(deps, subject, USER_ACCESS_TOKEN_SECONDS);
  return {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: USER_ACCESS_TOKEN_SECONDS,
    scope,
    ...(subject.patient ? { patient: subject.patient } : {}),
  };
}
