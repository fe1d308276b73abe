/**
 * Serving a process's metrics on a port of its own, without a token: the worker run alone (ROLE=worker) answers
 * `/metrics` on its health server (health-server.ts, one small HTTP server for probes and scrapes), and METRICS_PORT
 * gives any process a separate server for it, meant to be reached only from inside the deployment.
 */
import type { Logger } from '@carecircle/log';
import type { Registry } from 'prom-client';
import { startHealthServer, type HealthRouteHandler, type HealthServer } from './health-server';

/** A health-server route answering the registry's metrics in the Prometheus text format. */
export function metricsRoute(registry: Registry): HealthRouteHandler {
  return async function serveMetrics(req, res) {
    const text = await registry.metrics();
    res.writeHead(200, {
      'Content-Type': registry.contentType,
      'Content-Length': Buffer.byteLength(text),
      'Cache-Control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : text);
  };
}

/**
 * Starts a server answering `/metrics` on `port` (0 takes a free one; see the returned `port`). It is a health server
 * with no checks of its own, so its `/healthz` and `/readyz` say only that the process answers.
 */
export async function startMetricsServer(options: { port: number; registry: Registry; logger: Logger }): Promise<HealthServer> {
  const server = await startHealthServer({ port: options.port, logger: options.logger, liveness: {}, readiness: {} });
  server.route('/metrics', metricsRoute(options.registry));
  return server;
}
