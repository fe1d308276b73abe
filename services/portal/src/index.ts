/** The client's sharing portal: see portal.ts. */
export { createPortal, type Portal, type PortalOptions } from './portal';
export { PORTAL_APP_NAME, PORTAL_SCOPE } from './app-registration';
export { startPortalServer, type RunningPortalServer } from './portal-server';
export { listRoutes, type PortalRoute } from './route-list';
