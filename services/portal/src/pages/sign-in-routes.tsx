/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * Signing in and out. Sign-in sends the browser to the API's `/oauth2/authorize` with a fresh state and PKCE verifier
 * kept in the session; the callback checks the state, redeems the code with the portal's client assertion, lets only
 * a client (fhirUser `Patient/...`) in, and starts a new session id (no fixation). Sign-out revokes the session's
 * refresh token and ends the session; "on all devices" ends every portal session of the client and revokes every
 * refresh token of the client's account for this app. The language switch keeps the choice in the session, or in a
 * small cookie before signing in.
 */
import type { Request, Response, Router } from 'express';
import type { Logger } from '@carecircle/log';
import { isLanguage } from '../i18n/catalogue';
import { LANGUAGE_COOKIE, isSignedIn, languageOf, viewOf, type PageDeps } from '../http/page-context';
import { PortalError } from '../http/portal-error';
import { ABSOLUTE_TIMEOUT_MS, sessionKeys, type PortalRedis, type PortalTokens } from '../http/session';
import { MessagePage } from '../views/components';
import { sendPage } from '../views/render';
import { PORTAL_PATH, portalPath } from '../views/view-context';

const SIGN_IN_WINDOW_MS = 10 * 60 * 1000;

export interface SignInDeps extends PageDeps {
  readonly redis: PortalRedis;
  readonly redisPrefix: string;
  readonly secureCookies: boolean;
  readonly logger: Logger;
}

export function signInRoutes(router: Router, deps: SignInDeps): void {
  const keys = sessionKeys(deps.redisPrefix);

  router.get('/sign-in', async function startSignIn(req, res) {
    const { pending, authorizeUrl } = await deps.oauth.beginSignIn(languageOf(req));
    req.session.pendingSignIn = pending;
    res.redirect(303, authorizeUrl);
  });

  router.get('/callback', async function finishSignIn(req, res) {
    const pending = req.session.pendingSignIn;
    const state = typeof req.query.state === 'string' ? req.query.state : undefined;
    if (!pending || !state || state !== pending.state || pending.startedAt + SIGN_IN_WINDOW_MS < Date.now()) {
      throw new PortalError(400, 'sessionExpired');
    }
    delete req.session.pendingSignIn;
    const view = viewOf(req, deps);
    if (req.query.error === 'access_denied') {
      sendPage(
        res,
        <MessagePage view={view} heading={view.t.signInCancelledHeading}>
          <p>{view.t.signInCancelledBody}</p>
          <p>
            <a href={portalPath('/')}>{view.t.backToStart}</a>
          </p>
        </MessagePage>,
      );
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
    if (!signedIn.fhirUser?.startsWith('Patient/')) {
      await revokeQuietly(deps, signedIn.tokens, false);
      sendPage(
        res,
        <MessagePage view={view} heading={view.t.notForClientsHeading}>
          <p>{view.t.notForClientsBody}</p>
        </MessagePage>,
        403,
      );
      return;
    }
    const lang = languageOf(req);
    await regenerate(req);
    req.session.lang = lang;
    req.session.patient = signedIn.fhirUser;
    req.session.tokens = signedIn.tokens;
    req.session.signedInAt = Date.now();
    const userSessions = keys.userSessions(signedIn.fhirUser);
    await deps.redis.multi().sAdd(userSessions, req.session.id).pExpire(userSessions, ABSOLUTE_TIMEOUT_MS).exec();
    res.redirect(303, portalPath('/'));
  });

  router.post('/sign-out', async function signOut(req, res) {
    const tokens = req.session.tokens;
    const patient = req.session.patient;
    if (tokens) {
      await revokeQuietly(deps, tokens, false);
    }
    if (patient) {
      await deps.redis.sRem(keys.userSessions(patient), req.session.id);
    }
    await destroy(req);
    res.redirect(303, portalPath('/signed-out'));
  });

  router.post('/sign-out-everywhere', async function signOutEverywhere(req, res) {
    if (!isSignedIn(req)) {
      throw new PortalError(403, 'sessionExpired');
    }
    const patient = req.session.patient as string;
    const tokens = req.session.tokens as PortalTokens;
    await revokeQuietly(deps, tokens, true);
    const userSessions = keys.userSessions(patient);
    const ids = await deps.redis.sMembers(userSessions);
    if (ids.length > 0) {
      await deps.redis.del(ids.map((id) => `${keys.sessions}${id}`));
    }
    await deps.redis.del(userSessions);
    await destroy(req);
    res.redirect(303, portalPath('/signed-out?everywhere=1'));
  });

  router.get('/signed-out', function signedOut(req, res) {
    const view = viewOf(req, deps);
    sendPage(
      res,
      <MessagePage view={view} heading={view.t.signedOutHeading}>
        <p>{req.query.everywhere === '1' ? view.t.signedOutEverywhereBody : view.t.signedOutBody}</p>
        <p>
          <a class="button" href={portalPath('/sign-in')}>
            {view.t.signInAgain}
          </a>
        </p>
      </MessagePage>,
    );
  });

  router.get('/language', function switchLanguage(req, res) {
    const lang = req.query.lang;
    if (!isLanguage(lang)) {
      throw new PortalError(400, 'badRequest');
    }
    if (isSignedIn(req)) {
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

function sendSignInFailed(res: Response, view: ReturnType<typeof viewOf>, status: number): void {
  sendPage(
    res,
    <MessagePage view={view} heading={view.t.signInFailedHeading}>
      <p>{view.t.signInFailedBody}</p>
      <p>
        <a class="button" href={portalPath('/sign-in')}>
          {view.t.signInAgain}
        </a>
      </p>
    </MessagePage>,
    status,
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
