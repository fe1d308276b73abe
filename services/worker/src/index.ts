/**
 * @carecircle/worker: the queue process, importable so `npm start` can run it beside the API.
 */
export { startWorker, type RunningWorker, type WorkerDependencies } from './worker';
export { startWorkerProcess } from './worker-process';
export { resolveNotifyOptions, type NotifyOptions } from './notify-context';
export { exitOnShutdownSignals } from './shutdown-signals';
