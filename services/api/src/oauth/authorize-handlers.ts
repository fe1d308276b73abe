/**
 * The authorization endpoint's handlers, as plain async functions from a request's fields to a page or a redirect;
 * routes.ts only adapts them to Express.
 */
import {
  AuthorizeRequestError,
  AuthStateUnavailable,
  checkAuthorizeRequest,
  findRepeatedAuthorizeParameters,
  LoginFailed,
  pickAuthorizeParameters,
  signInAndIssueCode,
  type AuthDeps,
  type AuthorizeParameters,
} from '@carecircle/auth';
import { hasUnstorableCharacters } from '@carecircle/fhir';
import { z } from 'zod';
import { renderErrorPage, renderLoginPage } from './login-page';

/** What the authorization endpoint answers. */
export type AuthorizeResult =
  | { kind: 'page'; status: number; html: string; retryAfterSeconds?: number }
  | { kind: 'redirect'; location: string };

const GENERIC_LOGIN_ERROR = 'The username or password is not correct.';
const THROTTLED_LOGIN_ERROR = 'Too many unsuccessful attempts. Please wait a few minutes and try again.';
const UNAVAILABLE_LOGIN_ERROR = 'Signing in is not possible at the moment. Please try again in a few seconds.';

const credentialsSchema = z.object({
  // No username holds NUL (admin registration allows letters, digits and . _ @ + - only): refused before any lookup.
  username: z
    .string()
    .min(1)
    .max(128)
    .refine((value) => !hasUnstorableCharacters(value)),
  password: z.string().min(1).max(256),
});

function requestProblem(err: AuthorizeRequestError): AuthorizeResult {
  return err.kind === 'redirect' && err.redirectTo
    ? { kind: 'redirect', location: err.redirectTo }
    : { kind: 'page', status: 400, html: renderErrorPage(err.description) };
}

/** GET /oauth2/authorize: checks the request (a query or form, repeated parameters as arrays) and shows the sign-in form. */
export async function showSignIn(deps: Pick<AuthDeps, 'db' | 'config'>, query: Record<string, unknown>): Promise<AuthorizeResult> {
  const params = pickAuthorizeParameters(query);
  try {
    const request = await checkAuthorizeRequest(deps, params, findRepeatedAuthorizeParameters(query));
    return { kind: 'page', status: 200, html: renderLoginPage({ appName: request.app.name, params }) };
  } catch (err) {
    if (err instanceof AuthorizeRequestError) {
      return requestProblem(err);
    }
    throw err;
  }
}

/**
 * POST /oauth2/authorize: signs the user in. Success redirects to the app with a code; wrong credentials show the
 * form again with a generic error (401); too many failures 429; the rate limiter's store (Redis) not answering 503.
 * An authorization request POSTed without any credentials (SMART `authorize-post`: the app sends the request as a
 * form instead of a query) is answered like the GET: the sign-in form.
 */
export async function submitSignIn(
  deps: Pick<AuthDeps, 'db' | 'redis' | 'config' | 'clock'>,
  form: Record<string, unknown>,
  address: string,
): Promise<AuthorizeResult> {
  const params: AuthorizeParameters = pickAuthorizeParameters(form);
  if (form.username === undefined && form.password === undefined) {
    return showSignIn(deps, form);
  }
  try {
    const request = await checkAuthorizeRequest(deps, params, findRepeatedAuthorizeParameters(form));
    const credentials = credentialsSchema.safeParse(form);
    const username = typeof form.username === 'string' && !hasUnstorableCharacters(form.username) ? form.username.slice(0, 128) : '';
    if (!credentials.success) {
      return { kind: 'page', status: 400, html: renderLoginPage({ appName: request.app.name, params, username, error: GENERIC_LOGIN_ERROR }) };
    }
    try {
      return { kind: 'redirect', location: await signInAndIssueCode(deps, request, credentials.data, address) };
    } catch (err) {
      if (err instanceof LoginFailed) {
        const throttled = err.reason === 'throttled';
        return {
          kind: 'page',
          status: throttled ? 429 : 401,
          html: renderLoginPage({ appName: request.app.name, params, username, error: throttled ? THROTTLED_LOGIN_ERROR : GENERIC_LOGIN_ERROR }),
        };
      }
      if (err instanceof AuthStateUnavailable) {
        return {
          kind: 'page',
          status: 503,
          retryAfterSeconds: err.retryAfterSeconds,
          html: renderLoginPage({ appName: request.app.name, params, username, error: UNAVAILABLE_LOGIN_ERROR }),
        };
      }
      throw err;
    }
  } catch (err) {
    if (err instanceof AuthorizeRequestError) {
      return requestProblem(err);
    }
    throw err;
  }
}
