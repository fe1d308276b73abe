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
export { resolveNotifyOptions, type NotifyOptions } from './notify-context';
export { exitOnShutdownSignals } from './shutdown-signals';
