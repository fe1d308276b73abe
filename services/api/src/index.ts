/**
 * @carecircle/api: the HTTP process, importable for whole-system tests and benchmarks.
 */
export type { AppServices } from './app-services';
export { createApp } from './app';
export { closeServices, openServices, StartupError } from './open-services';
export { startServer, type RunningServer } from './server';
