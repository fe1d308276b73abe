/**
 * Entry point of the worker process (production runs it apart from the API).
 */
import { loadConfig } from '@carecircle/config';
import { createLogger } from '@carecircle/log';
import { startWorkerProcess } from './worker-process';

const config = loadConfig();
startWorkerProcess(config, createLogger(config.logLevel, { role: 'worker' })).catch((err: unknown) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
