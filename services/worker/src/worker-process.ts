/**
 * The standalone worker process (ROLE=worker): opens the database, starts the worker, stops cleanly on SIGTERM.
 */
import type { Config } from '@carecircle/config';
import type { Logger } from '@carecircle/log';
import { migrate, openDatabase } from '@carecircle/store';
import { exitOnShutdownSignals } from './shutdown-signals';
import { startWorker } from './worker';

/** Runs the worker until SIGTERM/SIGINT, then drains it and closes the database. */
export async function startWorkerProcess(config: Config, logger: Logger): Promise<void> {
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  await migrate(db);
  const worker = await startWorker({ config, db, logger });
  process.stdout.write('CareCircle worker is running.\n');
  exitOnShutdownSignals(logger, async () => {
    await worker.close();
    await db.close();
  });
}
