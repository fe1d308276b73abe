/**
 * @carecircle/worker: the queue process, importable so `npm start` can run it beside the API.
 */
export { startWorker, type RunningWorker, type WorkerDependencies } from './worker';
export { startWorkerHealthServer, startWorkerProcess, type WorkerHealthServerOptions } from './worker-process';
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
export { metricsRoute, startMetricsServer } from './metrics-server';
export { openDeadLetters, type DeadLetter, type DeadLetterPage, type DeadLetters } from './dead-letters';
export { resolveNotifyOptions, type NotifyOptions } from './notify-context';
export { exitOnShutdownSignals } from './shutdown-signals';
export {
  createMetricsRegistry,
  METRIC_PREFIX,
  registerDatabaseMetrics,
  registerWorkerMetrics,
  type DeliveryAttemptOutcome,
  type DeliveryMetrics,
  type SettledOutcome,
} from './worker-metrics';
