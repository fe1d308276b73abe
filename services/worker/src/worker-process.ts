/**
 * The standalone worker process (ROLE=worker): opens the database, starts the worker, stops cleanly on SIGTERM.
 */
import type { Config } from '@carecircle/config';
import type { Logger } from '@carecircle/log';
import { migrate, openDatabase } from '@carecircle/store';
import { startWorker } from './worker';

/** Runs the worker until SIGTERM/SIGINT, then drains it and closes the database. */
export async function startWorkerProcess(config: Config, logger: Logger): Promise<void> {
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  await migrate(db);
  const worker = await startWorker({ config, db, logger });
  process.stdout.write('CareCircle worker is running.\n');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      return;
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    worker
      .close()
      .then(() => db.close())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
