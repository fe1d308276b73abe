/**
 * The process lifecycle: open services, listen, run the worker in-process when ROLE=all (its metrics in the API's
 * registry), serve metrics on METRICS_PORT when set, and shut down in a fixed order on SIGTERM/SIGINT: stop accepting,
 * drain workers, close the database, close Redis.
 */
import type { Server } from 'node:http';
import type { Config } from '@carecircle/config';
import type { Logger } from '@carecircle/log';
import { createPortal, type Portal } from '@carecircle/portal';
import { startMetricsServer, startWorker, type HealthServer, type RunningWorker } from '@carecircle/worker';
import { createApp } from './app';
import { answerClientErrors } from './http/client-errors';
import { closeServices, openServices } from './open-services';

export interface RunningServer {
  /** The port actually bound (useful with PORT=0). */
  port: number;
  /** The port of the separate metrics server, when METRICS_PORT is set (the one bound, for METRICS_PORT=0). */
  metricsPort: number | undefined;
  close(): Promise<void>;
}

/** Starts the API (and the worker, for ROLE=all) and returns a handle to stop it. */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const services = await openServices(config, logger);
  const portal = portalFor(config, logger);
  const app = createApp(services, { portal: portal?.router });
  const server = await listen(app, config.port);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  // The portal calls this very process over HTTP; with PORT=0 it learns the port only now.
  await portal?.start(port);
  let worker: RunningWorker | undefined;
  if (config.role === 'all') {
    worker = await startWorker({ config, db: services.db, logger, metrics: services.metrics });
  }
  let metricsServer: HealthServer | undefined;
  if (config.metricsPort !== undefined) {
    metricsServer = await startMetricsServer({ port: config.metricsPort, registry: services.metrics, logger });
  }
  return {
    port,
    metricsPort: metricsServer?.port,
    async close() {
      await Promise.all([
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        }),
        metricsServer?.close(),
      ]);
      await worker?.close();
      await portal?.close();
      await closeServices(services);
    },
  };
}

/**
 * The portal, served at /portal for ROLE all: always in development and tests (it registers itself with the admin
 * token), in production only when its registration is configured (PORTAL_CLIENT_ID, PORTAL_KEY_FILE).
 */
function portalFor(config: Config, logger: Logger): Portal | undefined {
  if (config.role !== 'all') {
    return undefined;
  }
  if (config.env === 'production' && !config.portal.clientId) {
    logger.warn('the portal is off: set PORTAL_CLIENT_ID and PORTAL_KEY_FILE to serve it at /portal');
    return undefined;
  }
  return createPortal({ config, logger: logger.child({ service: 'portal' }) });
}

function listen(app: ReturnType<typeof createApp>, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, (err?: Error) => (err ? reject(err) : resolve(server)));
    answerClientErrors(server);
    server.keepAliveTimeout = 65_000;
    server.requestTimeout = 30_000;
  });
}
