/**
 * The portal's route table: every page and form, in one place. Signing in and out first; then the practice area
 * (`/practice/...`, its pages behind `requirePractitioner`, its own 404 for any other path under it); then the
 * client's pages behind `requireClient`. Every POST is behind the CSRF check (portal.ts mounts it before this router).
 */
import express, { type Router } from 'express';
import { requireClient } from './http/page-context';
import { accountingRoutes } from './pages/accounting/accounting-routes';
import { changeRoutes } from './pages/consent-changes/change-routes';
import { shareRoutes } from './pages/consent-changes/share-routes';
import { stopRoutes } from './pages/consent-changes/stop-routes';
import { practiceRoutes } from './pages/practice/practice-routes';
import { clientUpdateRoutes } from './pages/updates/client-update-routes';
import { signInRoutes, type SignInDeps } from './pages/sign-in-routes';
import { startPage } from './pages/start-page';
import { sharingRoutes } from './pages/sharing/overview-route';

export function createPortalRoutes(deps: SignInDeps): Router {
  const router = express.Router();
  signInRoutes(router, deps);
  router.get('/', startPage(deps));
  const practice = express.Router();
  practiceRoutes(practice, deps);
  router.use(practice);
  const client = express.Router();
  client.use(requireClient());
  sharingRoutes(client, deps);
  accountingRoutes(client, deps);
  shareRoutes(client, deps);
  changeRoutes(client, deps);
  stopRoutes(client, deps);
  clientUpdateRoutes(client, deps);
  router.use(client);
  return router;
}
