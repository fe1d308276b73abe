/**
 * The authorization endpoint's handlers, as plain async functions from a request's fields to a page or a redirect;
 * routes.ts only adapts them to Express (and the sign-in cookie, which it reads and sets for them). A sign-in
 * completes only from the form this server showed in that browser: a POST whose Origin (or Referer) is another site
 * is refused, as is one without the form's `csrf_token` for the browser's cookie (sign-in-csrf.ts in @carecircle/auth).
 */
import {
  AuthorizeRequestError,
  AuthStateUnavailable,
  checkAuthorizeRequest,
  findRepeatedAuthorizeParameters,
  isFromOwnOrigin,
  isSignInFormToken,
  LoginFailed,
  pickAuthorizeParameters,
  SIGN_IN_CSRF_FIELD,
  signInAndIssueCode,
  signInFormToken,
  signInNonce,
  type AuthDeps,
  type AuthorizeParameters,
} from '@carecircle/auth';
import type { Config } from '@carecircle/config';
import { hasUnstorableCharacters } from '@carecircle/fhir';
import { z } from 'zod';
import { renderErrorPage, renderLoginPage } from './login-page';

/** What the authorization endpoint answers; `signInNonce`, when set, goes into the browser's sign-in cookie. */
export type AuthorizeResult =
  | { kind: 'page'; status: number; html: string; retryAfterSeconds?: number; signInNonce?: string }
  | { kind: 'redirect'; location: string };

/** What the browser sent besides the form: the sign-in cookie's nonce, and where it says the request came from. */
export interface SignInBrowser {
  readonly cookieNonce?: string | undefined;
  readonly origin?: string | undefined;
  readonly referer?: string | undefined;
}

type SignInDeps = Pick<AuthDeps, 'db' | 'redis' | 'clock'> & { readonly config: AuthDeps['config'] & Pick<Config, 'pageTokenKey'> };

const GENERIC_LOGIN_ERROR = 'The username or password is not correct.';
const EXPIRED_FORM_ERROR = 'This sign-in form has expired. Please sign in again.';
const CROSS_SITE_ERROR = 'This sign-in was not sent from the CareCircle sign-in page. Go back to the app and start again.';
const THROTTLED_LOGIN_ERROR = 'Too many unsuccessful attempts. Please wait a little and try again.';
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

/**
 * The sign-in form at `status` for the app `request` names, under the browser's sign-in nonce (a new one when it has
 * none), which the result hands back to be set in the cookie.
 */
function signInPage(
  deps: Pick<SignInDeps, 'config'>,
  request: { app: { name: string; clientId: string } },
  params: AuthorizeParameters,
  browser: SignInBrowser,
  status: number,
  extra: { error?: string; username?: string; retryAfterSeconds?: number } = {},
): AuthorizeResult {
  const nonce = signInNonce(browser.cookieNonce);
  const csrfToken = signInFormToken(deps.config, nonce, request.app.clientId);
  const { retryAfterSeconds, ...text } = extra;
  return {
    kind: 'page',
    status,
    html: renderLoginPage({ appName: request.app.name, params, csrfToken, ...text }),
    signInNonce: nonce,
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
  };
}

/** GET /oauth2/authorize: checks the request (a query or form, repeated parameters as arrays) and shows the sign-in form. */
export async function showSignIn(
  deps: Pick<SignInDeps, 'db' | 'config'>,
  query: Record<string, unknown>,
  browser: SignInBrowser = {},
): Promise<AuthorizeResult> {
  const params = pickAuthorizeParameters(query);
  try {
    const request = await checkAuthorizeRequest(deps, params, findRepeatedAuthorizeParameters(query));
    return signInPage(deps, request, params, browser, 200);
  } catch (err) {
    if (err instanceof AuthorizeRequestError) {
      return requestProblem(err);
    }
    throw err;
  }
}

/**
 * POST /oauth2/authorize: signs the user in. Success redirects to the app with a code; wrong credentials show the
 * form again with a generic error (401); too many failures of this username from this address, or from this address
 * at all, 429 with Retry-After; the rate limiter's store (Redis) not answering 503. A POST from another site (Origin or
 * Referer) is 403 with an error page; one without the form token of this browser's cookie (an expired form, a forged
 * one) 403 with a fresh form; neither counts as a failed sign-in. An authorization request POSTed without any
 * credentials (SMART `authorize-post`: the app sends the request as a form instead of a query) is answered like the
 * GET: the sign-in form.
 */
export async function submitSignIn(
  deps: SignInDeps,
  form: Record<string, unknown>,
  address: string,
  browser: SignInBrowser = {},
): Promise<AuthorizeResult> {
  const params: AuthorizeParameters = pickAuthorizeParameters(form);
  if (form.username === undefined && form.password === undefined) {
    return showSignIn(deps, form, browser);
  }
  try {
    const request = await checkAuthorizeRequest(deps, params, findRepeatedAuthorizeParameters(form));
    const credentials = credentialsSchema.safeParse(form);
    const username = typeof form.username === 'string' && !hasUnstorableCharacters(form.username) ? form.username.slice(0, 128) : '';
    if (!credentials.success) {
      return signInPage(deps, request, params, browser, 400, { username, error: GENERIC_LOGIN_ERROR });
    }
    if (!isFromOwnOrigin(deps.config, browser.origin, browser.referer)) {
      return { kind: 'page', status: 403, html: renderErrorPage(CROSS_SITE_ERROR) };
    }
    if (!isSignInFormToken(deps.config, browser.cookieNonce, request.app.clientId, form[SIGN_IN_CSRF_FIELD])) {
      return signInPage(deps, request, params, browser, 403, { error: EXPIRED_FORM_ERROR });
    }
    try {
      return { kind: 'redirect', location: await signInAndIssueCode(deps, request, credentials.data, address) };
    } catch (err) {
      if (err instanceof LoginFailed) {
        return err.reason === 'throttled'
          ? signInPage(deps, request, params, browser, 429, {
              username,
              error: THROTTLED_LOGIN_ERROR,
              ...(err.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: err.retryAfterSeconds }),
            })
          : signInPage(deps, request, params, browser, 401, { username, error: GENERIC_LOGIN_ERROR });
      }
      if (err instanceof AuthStateUnavailable) {
        return signInPage(deps, request, params, browser, 503, {
          username,
          error: UNAVAILABLE_LOGIN_ERROR,
          retryAfterSeconds: err.retryAfterSeconds,
        });
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
