/**
 * SMART on FHIR / OAuth 2.0 endpoints: discovery (`.well-known/smart-configuration`, JWKS), the authorization endpoint
 * with its sign-in page, and the token endpoint. Thin Express adapters over @carecircle/auth; token-endpoint errors
 * are RFC 6749 JSON (`{"error", "error_description"}`), not OperationOutcomes, and nothing here is ever cached.
 */
import { AuthStateUnavailable, handleTokenRequest, OAuthError, publishedJwks, RETRY_AFTER_SECONDS, smartConfiguration } from '@carecircle/auth';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { AppServices } from '../app-services';
import { showSignIn, submitSignIn, type AuthorizeResult } from './authorize-handlers';
import { PAGE_HEADERS } from './login-page';

// Form bodies of the OAuth endpoints are small: a client assertion is the largest field.
const FORM_LIMIT = '32kb';
const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' } as const;

/** The OAuth / SMART router, mounted at the root of the app. */
export function createOAuthRouter(services: AppServices): express.Router {
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: FORM_LIMIT, parameterLimit: 32 });

  router.get(['/.well-known/smart-configuration', '/fhir/R4/.well-known/smart-configuration'], function getSmartConfiguration(_req, res) {
    res.set('Cache-Control', 'public, max-age=300').json(smartConfiguration(services));
  });

  router.get('/.well-known/jwks.json', async function getJwks(_req, res) {
    // Short caching: after a rotation, verifiers should see the new key within a minute.
    res.set('Cache-Control', 'public, max-age=60').json(await publishedJwks(services));
  });

  router.get('/oauth2/authorize', async function getAuthorize(req, res) {
    sendAuthorizeResult(res, await showSignIn(services, req.query as Record<string, unknown>));
  });

  router.post('/oauth2/authorize', form, async function postAuthorize(req, res) {
    sendAuthorizeResult(res, await submitSignIn(services, formBody(req), clientAddress(req)));
  });

  router.post('/oauth2/token', form, async function postToken(req, res) {
    res.set(NO_STORE).json(await handleTokenRequest(services, formBody(req)));
  });

  router.use('/oauth2/token', function answerOAuthError(err: unknown, _req: Request, res: Response, next: NextFunction) {
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

function sendAuthorizeResult(res: Response, result: AuthorizeResult): void {
  switch (result.kind) {
    case 'page':
      if (result.retryAfterSeconds !== undefined) {
        res.set('Retry-After', String(result.retryAfterSeconds));
      }
      res.status(result.status).set(PAGE_HEADERS).send(result.html);
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
 * malformed bodies as `invalid_request`; anything else is not ours to answer.
 */
function toOAuthError(err: unknown): OAuthError | undefined {
  if (err instanceof OAuthError) {
    return err;
  }
  if (err instanceof AuthStateUnavailable) {
    return new OAuthError('temporarily_unavailable', 'the token service is briefly unavailable; try again shortly', 503);
  }
  if (typeof err === 'object' && err !== null && typeof (err as { type?: unknown }).type === 'string') {
    const status = (err as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return new OAuthError('invalid_request', 'the request body could not be read', status === 413 ? 413 : 400);
    }
  }
  return undefined;
}
