/**
 * The process lifecycle: open services, listen, run the worker in-process when ROLE=all (its metrics in the API's
 * registry), serve metrics on METRICS_PORT when set, and shut down in a fixed order on SIGTERM/SIGINT: stop accepting,
 * drain workers, close the database, close Redis.
 */
import type { Server } from 'node:http';
import type { Config } from '@carecircle/config';
import type { Logger } from '@carecircle/log';
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
  const app = createApp(services);
  const server = await listen(app, config.port);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
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
      await closeServices(services);
    },
  };
}

function listen(app: ReturnType<typeof createApp>, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, (err?: Error) => (err ? reject(err) : resolve(server)));
    answerClientErrors(server);
    server.keepAliveTimeout = 65_000;
    server.requestTimeout = 30_000;
  });
}
