/**
 * @carecircle/process: what every CareCircle process has, whatever its role (the API, the worker, the portal, or all
 * of them under services/launcher): shutdown in order on SIGTERM/SIGINT, health checks and the small probe server,
 * the metrics registry with Node's and the database pool's metrics, and a metrics server.
 */
export {
  HEALTH_CHECK_TIMEOUT_MS,
  runHealthChecks,
  startHealthServer,
  type HealthCheck,
  type HealthReport,
  type HealthRouteHandler,
  type HealthServer,
  type HealthServerOptions,
} from './health-server';
export { createMetricsRegistry, METRIC_PREFIX, registerDatabaseMetrics } from './metrics-registry';
export { metricsRoute, startMetricsServer } from './metrics-server';
export { exitOnShutdownSignals } from './shutdown-signals';
