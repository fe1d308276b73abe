/**
 * Per request, what a page handler needs: the language (the session's or the language cookie's choice, else the
 * browser's Accept-Language), the view context for templates, and, for a signed-in client, the FHIR API as that
 * client. `requireClient` guards the pages that need a signed-in client.
 */
import type { Request, RequestHandler, Response } from 'express';
import { common } from '../i18n/common';
import { isLanguage, negotiateLanguage, type Language } from '../i18n/catalogue';
import { FhirApi } from '../fhir-api';
import type { OAuthClient } from '../oauth-client';
import { PORTAL_PATH, type ViewContext } from '../views/view-context';
import { csrfTokenOf } from './csrf';
import { PortalError } from './portal-error';
import { ABSOLUTE_TIMEOUT_MS } from './session';

/** The cookie that keeps a language chosen before signing in (not a session; says only "en" or "es"). */
export const LANGUAGE_COOKIE = 'carecircle_lang';

export interface PageDeps {
  /** Where the API is called. */
  readonly apiUrl: () => string;
  readonly leaveUrl: string;
  readonly oauth: OAuthClient;
}

/** The language of this request. */
export function languageOf(req: Request): Language {
  if (isLanguage(req.session?.lang)) {
    return req.session.lang;
  }
  const cookie = (req.get('cookie') ?? '')
    .split(';')
    .map((c) => c.trim())
    .find((c) => c.startsWith(`${LANGUAGE_COOKIE}=`))
    ?.slice(LANGUAGE_COOKIE.length + 1);
  return isLanguage(cookie) ? cookie : negotiateLanguage(req.get('accept-language'));
}

/** True when the session holds a signed-in client whose session has not outlived its absolute limit. */
export function isSignedIn(req: Request): boolean {
  return Boolean(req.session?.patient && req.session.tokens && (req.session.signedInAt ?? 0) + ABSOLUTE_TIMEOUT_MS > Date.now());
}

/** The view context of this request (a form token is made only for a session that exists). */
export function viewOf(req: Request, deps: PageDeps): ViewContext {
  const lang = languageOf(req);
  const signedIn = isSignedIn(req);
  return {
    lang,
    t: common[lang],
    csrfToken: signedIn || req.session?.pendingSignIn ? csrfTokenOf(req) : undefined,
    signedIn,
    currentPath: `${PORTAL_PATH}${req.path === '/' ? '/' : req.path}`,
    leaveUrl: deps.leaveUrl,
  };
}

/** The FHIR API as the signed-in client of this request. */
export function apiOf(req: Request, deps: PageDeps): FhirApi {
  return new FhirApi(deps.apiUrl(), deps.oauth, req.session);
}

/** Lets only a signed-in client through: a page asked for without one goes to the start page; a form is refused. */
export function requireClient(): RequestHandler {
  return function signedInClientOnly(req: Request, res: Response, next) {
    if (isSignedIn(req)) {
      next();
      return;
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      res.redirect(303, `${PORTAL_PATH}/`);
      return;
    }
    throw new PortalError(403, 'sessionExpired');
  };
}
