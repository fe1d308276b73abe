/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * Signing in and out, for both areas. Sign-in (`/sign-in` for clients, `/practice/sign-in` for practitioners) sends
 * the browser to the API's `/oauth2/authorize` with the area's scopes and a fresh state and PKCE verifier kept in the
 * session; the callback checks the state, redeems the code with the portal's client assertion, lets in only the
 * area's kind of user (fhirUser `Patient/...` in the client's area, `Practitioner/...` in the practice's; anyone else
 * gets a page saying so, and the token is revoked), and starts a new session id (no fixation). Sign-out revokes the
 * session's refresh token and ends the session; "on all devices" ends every portal session of the user and revokes
 * every refresh token of the user's account for this app. The language switch keeps the choice in the session, or in
 * a small cookie before signing in.
 */
import type { Request, Response, Router } from 'express';
import type { Logger } from '@carecircle/log';
import { isLanguage } from '../i18n/catalogue';
import { LANGUAGE_COOKIE, isPractitionerSignedIn, isSignedIn, languageOf, viewOf, type PageDeps } from '../http/page-context';
import { PortalError } from '../http/portal-error';
import { ABSOLUTE_TIMEOUT_MS, sessionKeys, type PortalArea, type PortalRedis, type PortalTokens } from '../http/session';
import { MessagePage } from '../views/components';
import { sendPage } from '../views/render';
import { areaHome, PORTAL_PATH, portalPath, type ViewContext } from '../views/view-context';

const SIGN_IN_WINDOW_MS = 10 * 60 * 1000;

export interface SignInDeps extends PageDeps {
  readonly redis: PortalRedis;
  readonly redisPrefix: string;
  readonly secureCookies: boolean;
  readonly logger: Logger;
}

export function signInRoutes(router: Router, deps: SignInDeps): void {
  const keys = sessionKeys(deps.redisPrefix);

  const startSignIn = (area: PortalArea) =>
    async function startSignIn(req: Request, res: Response): Promise<void> {
      const { pending, authorizeUrl } = await deps.oauth.beginSignIn(languageOf(req), area);
      req.session.pendingSignIn = pending;
      res.redirect(303, authorizeUrl);
    };
  router.get('/sign-in', startSignIn('client'));
  router.get('/practice/sign-in', startSignIn('practice'));

  router.get('/callback', async function finishSignIn(req, res) {
    const pending = req.session.pendingSignIn;
    const state = typeof req.query.state === 'string' ? req.query.state : undefined;
    if (!pending || !state || state !== pending.state || pending.startedAt + SIGN_IN_WINDOW_MS < Date.now()) {
      throw new PortalError(400, 'sessionExpired');
    }
    delete req.session.pendingSignIn;
    const area: PortalArea = pending.area === 'practice' ? 'practice' : 'client';
    const view = { ...viewOf(req, deps), area };
    if (req.query.error === 'access_denied') {
      sendPage(
        res,
        <MessagePage view={view} heading={view.t.signInCancelledHeading}>
          <p>{view.t.signInCancelledBody}</p>
          <p>
            <a href={areaHome(area)}>{view.t.backToStart}</a>
          </p>
        </MessagePage>,
      );
      return;
    }
    if (req.query.error === 'invalid_scope') {
      // The API grants each kind of user only its own scopes: none of the area's means another kind of account (or
      // a registration that lacks the area's scopes, which the operator should hear of).
      deps.logger.warn({ area }, 'portal sign-in: none of the area scopes granted (another kind of account, or the registration lacks them)');
      sendWrongAccount(res, view, area);
      return;
    }
    const code = typeof req.query.code === 'string' ? req.query.code : undefined;
    if (!code) {
      sendSignInFailed(res, view, 400);
      return;
    }
    let signedIn;
    try {
      signedIn = await deps.oauth.redeemCode(code, pending);
    } catch (err) {
      deps.logger.warn({ err: { name: (err as Error).name, message: (err as Error).message } }, 'portal sign-in: code not redeemed');
      sendSignInFailed(res, view, 400);
      return;
    }
    const fhirUser = signedIn.fhirUser;
    if (!fhirUser?.startsWith(area === 'practice' ? 'Practitioner/' : 'Patient/')) {
      await revokeQuietly(deps, signedIn.tokens, false);
      sendWrongAccount(res, view, area);
      return;
    }
    const lang = languageOf(req);
    await regenerate(req);
    req.session.lang = lang;
    if (area === 'practice') {
      req.session.practitioner = fhirUser;
    } else {
      req.session.patient = fhirUser;
    }
    req.session.tokens = signedIn.tokens;
    req.session.signedInAt = Date.now();
    const userSessions = keys.userSessions(fhirUser);
    await deps.redis.multi().sAdd(userSessions, req.session.id).pExpire(userSessions, ABSOLUTE_TIMEOUT_MS).exec();
    res.redirect(303, areaHome(area));
  });

  router.post('/sign-out', async function signOut(req, res) {
    const tokens = req.session.tokens;
    const fhirUser = req.session.patient ?? req.session.practitioner;
    const area: PortalArea = req.session.practitioner ? 'practice' : 'client';
    if (tokens) {
      await revokeQuietly(deps, tokens, false);
    }
    if (fhirUser) {
      await deps.redis.sRem(keys.userSessions(fhirUser), req.session.id);
    }
    await destroy(req);
    res.redirect(303, portalPath(area === 'practice' ? '/practice/signed-out' : '/signed-out'));
  });

  router.post('/sign-out-everywhere', async function signOutEverywhere(req, res) {
    const practitioner = isPractitionerSignedIn(req);
    if (!isSignedIn(req) && !practitioner) {
      throw new PortalError(403, 'sessionExpired');
    }
    const fhirUser = (req.session.patient ?? req.session.practitioner) as string;
    const tokens = req.session.tokens as PortalTokens;
    await revokeQuietly(deps, tokens, true);
    const userSessions = keys.userSessions(fhirUser);
    const ids = await deps.redis.sMembers(userSessions);
    if (ids.length > 0) {
      await deps.redis.del(ids.map((id) => `${keys.sessions}${id}`));
    }
    await deps.redis.del(userSessions);
    await destroy(req);
    res.redirect(303, portalPath(practitioner ? '/practice/signed-out?everywhere=1' : '/signed-out?everywhere=1'));
  });

  const signedOut = (area: PortalArea) =>
    function signedOut(req: Request, res: Response): void {
      const view = viewOf(req, deps);
      sendPage(
        res,
        <MessagePage view={view} heading={view.t.signedOutHeading}>
          <p>{req.query.everywhere === '1' ? view.t.signedOutEverywhereBody : view.t.signedOutBody}</p>
          <p>
            <a class="button" href={portalPath(area === 'practice' ? '/practice/sign-in' : '/sign-in')}>
              {view.t.signInAgain}
            </a>
          </p>
        </MessagePage>,
      );
    };
  router.get('/signed-out', signedOut('client'));
  router.get('/practice/signed-out', signedOut('practice'));

  router.get('/language', function switchLanguage(req, res) {
    const lang = req.query.lang;
    if (!isLanguage(lang)) {
      throw new PortalError(400, 'badRequest');
    }
    if (isSignedIn(req) || isPractitionerSignedIn(req)) {
      req.session.lang = lang;
    }
    res.cookie(LANGUAGE_COOKIE, lang, {
      httpOnly: true,
      sameSite: 'lax',
      secure: deps.secureCookies,
      path: PORTAL_PATH,
      maxAge: 365 * 24 * 60 * 60 * 1000,
    });
    res.redirect(303, safeReturnPath(req.query.return));
  });
}

