/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * `/portal/`: the welcome page before signing in; once signed in, the client's sharing overview.
 */
import type { RequestHandler } from 'express';
import { isSignedIn, viewOf, type PageDeps } from '../http/page-context';
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
    sendPage(res, <WelcomePage view={viewOf(req, deps)} />);
  };
}
