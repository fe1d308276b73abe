/**
 * The authorization endpoint's logic, framework-free: checking an authorization request (SMART standalone launch,
 * code + PKCE S256) and, after the login form, turning valid credentials into a code.
 *
 * Errors in `client_id` or `redirect_uri` are shown to the user and never redirected (the URI is not trusted yet);
 * other errors go back to the app's redirect URI with `error` and `state` (RFC 6749 section 4.1.2.1). A `state` that
 * cannot be sent back as it came (too long, holding NUL, or given twice) is shown too: RFC 6749 wants the exact value
 * echoed, and a redirect without it would leave the app unable to match the answer to its request.
 */
import { hasUnstorableCharacters } from '@carecircle/fhir';
import { z } from 'zod';
import type { AuthDeps } from './auth-deps';
import { issueAuthorizationCode } from './authorization-code';
import { findClient, type UserFacingApp } from './client-registry';
import { clearLoginFailures, loginRetryAfter, recordLoginFailure } from './login-rate-limit';
import type { OAuthErrorCode } from './oauth-error';
import { isValidCodeChallenge } from './pkce';
import { formatScopes, intersectScopes, parseScopes, type IdentityScope, type ScopeContext } from './scopes';
import { authenticateUser, type UserAccount } from './user-registry';

/**
 * The parameters of an authorization request, as echoed in the login form. `ui_locales` (OpenID Connect Core
 * 3.1.2.1) only chooses the language of the sign-in pages.
 */
export const AUTHORIZE_PARAMETERS = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
  'aud',
  'ui_locales',
] as const;

export type AuthorizeParameters = Partial<Record<(typeof AUTHORIZE_PARAMETERS)[number], string>>;

/** A checked authorization request. */
export interface AuthorizeRequest {
  readonly app: UserFacingApp;
  readonly redirectUri: string;
  readonly scope: string;
  readonly state: string;
  readonly codeChallenge: string;
}

/**
 * Why a request is shown as a page rather than sent back to the app (there is no redirect URI to trust, or `state`
 * cannot be sent back): the page says it in the person's language, and what the app's developer should fix.
 */
export type AuthorizePageProblem =
  | 'missing-client'
  | 'unknown-client'
  | 'repeated-client'
  | 'redirect-uri'
  | 'state-repeated'
  | 'state-too-long'
  | 'state-unsendable';

/** An authorization request that cannot go on: shown as a page, or sent back to the app. */
export class AuthorizeRequestError extends Error {
  override readonly name = 'AuthorizeRequestError';
  constructor(
    /** `show`: the client or redirect URI is wrong; `redirect`: tell the app at `redirectTo`. */
    readonly kind: 'show' | 'redirect',
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly redirectTo?: string,
    /** For `show`: what is wrong, for the page. */
    readonly problem?: AuthorizePageProblem,
  ) {
    super(`${error}: ${description}`);
  }
}

function shown(error: OAuthErrorCode, description: string, problem: AuthorizePageProblem): AuthorizeRequestError {
  return new AuthorizeRequestError('show', error, description, undefined, problem);
}

/** A login that failed: wrong credentials (generic on purpose) or too many recent failures. */
export class LoginFailed extends Error {
  override readonly name = 'LoginFailed';
  /**
   * @param reason Why the sign-in failed.
   * @param retryAfterSeconds For `throttled`: how long to wait before trying again.
   */
  constructor(
    readonly reason: 'invalid-credentials' | 'throttled',
    readonly retryAfterSeconds?: number,
  ) {
    super(reason === 'throttled' ? 'Too many failed sign-in attempts' : 'Invalid username or password');
  }
}

const text = z
  .string()
  .min(1)
  .max(2048)
  .refine((value) => !hasUnstorableCharacters(value));

/** The longest `state` sent back to an app. */
export const MAX_STATE_LENGTH = 1024;

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

/**
 * The authorization parameters given more than once in a query or form (parsed with repeats as arrays): each may
 * appear only once (RFC 6749 section 3.1), so these are refused rather than read as their first or last value.
 */