/** Only a path inside the portal, never another site (no open redirect). */
export function safeReturnPath(value: unknown): string {
  return typeof value === 'string' && /^\/portal(\/[A-Za-z0-9._~\-/]*)?$/.test(value) && !value.includes('//') ? value : portalPath('/');
}

function sendSignInFailed(res: Response, view: ViewContext, status: number): void {
  sendPage(
    res,
    <MessagePage view={view} heading={view.t.signInFailedHeading}>
      <p>{view.t.signInFailedBody}</p>
      <p>
        <a class="button" href={portalPath(view.area === 'practice' ? '/practice/sign-in' : '/sign-in')}>
          {view.t.signInAgain}
        </a>
      </p>
    </MessagePage>,
    status,
  );
}

/** A sign-in with the other kind of account than the area's: 403, saying whose area it is, with a way to the other. */
function sendWrongAccount(res: Response, view: ViewContext, area: PortalArea): void {
  const practice = area === 'practice';
  sendPage(
    res,
    <MessagePage view={view} heading={practice ? view.t.notForPractitionersHeading : view.t.notForClientsHeading}>
      <p>{practice ? view.t.notForPractitionersBody : view.t.notForClientsBody}</p>
      <p>
        <a href={areaHome(practice ? 'client' : 'practice')}>{practice ? view.t.goToClientArea : view.t.goToPracticeArea}</a>
      </p>
    </MessagePage>,
    403,
  );
}

async function revokeQuietly(deps: SignInDeps, tokens: PortalTokens, everywhere: boolean): Promise<void> {
  if (!tokens.refreshToken) {
    return;
  }
  try {
    await deps.oauth.revoke(tokens.refreshToken, everywhere);
  } catch (err) {
    deps.logger.warn({ err: { name: (err as Error).name, message: (err as Error).message } }, 'portal sign-out: refresh token not revoked');
  }
}

function regenerate(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.regenerate((err: unknown) => (err ? reject(err) : resolve())));
}

function destroy(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.destroy((err: unknown) => (err ? reject(err) : resolve())));
}
