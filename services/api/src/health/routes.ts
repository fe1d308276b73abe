/**
 * Liveness and readiness of the API. `/healthz` says the process answers; `/readyz` that it can serve the FHIR API,
 * which needs the database only: Redis backs sign-in limits, replay caches and the queues, and the FHIR API keeps
 * serving without it, so a Redis outage must not take every API replica out of its load balancer. `/healthz/dependencies`
 * reports the database and Redis both, for monitoring and alerts rather than probes.
 */
import { pingDatabase } from '@carecircle/store';
import { runHealthChecks, type HealthCheck, type HealthReport } from '@carecircle/process';
import express from 'express';
import type { AppServices } from '../app-services';

/** The router for /healthz, /readyz and /healthz/dependencies (no authentication, no data). */
export function createHealthRouter(services: AppServices): express.Router {
  const router = express.Router();
  // The database check is named for what answers: PostgreSQL, or embedded PGlite.
  const database: Record<string, HealthCheck> = { [services.db.kind]: () => pingDatabase(services.db) };
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    sendReport(res, await runHealthChecks(database));
  });
  router.get('/healthz/dependencies', async (_req, res) => {
    sendReport(res, await runHealthChecks({ ...database, redis: () => services.redis.ping() }));
  });
  return router;
}

function sendReport(res: express.Response, report: HealthReport): void {
  res.set('Cache-Control', 'no-store').status(report.status === 'ok' ? 200 : 503).json(report);
}
