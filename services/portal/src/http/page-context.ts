/**
 * Per request, what a page handler needs: the language (the session's or the language cookie's choice, else the
 * browser's Accept-Language), the area the page belongs to (the client's, or the practice's under `/practice`), the
 * view context for templates, and the FHIR API as the signed-in user. `requireClient` and `requirePractitioner` guard
 * each area: the other kind of user gets a page saying the area is not theirs.
 */
import type { Request, RequestHandler, Response } from 'express';
import { common } from '../i18n/common';
import { isLanguage, negotiateLanguage, type Language } from '../i18n/catalogue';
import { FhirApi } from '../fhir-api';
import type { OAuthClient } from '../oauth-client';
import { areaHome, PORTAL_PATH, type ViewContext } from '../views/view-context';
import { csrfTokenOf } from './csrf';
import { PortalError } from './portal-error';
import { ABSOLUTE_TIMEOUT_MS, type PortalArea } from './session';

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

/** The area a portal path belongs to: `/practice` and below is the practice's, everything else the client's. */
export function areaOf(req: Request): PortalArea {
  return req.path === '/practice' || req.path.startsWith('/practice/') ? 'practice' : 'client';
}

function withinSignInLimit(req: Request): boolean {
  return Boolean(req.session?.tokens && (req.session.signedInAt ?? 0) + ABSOLUTE_TIMEOUT_MS > Date.now());
}

/** True when the session holds a signed-in client whose session has not outlived its absolute limit. */
export function isSignedIn(req: Request): boolean {
  return Boolean(req.session?.patient) && withinSignInLimit(req);
}

/** True when the session holds a signed-in practitioner whose session has not outlived its absolute limit. */
export function isPractitionerSignedIn(req: Request): boolean {
  return Boolean(req.session?.practitioner) && withinSignInLimit(req);
}

/** The view context of this request (a form token is made only for a session that exists). */
export function viewOf(req: Request, deps: PageDeps): ViewContext {
  const lang = languageOf(req);
  const area = areaOf(req);
  const signedIn = area === 'practice' ? isPractitionerSignedIn(req) : isSignedIn(req);
  return {
    lang,
    t: common[lang],
    csrfToken: isSignedIn(req) || isPractitionerSignedIn(req) || req.session?.pendingSignIn ? csrfTokenOf(req) : undefined,
    signedIn,
    area,
    currentPath: `${PORTAL_PATH}${req.path === '/' ? '/' : req.path}`,
    leaveUrl: deps.leaveUrl,
  };
}

/** The FHIR API as the signed-in client or practitioner of this request. */
export function apiOf(req: Request, deps: PageDeps): FhirApi {
  return new FhirApi(deps.apiUrl(), deps.oauth, req.session);
}

/**
 * Lets only a signed-in client through: a page asked for without one goes to the start page, a form is refused; a
 * signed-in practitioner gets the page saying this area is for clients (403).
 */
export function requireClient(): RequestHandler {
  return function signedInClientOnly(req: Request, res: Response, next) {
    if (isSignedIn(req)) {
      next();
      return;
    }
    if (isPractitionerSignedIn(req)) {
      throw new PortalError(403, 'clientsOnly');
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      res.redirect(303, `${PORTAL_PATH}/`);
      return;
    }
    throw new PortalError(403, 'sessionExpired');
  };
}

/**
 * Lets only a signed-in practitioner through: a page asked for without one goes to the practice area's start page, a
 * form is refused; a signed-in client gets the page saying this area is for practitioners (403).
 */
export function requirePractitioner(): RequestHandler {
  return function signedInPractitionerOnly(req: Request, res: Response, next) {
    if (isPractitionerSignedIn(req)) {
      next();
      return;
    }
    if (isSignedIn(req)) {
      throw new PortalError(403, 'practitionersOnly');
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      res.redirect(303, areaHome('practice'));
      return;
    }
    throw new PortalError(403, 'sessionExpired');
  };
}
