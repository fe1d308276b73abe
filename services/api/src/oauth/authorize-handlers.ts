/**
 * The authorization endpoint's handlers, as plain async functions from a request's fields to a page or a redirect;
 * routes.ts only adapts them to Express (and the sign-in cookie, which it reads and sets for them). A sign-in
 * completes only from the form this server showed in that browser: a POST whose Origin (or Referer) is another site
 * is refused, as is one without the form's `csrf_token` for the browser's cookie (sign-in-csrf.ts in @carecircle/auth).
 * The form's Cancel button (`decision=cancel`) is held to the same checks and sends the app `access_denied`. Pages
 * speak the language of `ui_locales`, else of the browser's Accept-Language (sign-in-messages.ts).
 */
import {
  accessDeniedRedirect,
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
  type AuthorizePageProblem,
  type AuthorizeParameters,
  type AuthorizeRequest,
} from '@carecircle/auth';
import type { Config } from '@carecircle/config';
import { hasUnstorableCharacters } from '@carecircle/fhir';
import { z } from 'zod';
import { DECISION_FIELD, renderErrorPage, renderLoginPage } from './login-page';
import { describeScopes } from './scope-sentences';
import { chooseSignInLocale, signInMessages, type RequestProblemKey, type SignInLocale, type SignInMessages } from './sign-in-messages';

/** What the authorization endpoint answers; `signInNonce`, when set, goes into the browser's sign-in cookie. */
export type AuthorizeResult =
  | { kind: 'page'; status: number; html: string; locale: SignInLocale; retryAfterSeconds?: number; signInNonce?: string }
  | { kind: 'redirect'; location: string };

/**
 * What the browser sent besides the form: the sign-in cookie's nonce, where it says the request came from, and the
 * languages it prefers.
 */
export interface SignInBrowser {
  readonly cookieNonce?: string | undefined;
  readonly origin?: string | undefined;
  readonly referer?: string | undefined;
  readonly acceptLanguage?: string | undefined;
}

type SignInDeps = Pick<AuthDeps, 'db' | 'redis' | 'clock'> & { readonly config: AuthDeps['config'] & Pick<Config, 'pageTokenKey'> };

const credentialsSchema = z.object({
  // No username holds NUL (admin registration allows letters, digits and . _ @ + - only): refused before any lookup.
  username: z
    .string()
    .min(1)
    .max(128)
    .refine((value) => !hasUnstorableCharacters(value)),
  password: z.string().min(1).max(256),
});

/** The page's problem for each request the authorization endpoint shows rather than redirects. */
const PAGE_PROBLEMS: Readonly<Record<AuthorizePageProblem, RequestProblemKey>> = {
  'missing-client': 'noClient',
  'unknown-client': 'unknownClient',
  'repeated-client': 'repeatedClient',
  'redirect-uri': 'redirectUri',
  'state-repeated': 'stateRepeated',
  'state-too-long': 'stateTooLong',
  'state-unsendable': 'stateUnsendable',
};

/** The language of the pages for this request and browser, and its words. */
export function pageLanguage(params: Pick<AuthorizeParameters, 'ui_locales'>, browser: SignInBrowser): { locale: SignInLocale; messages: SignInMessages } {
  const locale = chooseSignInLocale(params.ui_locales, browser.acceptLanguage);
  return { locale, messages: signInMessages(locale) };
}

/** The error page for `problem` at `status`, in the request's language. */
function problemPage(params: AuthorizeParameters, browser: SignInBrowser, status: number, problem: RequestProblemKey): AuthorizeResult {
  const { locale, messages } = pageLanguage(params, browser);
  return { kind: 'page', status, locale, html: renderErrorPage(locale, messages, problem) };
}

function requestProblem(err: AuthorizeRequestError, params: AuthorizeParameters, browser: SignInBrowser): AuthorizeResult {
  return err.kind === 'redirect' && err.redirectTo
    ? { kind: 'redirect', location: err.redirectTo }
    : problemPage(params, browser, 400, err.problem ? PAGE_PROBLEMS[err.problem] : 'unreadable');
}

/** The words of the form's error messages, by what went wrong. */
type SignInError = 'credentials' | 'expired' | 'throttled' | 'unavailable';

function errorText(messages: SignInMessages, error: SignInError): string {
  switch (error) {
    case 'credentials':
      return messages.errorCredentials;
    case 'expired':
      return messages.errorExpired;
    case 'throttled':
      return messages.errorThrottled;
    case 'unavailable':
      return messages.errorUnavailable;
    default:
      return error satisfies never;
  }
}

