/**
 * The authorization endpoint's logic, framework-free: checking an authorization request (SMART standalone launch,
 * code + PKCE S256) and, after the login form, turning valid credentials into a code.
 *
 * Errors in `client_id` or `redirect_uri` are shown to the user and never redirected (the URI is not trusted yet);
 * other errors go back to the app's redirect URI with `error` and `state` (RFC 6749 section 4.1.2.1).
 */
import { z } from 'zod';
import type { AuthDeps } from './auth-deps';
import { issueAuthorizationCode } from './authorization-code';
import { findClient, type PublicApp } from './client-registry';
import { clearLoginFailures, isLoginThrottled, recordLoginFailure } from './login-rate-limit';
import type { OAuthErrorCode } from './oauth-error';
import { isValidCodeChallenge } from './pkce';
import { formatScopes, intersectScopes, parseScopes, type IdentityScope, type ScopeContext } from './scopes';
import { authenticateUser, type UserAccount } from './user-registry';

/** The parameters of an authorization request, as echoed in the login form. */
export const AUTHORIZE_PARAMETERS = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
  'aud',
] as const;

export type AuthorizeParameters = Partial<Record<(typeof AUTHORIZE_PARAMETERS)[number], string>>;

/** A checked authorization request. */
export interface AuthorizeRequest {
  readonly app: PublicApp;
  readonly redirectUri: string;
  readonly scope: string;
  readonly state: string;
  readonly codeChallenge: string;
}

/** An authorization request that cannot go on: shown as a page, or sent back to the app. */
export class AuthorizeRequestError extends Error {
  override readonly name = 'AuthorizeRequestError';
  constructor(
    /** `show`: the client or redirect URI is wrong; `redirect`: tell the app at `redirectTo`. */
    readonly kind: 'show' | 'redirect',
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly redirectTo?: string,
  ) {
    super(`${error}: ${description}`);
  }
}

/** A login that failed: wrong credentials (generic on purpose) or too many recent failures. */
export class LoginFailed extends Error {
  override readonly name = 'LoginFailed';
  constructor(readonly reason: 'invalid-credentials' | 'throttled') {
    super(reason === 'throttled' ? 'Too many failed sign-in attempts' : 'Invalid username or password');
  }
}

const text = z.string().min(1).max(2048);

/** Picks the authorization parameters out of a query or form (first value of each, strings only). */
export function pickAuthorizeParameters(source: Record<string, unknown>): AuthorizeParameters {
  const picked: AuthorizeParameters = {};
  for (const name of AUTHORIZE_PARAMETERS) {
    const value = source[name];
    if (typeof value === 'string') {
      picked[name] = value;
    }
  }
  return picked;
}

/** Adds parameters to a redirect URI, keeping any query it already has. */
export function withQuery(uri: string, params: Record<string, string | undefined>): string {
  const url = new URL(uri);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) {
      url.searchParams.set(name, value);
    }
  }
  return url.toString();
}

/** Checks an authorization request; throws {@link AuthorizeRequestError}. */
export async function checkAuthorizeRequest(
  deps: Pick<AuthDeps, 'db' | 'config'>,
  params: AuthorizeParameters,
): Promise<AuthorizeRequest> {
  const clientId = text.safeParse(params.client_id);
  const app = clientId.success ? await findClient(deps.db, clientId.data) : undefined;
  if (!app || app.kind !== 'public' || app.disabled) {
    throw new AuthorizeRequestError('show', 'invalid_client', 'This app is not registered or is disabled.');
  }
  const redirectUri = params.redirect_uri;
  if (!redirectUri || !app.redirectUris.includes(redirectUri)) {
    throw new AuthorizeRequestError('show', 'invalid_request', 'The redirect URI is not registered for this app.');
  }
  const state = params.state;
  const fail = (error: OAuthErrorCode, description: string): AuthorizeRequestError =>
    new AuthorizeRequestError('redirect', error, description, withQuery(redirectUri, { error, error_description: description, state }));
  if (params.response_type !== 'code') {
    throw fail('unsupported_response_type', 'response_type must be code');
  }
  if (!state || state.length > 1024) {
    throw fail('invalid_request', 'state is required');
  }
  if (params.code_challenge_method !== 'S256' || !params.code_challenge || !isValidCodeChallenge(params.code_challenge)) {
    throw fail('invalid_request', 'PKCE with code_challenge_method S256 is required');
  }
  if (!params.aud || params.aud.replace(/\/+$/, '') !== deps.config.fhirBaseUrl) {
    throw fail('invalid_request', 'aud must be this server\'s FHIR base URL');
  }
  if (!params.scope || params.scope.length > 4096) {
    throw fail('invalid_scope', 'scope is required');
  }
  return { app, redirectUri, scope: params.scope, state, codeChallenge: params.code_challenge };
}

/**
 * Scope contexts and identity scopes a user may be granted. Clients (Patient users) get `patient/` scopes and their
 * own patient context only: a `user/` scope would mean "what this user may see", which for a client is the own
 * record, so it is not granted rather than granted under a name that promises more. Practitioners get `user/` scopes.
 * `offline_access` and `online_access` (refresh tokens) are granted only when the app's registration lists them.
 */
export function grantableFor(user: Pick<UserAccount, 'fhirUser'>): { contexts: ScopeContext[]; identity: IdentityScope[] } {
  return user.fhirUser.startsWith('Patient/')
    ? { contexts: ['patient'], identity: ['fhirUser', 'launch/patient'] }
    : { contexts: ['user'], identity: ['fhirUser'] };
}

/**
 * Signs the user in for the request: throttled or wrong credentials throw {@link LoginFailed}; a grant without any
 * resource scope throws an {@link AuthorizeRequestError} to redirect. Returns the redirect URI carrying the new code.
 */
export async function signInAndIssueCode(
  deps: Pick<AuthDeps, 'db' | 'redis' | 'config' | 'clock'>,
  request: AuthorizeRequest,
  credentials: { username: string; password: string },
  address: string,
): Promise<string> {
  if (await isLoginThrottled(deps, credentials.username, address)) {
    throw new LoginFailed('throttled');
  }
  const user = await authenticateUser(deps.db, credentials.username, credentials.password);
  if (!user) {
    await recordLoginFailure(deps, credentials.username, address);
    throw new LoginFailed('invalid-credentials');
  }
  await clearLoginFailures(deps, credentials.username, address);
  const granted = intersectScopes(parseScopes(request.scope), parseScopes(request.app.scope), grantableFor(user));
  if (granted.resources.length === 0) {
    const description = 'none of the requested scopes is allowed for this app and user';
    throw new AuthorizeRequestError(
      'redirect',
      'invalid_scope',
      description,
      withQuery(request.redirectUri, { error: 'invalid_scope', error_description: description, state: request.state }),
    );
  }
  const code = await issueAuthorizationCode(deps, {
    clientId: request.app.clientId,
    redirectUri: request.redirectUri,
    scope: formatScopes(granted),
    codeChallenge: request.codeChallenge,
    userId: user.id,
  });
  return withQuery(request.redirectUri, { code, state: request.state });
}
