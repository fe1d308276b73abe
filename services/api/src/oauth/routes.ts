/**
 * SMART on FHIR / OAuth 2.0 endpoints: discovery (`.well-known/smart-configuration`, JWKS), the authorization endpoint
 * with its sign-in page, the token endpoint and the revocation endpoint (RFC 7009). Thin Express adapters over
 * @carecircle/auth, each answering every error in its own format, never as an OperationOutcome: the token and
 * revocation endpoints as RFC 6749 JSON (`{"error", "error_description"}`, a 4xx of any kind `invalid_request`), the
 * browser-facing authorization endpoint as an HTML page. Nothing here is ever cached. Form bodies and queries must be UTF-8 (strict-text.ts).
 */
import {
  AuthStateUnavailable,
  handleRevocationRequest,
  handleTokenRequest,
  OAuthError,
  publishedJwks,
  RETRY_AFTER_SECONDS,
  SIGN_IN_COOKIE_SECONDS,
  signInCookieName,
  smartConfiguration,
} from '@carecircle/auth';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { AppServices } from '../app-services';
import { errorToOutcome } from '../http/error-handler';
import { InvalidUtf8Error, hasUtf8Query, requireSupportedContentEncoding, verifyUtf8Form } from '../http/strict-text';
import { pageLanguage, showSignIn, submitSignIn, type AuthorizeResult, type SignInBrowser } from './authorize-handlers';
import { pageHeaders, renderErrorPage } from './login-page';

// Form bodies of the OAuth endpoints are small: a client assertion is the largest field.
const FORM_LIMIT = '32kb';
const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' } as const;

/** The OAuth / SMART router, mounted at the root of the app. */
export function createOAuthRouter(services: AppServices): express.Router {
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: FORM_LIMIT, parameterLimit: 32, verify: verifyUtf8Form });

  router.get(['/.well-known/smart-configuration', '/fhir/R4/.well-known/smart-configuration'], function getSmartConfiguration(_req, res) {
    res.set('Cache-Control', 'public, max-age=300').json(smartConfiguration(services));
  });

  router.get('/.well-known/jwks.json', async function getJwks(_req, res) {
    // Short caching: after a rotation, verifiers should see the new key within a minute.
    res.set('Cache-Control', 'public, max-age=60').json(await publishedJwks(services));
  });

  router.get('/oauth2/authorize', async function getAuthorize(req, res) {
    if (!hasUtf8Query(req.originalUrl)) {
      throw new InvalidUtf8Error('query');
    }
    sendAuthorizeResult(res, await showSignIn(services, req.query as Record<string, unknown>, signInBrowser(req, services)), services);
  });

  router.post('/oauth2/authorize', requireSupportedContentEncoding, form, async function postAuthorize(req, res) {
    sendAuthorizeResult(res, await submitSignIn(services, formBody(req), clientAddress(req), signInBrowser(req, services)), services);
  });

  router.post('/oauth2/token', requireSupportedContentEncoding, form, async function postToken(req, res) {
    res.set(NO_STORE).json(await handleTokenRequest(services, formBody(req)));
  });

  // RFC 7009: 200 with no body whether or not the token named anything of the caller's.
  router.post('/oauth2/revoke', requireSupportedContentEncoding, form, async function postRevoke(req, res) {
    await handleRevocationRequest(services, formBody(req));
    res.status(200).set(NO_STORE).end();
  });

  router.use('/oauth2/authorize', function showAuthorizeError(err: unknown, req: Request, res: Response, next: NextFunction) {
    const mapped = errorToOutcome(err);
    if (mapped.unexpected) {
      next(err);
      return;
    }
    // The generic description of a client error (never the error's own message, which may quote the request); the
    // language from the browser alone, as the request itself could not be read.
    const description = mapped.body.issue?.[0]?.details?.text ?? 'The request could not be read.';
    const { locale, messages } = pageLanguage({}, { acceptLanguage: req.get('accept-language') });
    res.status(mapped.status).set(pageHeaders(locale)).send(renderErrorPage(locale, messages, 'unreadable', `${description}.`));
  });

  router.use(['/oauth2/token', '/oauth2/revoke'], function answerOAuthError(err: unknown, _req: Request, res: Response, next: NextFunction) {
    const oauthError = toOAuthError(err);
    if (!oauthError) {
      next(err);
      return;
    }
    if (oauthError.status === 503) {
      res.set('Retry-After', String(RETRY_AFTER_SECONDS));
    }
    res.status(oauthError.status).set(NO_STORE).json(oauthError.toJSON());
  });

  return router;
}

function formBody(req: Request): Record<string, unknown> {
  return typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>) : {};
}

/** The address failed logins are counted against (honours the app's `trust proxy` setting). */
function clientAddress(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

/**
 * The sign-in cookie's nonce (the first cookie of that name), where the browser says the request came from, and the
 * languages it prefers.
 */
function signInBrowser(req: Request, services: AppServices): SignInBrowser {
  const name = signInCookieName(services.config);
  const cookie = (req.get('cookie') ?? '')
    .split(';')
    .map((part) => part.trim())
    .find((part) => part.startsWith(`${name}=`));
  return {
    cookieNonce: cookie?.slice(name.length + 1),
    origin: req.get('origin'),
    referer: req.get('referer'),
    acceptLanguage: req.get('accept-language'),
  };
}

function sendAuthorizeResult(res: Response, result: AuthorizeResult, services: AppServices): void {
  switch (result.kind) {
    case 'page':
      if (result.retryAfterSeconds !== undefined) {
        res.set('Retry-After', String(result.retryAfterSeconds));
      }
      if (result.signInNonce !== undefined) {
        // HttpOnly and SameSite=Strict: no script reads it, no other site's request carries it (sign-in-csrf.ts).
        res.cookie(signInCookieName(services.config), result.signInNonce, {
          httpOnly: true,
          sameSite: 'strict',
          secure: services.config.baseUrl.startsWith('https:'),
          path: '/',
          maxAge: SIGN_IN_COOKIE_SECONDS * 1000,
        });
      }
      res.status(result.status).set(pageHeaders(result.locale)).send(result.html);
      return;
    case 'redirect':
      res.set(NO_STORE).redirect(302, result.location);
      return;
    default:
      result satisfies never;
  }
}

/**
 * OAuth errors as they are; Redis not answering (codes, assertion replay checks) as `temporarily_unavailable` (503);
 * every other client error (a body that is too large, not decompressible, not UTF-8, text the database refused) as
 * `invalid_request` with the generic description error-handler.ts gives it, 413 kept, 400 otherwise (RFC 6749 section
 * 5.2); a server fault is not ours to answer (the app's error handler logs it).
 */
function toOAuthError(err: unknown): OAuthError | undefined {
  if (err instanceof OAuthError) {
    return err;
  }
  if (err instanceof AuthStateUnavailable) {
    return new OAuthError('temporarily_unavailable', 'the token service is briefly unavailable; try again shortly', 503);
  }
  const mapped = errorToOutcome(err);
  if (mapped.unexpected) {
    return undefined;
  }
  const description = mapped.body.issue?.[0]?.details?.text ?? 'the request could not be read';
  return new OAuthError('invalid_request', description, mapped.status === 413 ? 413 : 400);
}
