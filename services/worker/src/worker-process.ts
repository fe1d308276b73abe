/**
 * The standalone worker process (ROLE=worker): opens the database, starts the worker and, when WORKER_HEALTH_PORT is
 * set, its health server for liveness and readiness probes; stops cleanly on SIGTERM.
 */
import type { Config } from '@carecircle/config';
import type { Logger } from '@carecircle/log';
import { migrate, openDatabase, pingDatabase, type Database } from '@carecircle/store';
import {
  createMetricsRegistry,
  exitOnShutdownSignals,
  metricsRoute,
  registerDatabaseMetrics,
  startHealthServer,
  startMetricsServer,
  type HealthServer,
} from '@carecircle/process';
import { startWorker, type RunningWorker } from './worker';

/** Runs the worker until SIGTERM/SIGINT, then stops the health server, drains the worker and closes the database. */
export async function startWorkerProcess(config: Config, logger: Logger): Promise<void> {
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  await migrate(db);
  // The worker's metrics are scraped from its health port (`/metrics` beside the probes) and/or METRICS_PORT.
  const metrics = createMetricsRegistry();
  registerDatabaseMetrics(metrics, db);
  const worker = await startWorker({ config, db, logger, metrics });
  const health =
    config.workerHealthPort === undefined ? undefined : await startWorkerHealthServer({ port: config.workerHealthPort, db, worker, logger });
  health?.route('/metrics', metricsRoute(metrics));
  const metricsServer =
    config.metricsPort === undefined ? undefined : await startMetricsServer({ port: config.metricsPort, registry: metrics, logger });
  process.stdout.write(
    [
      'CareCircle worker is running.',
      ...(health ? [`  Health: http://localhost:${health.port}/healthz, /readyz, /metrics`] : []),
      ...(metricsServer ? [`  Metrics: http://localhost:${metricsServer.port}/metrics`] : []),
      '',
    ].join('\n'),
  );
  exitOnShutdownSignals(logger, async () => {
    await Promise.all([health?.close(), metricsServer?.close()]);
    await worker.close();
    await db.close();
  });
}

export interface WorkerHealthServerOptions {
  port: number;
  db: Database;
  worker: RunningWorker;
  logger: Logger;
}

/**
 * Starts the worker's health server: `/healthz` passes while every queue consumer runs (a stopped one needs a
 * restart; Redis or database outages never fail it), `/readyz` while the database and Redis answer too.
 * Mount further endpoints (metrics) with the returned server's `route()`.
 */
export function startWorkerHealthServer({ port, db, worker, logger }: WorkerHealthServerOptions): Promise<HealthServer> {
  const queues = () => worker.queuesRunning();
  return startHealthServer({
    port,
    logger,
    liveness: { queues },
    // The database check is named for what answers, as the API's is: postgres, or embedded pglite.
    readiness: { [db.kind]: () => pingDatabase(db), redis: () => worker.pingRedis(), queues },
  });
}
