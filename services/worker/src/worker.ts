/**
 * The worker: the queue side of CareCircle. Today it holds its Redis connection and its lifecycle (start, drain on
 * stop); the outbox relay, notification delivery, reminders and expiry sweeps join it as their issues land, each as
 * one file per queue.
 */
import type { Config } from '@carecircle/config';
import type { Logger } from '@carecircle/log';
import type { Database } from '@carecircle/store';
import { Redis } from 'ioredis';

export interface WorkerDependencies {
  config: Config;
  db: Database;
  logger: Logger;
}

export interface RunningWorker {
  /** Stops taking jobs, lets running ones finish, then closes the worker's own connections (not `db`). */
  close(): Promise<void>;
}

/** Starts the worker over an already-open database; throws when Redis cannot be reached. */
export async function startWorker({ config, logger }: WorkerDependencies): Promise<RunningWorker> {
  // BullMQ requires maxRetriesPerRequest: null on connections used by workers (blocking commands).
  const connection = new Redis(config.redisUrl, { maxRetriesPerRequest: null, lazyConnect: true, connectTimeout: 5000 });
  connection.on('error', () => undefined);
  try {
    await connection.connect();
    await connection.ping();
  } catch {
    connection.disconnect();
    throw new Error(`Worker cannot reach Redis. Start it (e.g. \`redis-server --daemonize yes\`) or set REDIS_URL.`);
  }
  logger.info({ queues: [] }, 'worker started');
  return {
    async close() {
      await connection.quit().catch(() => connection.disconnect());
      logger.info('worker stopped');
    },
  };
}
