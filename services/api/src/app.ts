/**
 * The Express application: middleware and routers, mounted in order. No listening here (see server.ts), so tests run
 * the whole app in-process with supertest.
 */
import { unknownEndpoint } from '@carecircle/fhir';
import express from 'express';
import { createAdminRouter } from './admin/routes';
import type { AppServices } from './app-services';
import { createFhirRouter } from './fhir/routes';
import { createHealthRouter } from './health/routes';
import { httpMetrics } from './metrics/http-metrics';
import { createMetricsRouter } from './metrics/routes';
import { accessLog } from './http/access-log';
import { acceptFhirJson } from './http/content-negotiation';
import { cors } from './http/cors';
import { errorHandler } from './http/error-handler';
import { sendOperationOutcome } from './http/fhir-response';
import { requestId } from './http/request-id';
import { searchBudget } from './http/search-budget';
import { securityHeaders } from './http/security-headers';
import { createOAuthRouter } from './oauth/routes';

/** What else the process serves beside the API: the client's portal, for ROLE all. */
export interface AppMounts {
  readonly portal?: express.Router;
}

/** Builds the HTTP application over already-opened services. */
export function createApp(services: AppServices, mounts: AppMounts = {}): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.set('trust proxy', services.config.trustProxy);

  app.use(requestId());
  app.use(httpMetrics(services.metrics));
  app.use(accessLog(services.logger));
  app.use(securityHeaders());
  app.use(cors(services.config.corsOrigins));

  app.use(createHealthRouter(services));
  app.use(createMetricsRouter(services));
  app.use(createOAuthRouter(services));
  app.use('/admin', createAdminRouter(services));
  app.use('/fhir/R4', acceptFhirJson(), searchBudget(), createFhirRouter(services));
  if (mounts.portal) {
    app.use('/portal', mounts.portal);
  }

  app.use((_req, res) => {
    sendOperationOutcome(res, 404, unknownEndpoint());
  });
  app.use(errorHandler(services.logger));
  return app;
}
