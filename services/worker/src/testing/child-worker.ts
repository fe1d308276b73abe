/**
 * A worker process for the resilience tests (started with `node --import tsx`): the suite's database and Redis prefix
 * (and, optionally, Redis URL) come as one JSON argument; every event is delivered (the gate lets everything through).
 * A test kills it with SIGKILL, like a crash, or stops it with SIGTERM.
 */
import { loadConfig } from '@carecircle/config';
import { createLogger } from '@carecircle/log';
import { createRepository, fullAccess, openDatabase } from '@carecircle/store';
import type { NotifyOptions } from '../notify-context';
import { exitOnShutdownSignals } from '@carecircle/process';
import { startWorker } from '../worker';
import { createTestGate } from './test-gate';

interface ChildSettings {
  databaseUrl: string;
  redisPrefix: string;
  redisUrl?: string;
  options: NotifyOptions;
}

async function main(): Promise<void> {
  const settings = JSON.parse(process.argv[2] ?? '{}') as ChildSettings;
  const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: settings.databaseUrl, REDIS_PREFIX: settings.redisPrefix, BASE_URL: 'https://carecircle.test', ...(settings.redisUrl ? { REDIS_URL: settings.redisUrl } : {}) });
  const db = await openDatabase({ databaseUrl: config.databaseUrl });
  const logger = createLogger('silent');
  const worker = await startWorker({ config, db, logger, deliveryGate: createTestGate(createRepository(db, fullAccess)), notify: settings.options });
  exitOnShutdownSignals(logger, async () => {
    await worker.close();
    await db.close();
  });
  process.stdout.write('worker ready\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
