/**
 * @carecircle/api: the HTTP process, importable for the launcher (services/launcher), whole-system tests and
 * benchmarks.
 */
export type { AppServices } from './app-services';
export { createApp, type AppMounts } from './app';
export { closeServices, openServices, StartupError } from './open-services';
export { startServer, type RunningServer } from './server';
export { startupFailureLine } from './startup-failure';