export function findRepeatedAuthorizeParameters(source: Record<string, unknown>): Array<(typeof AUTHORIZE_PARAMETERS)[number]> {
  return AUTHORIZE_PARAMETERS.filter((name) => Array.isArray(source[name]));
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

/**
 * Checks an authorization request; throws {@link AuthorizeRequestError}. `repeated` names the parameters the request
 * gave more than once ({@link findRepeatedAuthorizeParameters}).
 */
export async function checkAuthorizeRequest(
  deps: Pick<AuthDeps, 'db' | 'config'>,
  params: AuthorizeParameters,
  repeated: readonly string[] = [],
): Promise<AuthorizeRequest> {
  if (repeated.includes('client_id') || repeated.includes('redirect_uri')) {
    throw shown('invalid_request', 'The request names its app or its redirect URI more than once.', 'repeated-client');
  }
  if (params.client_id === undefined) {
    throw shown('invalid_request', 'The request names no app (client_id is missing).', 'missing-client');
  }
  const clientId = text.safeParse(params.client_id);
  const app = clientId.success ? await findClient(deps.db, clientId.data) : undefined;
  if (!app || app.kind === 'system' || app.disabled) {
    throw shown('invalid_client', 'This app is not registered or is disabled.', 'unknown-client');
  }
  const redirectUri = params.redirect_uri;
  if (!redirectUri || !app.redirectUris.includes(redirectUri)) {
    throw shown('invalid_request', 'The redirect URI is not registered for this app.', 'redirect-uri');
  }
  const state = params.state;
  const stateProblem = describeStateProblem(state, repeated.includes('state'));
  if (stateProblem) {
    throw shown('invalid_request', stateProblem.description, stateProblem.problem);
  }
  const fail = (error: OAuthErrorCode, description: string): AuthorizeRequestError =>
    new AuthorizeRequestError('redirect', error, description, withQuery(redirectUri, { error, error_description: description, state }));
  const [firstRepeated] = repeated;
  if (firstRepeated !== undefined) {
    throw fail('invalid_request', `${firstRepeated} may appear only once`);
  }
  if (params.response_type !== 'code') {
    throw fail('unsupported_response_type', 'response_type must be code');
  }
  if (!state) {
    throw fail('invalid_request', 'state is required');
  }
  if (params.code_challenge_method !== 'S256' || !params.code_challenge || !isValidCodeChallenge(params.code_challenge)) {
    throw fail('invalid_request', 'PKCE with code_challenge_method S256 is required');
  }
  if (!params.aud || params.aud.replace(/\/+$/, '') !== deps.config.fhirBaseUrl) {
    throw fail('invalid_request', 'aud must be this server\'s FHIR base URL');
  }
  if (!params.scope) {
    throw fail('invalid_scope', 'scope is required');
  }
  if (params.scope.length > 4096 || hasUnstorableCharacters(params.scope)) {
    throw fail('invalid_scope', 'scope must be at most 4096 characters, without NUL');
  }
  return { app, redirectUri, scope: params.scope, state, codeChallenge: params.code_challenge };
}

/** Why `state` cannot be sent back to the app as it came, or undefined when it can (or is missing: redirected). */
function describeStateProblem(
  state: string | undefined,
  repeated: boolean,
): { description: string; problem: AuthorizePageProblem } | undefined {
  if (repeated) {
    return {
      description: 'The app sent the state parameter more than once, so the answer could not be matched to its request.',
      problem: 'state-repeated',
    };
  }
  if (state !== undefined && state.length > MAX_STATE_LENGTH) {
    return {
      description: `The app sent a state parameter longer than ${MAX_STATE_LENGTH} characters, too long to send back to it.`,
      problem: 'state-too-long',
    };
  }
  if (state !== undefined && hasUnstorableCharacters(state)) {
    return { description: 'The app sent a state parameter holding characters (NUL) that cannot be sent back to it.', problem: 'state-unsendable' };
  }
  return undefined;
}

/**
 * Where to send the app the person's refusal to sign in (RFC 6749 section 4.1.2.1, `access_denied`) for a checked
 * request.
 */
export function accessDeniedRedirect(request: AuthorizeRequest): string {
  return withQuery(request.redirectUri, { error: 'access_denied', error_description: 'the person cancelled signing in', state: request.state });
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
  const retryAfter = await loginRetryAfter(deps, credentials.username, address);
  if (retryAfter !== undefined) {
    throw new LoginFailed('throttled', retryAfter);
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
