/**
 * @carecircle/worker: the queue process, importable so the launcher (services/launcher) can run it beside the API.
 */
export { startWorker, type RunningWorker, type WorkerDependencies } from './worker';
export { startWorkerHealthServer, startWorkerProcess, type WorkerHealthServerOptions } from './worker-process';
export { resolveNotifyOptions, type NotifyOptions } from './notify-context';
export {
  registerWorkerMetrics,
  type DeliveryAttemptOutcome,
  type DeliveryMetrics,
  type SettledOutcome,
} from './worker-metrics';
