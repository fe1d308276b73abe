/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * `/portal/`: the welcome page before signing in; once signed in, the client's sharing overview. A practitioner
 * signed in to the practice area is sent to its start page.
 */
import type { RequestHandler } from 'express';
import { isPractitionerSignedIn, isSignedIn, viewOf, type PageDeps } from '../http/page-context';
import { areaHome } from '../views/view-context';
import { sendPage } from '../views/render';
import { WelcomePage } from './welcome';
import { sharingOverview } from './sharing/overview-route';

export function startPage(deps: PageDeps): RequestHandler {
  const overview = sharingOverview(deps);
  return async function start(req, res, next) {
    if (isSignedIn(req)) {
      await overview(req, res, next);
      return;
    }
    if (isPractitionerSignedIn(req)) {
      res.redirect(303, areaHome('practice'));
      return;
    }
    sendPage(res, <WelcomePage view={viewOf(req, deps)} />);
  };
}
