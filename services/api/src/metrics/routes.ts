/**
 * `GET /metrics` on the API's port: the process's Prometheus metrics (the API's, and the worker's too when both run in
 * one process), for the operator only: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time, else 401.
 * A deployment that scrapes without the token sets METRICS_PORT instead (server.ts), a port kept off the public network.
 */
import { isAdminToken, type Caller } from '@carecircle/auth';
import { OperationOutcomeError, unauthorized } from '@medplum/core';
import express, { type Request, type Response } from 'express';
import type { AppServices } from '../app-services';

/** The router serving `/metrics`. */
export function createMetricsRouter(services: AppServices): express.Router {
  const router = express.Router();
  router.get('/metrics', async function getMetrics(req: Request, res: Response) {
    const token = /^Bearer +(\S+) *$/i.exec(req.get('authorization') ?? '')?.[1];
    if (!token || !isAdminToken(token, services.config.adminToken)) {
      throw new OperationOutcomeError(unauthorized);
    }
    res.locals.caller = { kind: 'admin' } satisfies Caller;
    const text = await services.metrics.metrics();
    res.set({ 'Content-Type': services.metrics.contentType, 'Cache-Control': 'no-store' }).send(text);
  });
  return router;
}
