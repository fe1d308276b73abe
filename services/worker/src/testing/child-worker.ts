/**
 * A worker process for the resilience tests (started with `node --import tsx`): the suite's database and Redis prefix
 * come as one JSON argument; every event is delivered (the gate lets everything through). The test kills it with
 * SIGKILL, like a crash.
 */
import { loadConfig } from '@carecircle/config';
import { createLogger } from '@carecircle/log';
import { createRepository, fullAccess, openDatabase } from '@carecircle/store';
import type { NotifyOptions } from '../notify-context';
import { startWorker } from '../worker';
import { createTestGate } from './test-gate';

interface ChildSettings {
  databaseUrl: string;
  redisPrefix: string;
  options: NotifyOptions;
}

async function main(): Promise<void> {
  const settings = JSON.parse(process.argv[2] ?? '{}') as ChildSettings;
  const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: settings.databaseUrl, REDIS_PREFIX: settings.redisPrefix, BASE_URL: 'https://carecircle.test' });
  const db = await openDatabase({ databaseUrl: config.databaseUrl });
  await startWorker({ config, db, logger: createLogger('silent'), deliveryGate: createTestGate(createRepository(db, fullAccess)), notify: settings.options });
  process.stdout.write('worker ready\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
