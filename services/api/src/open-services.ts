/**
 * Opening and closing what the process depends on: the database (migrated) and Redis. A dependency that does not
 * answer at start stops the process with one line that says what is wrong and what to do (startup-failure.ts).
 */
import type { Config } from '@carecircle/config';
import type { Logger } from '@carecircle/log';
import { createTokenHolderCheck, migrate, openDatabase, type TokenHolderCheck } from '@carecircle/store';
import { createMetricsRegistry, registerDatabaseMetrics } from '@carecircle/process';
import { Redis } from 'ioredis';
import type { AppServices } from './app-services';
import { databaseStartupError, StartupError } from './startup-failure';

export { StartupError } from './startup-failure';

const REDIS_CONNECT_TIMEOUT_MS = 5000;

/** Opens the database (running migrations) and Redis, and creates the process's metrics registry. */
export async function openServices(config: Config, logger: Logger): Promise<AppServices> {
  const redis = await connectRedis(config.redisUrl);
  let db;
  let tokenHolders: TokenHolderCheck;
  try {
    db = await openDatabase({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      statementTimeoutMs: config.databaseStatementTimeoutMs,
    });
    const applied = await migrate(db);
    logger.info({ database: db.kind, migrationsApplied: applied.length }, 'database ready');
    tokenHolders = await createTokenHolderCheck(db);
  } catch (err) {
    redis.disconnect();
    await db?.close().catch(() => undefined);
    throw databaseStartupError(err, config);
  }
  const metrics = createMetricsRegistry();
  registerDatabaseMetrics(metrics, db);
  return { config, db, redis, logger, metrics, tokenHolders };
}

/** Closes what {@link openServices} opened, database after Redis-using work has stopped. */
export async function closeServices(services: AppServices): Promise<void> {
  await services.tokenHolders?.close();
  await services.db.close();
  await services.redis.quit().catch(() => services.redis.disconnect());
}

/** Connects to Redis or throws a StartupError explaining how to start it. */
export async function connectRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 3,
  });
  // After start, connection errors are retried by ioredis; readiness reports them.
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch {
    redis.disconnect();
    throw new StartupError(
      `Cannot reach Redis at ${redactUrl(url)}. Start it (e.g. \`redis-server --daemonize yes\`) or set REDIS_URL.`,
    );
  }
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