/**
 * The sign-in form at `status` for the app `request` names, under the browser's sign-in nonce (a new one when it has
 * none), which the result hands back to be set in the cookie.
 */
function signInPage(
  deps: Pick<SignInDeps, 'config'>,
  request: AuthorizeRequest,
  params: AuthorizeParameters,
  browser: SignInBrowser,
  status: number,
  extra: { error?: SignInError; username?: string; retryAfterSeconds?: number } = {},
): AuthorizeResult {
  const nonce = signInNonce(browser.cookieNonce);
  const csrfToken = signInFormToken(deps.config, nonce, request.app.clientId);
  const { locale, messages } = pageLanguage(params, browser);
  const { retryAfterSeconds, error, username } = extra;
  return {
    kind: 'page',
    status,
    locale,
    html: renderLoginPage({
      locale,
      messages,
      appName: request.app.name,
      asks: describeScopes(request.scope, request.app.scope, locale, messages),
      params,
      csrfToken,
      ...(error === undefined ? {} : { error: errorText(messages, error) }),
      ...(username === undefined ? {} : { username }),
    }),
    signInNonce: nonce,
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
  };
}

/**
 * The page for a form this server did not show in this browser: posted from another site (403 error page), or
 * without the `csrf_token` of the browser's cookie (403, a fresh form saying it expired); undefined for a good one.
 */
function refusedForm(
  deps: Pick<SignInDeps, 'config'>,
  request: AuthorizeRequest,
  params: AuthorizeParameters,
  form: Record<string, unknown>,
  browser: SignInBrowser,
): AuthorizeResult | undefined {
  if (!isFromOwnOrigin(deps.config, browser.origin, browser.referer)) {
    return problemPage(params, browser, 403, 'crossSite');
  }
  if (!isSignInFormToken(deps.config, browser.cookieNonce, request.app.clientId, form[SIGN_IN_CSRF_FIELD])) {
    return signInPage(deps, request, params, browser, 403, { error: 'expired' });
  }
  return undefined;
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
      return requestProblem(err, params, browser);
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
 * GET: the sign-in form. `decision=cancel` (the form's Cancel button), from the form of this browser, redirects to the
 * app with `error=access_denied` and its `state` (RFC 6749 section 4.1.2.1); the credentials are not looked at.
 */
export async function submitSignIn(
  deps: SignInDeps,
  form: Record<string, unknown>,
  address: string,
  browser: SignInBrowser = {},
): Promise<AuthorizeResult> {
  const params: AuthorizeParameters = pickAuthorizeParameters(form);
  const cancelled = form[DECISION_FIELD] === 'cancel';
  if (!cancelled && form.username === undefined && form.password === undefined) {
    return showSignIn(deps, form, browser);
  }
  try {
    const request = await checkAuthorizeRequest(deps, params, findRepeatedAuthorizeParameters(form));
    if (cancelled) {
      return refusedForm(deps, request, params, form, browser) ?? { kind: 'redirect', location: accessDeniedRedirect(request) };
    }
    const credentials = credentialsSchema.safeParse(form);
    const username = typeof form.username === 'string' && !hasUnstorableCharacters(form.username) ? form.username.slice(0, 128) : '';
    if (!credentials.success) {
      return signInPage(deps, request, params, browser, 400, { username, error: 'credentials' });
    }
    const refused = refusedForm(deps, request, params, form, browser);
    if (refused) {
      return refused;
    }
    try {
      return { kind: 'redirect', location: await signInAndIssueCode(deps, request, credentials.data, address) };
    } catch (err) {
      if (err instanceof LoginFailed) {
        return err.reason === 'throttled'
          ? signInPage(deps, request, params, browser, 429, {
              username,
              error: 'throttled',
              ...(err.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: err.retryAfterSeconds }),
            })
          : signInPage(deps, request, params, browser, 401, { username, error: 'credentials' });
      }
      if (err instanceof AuthStateUnavailable) {
        return signInPage(deps, request, params, browser, 503, {
          username,
          error: 'unavailable',
          retryAfterSeconds: err.retryAfterSeconds,
        });
      }
      throw err;
    }
  } catch (err) {
    if (err instanceof AuthorizeRequestError) {
      return requestProblem(err, params, browser);
    }
    throw err;
  }
}
