/**
 * The notification pipeline under test: a fresh PostgreSQL database (migrated), a Redis prefix of its own, a writer
 * repository with the Subscription write rule (as the API will have), a real webhook receiver, and workers started
 * with quick retry settings. Everything is real; nothing is mocked.
 */
import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '@carecircle/config';
import { createLogger, type LogDestination } from '@carecircle/log';
import {
  buildBackportSubscription,
  createExtractSubscriptionSecret,
  type DeliveryGate,
  type SubscriptionFacts,
} from '@carecircle/notify';
import { createRepository, fullAccess, migrate, openDatabase, withWriteRules, type Database, type Repository } from '@carecircle/store';
import { createTestDatabase, type TestDatabase } from '@carecircle/testing';
import type { Subscription } from '@medplum/fhirtypes';
import { Redis } from 'ioredis';
import type { NotifyOptions } from '../notify-context';
import { startWorker, type RunningWorker } from '../worker';
import { createTestGate } from './test-gate';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver';

/** Quick settings for tests: retries after 50, 100, 200 ... ms, 5 attempts, `error` after 2 failures in a row. */
export const TEST_NOTIFY_OPTIONS: NotifyOptions = {
  allowLoopbackHttp: true,
  retryPolicy: { maxAttempts: 5, baseDelayMs: 50, maxDelayMs: 1000, maxRetryAfterMs: 5000, errorAfterFailures: 2 },
  requestTimeoutMs: 2000,
  leaseMs: 3000,
  lockDurationMs: 2000,
  stalledIntervalMs: 1000,
};

export interface NotifyTestEnv {
  config: Config;
  database: TestDatabase;
  db: Database;
  /** Writes as the API would: full access, with the Subscription write rule. */
  writer: Repository;
  receiver: WebhookReceiver;
  /** Ids the test gate withholds at delivery (`Type/id`). */
  denied: Set<string>;
  /** Ids the test gate says the subscriber cannot see at matching (`Type/id`): no event is numbered for them. */
  unseen: Set<string>;
  gate: DeliveryGate;
  startWorker(options?: NotifyOptions): Promise<RunningWorker>;
  /** Creates a subscription at receiver path `path` and waits until the handshake made it active. */
  subscribe(path: string, facts?: Partial<SubscriptionFacts>): Promise<Subscription>;
  waitForStatus(id: string, status: Subscription['status'], timeoutMs?: number): Promise<Subscription>;
  close(): Promise<void>;
}

export const TOPIC = (name: string) => `https://carecircle.dev/fhir/SubscriptionTopic/${name}`;
export const secretFor = (path: string) => `secret-for-${path}-`.padEnd(40, 'x');

export interface NotifyTestEnvOptions {
  /** Redis to use; default the configured one (REDIS_URL or 127.0.0.1:6379). */
  redisUrl?: string;
  /** Where the worker's log lines go, at level info (a test that reads them); default silent unless LOG_LEVEL says. */
  logDestination?: LogDestination;
}

export async function createNotifyTestEnv(options: NotifyTestEnvOptions = {}): Promise<NotifyTestEnv> {
  const database = await createTestDatabase();
  const db = await openDatabase({ databaseUrl: database.url, maxConnections: 30 });
  await migrate(db);
  const prefix = `{cc-test-${randomBytes(4).toString('hex')}}`;
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: database.url,
    REDIS_PREFIX: prefix,
    BASE_URL: 'https://carecircle.test',
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
  });
  const writer = createRepository(db, fullAccess, { writes: withWriteRules([createExtractSubscriptionSecret({ allowLoopbackHttp: true })], undefined) });
  const receiver = await startWebhookReceiver(secretFor);
  const denied = new Set<string>();
  const unseen = new Set<string>();
  const gate = createTestGate(writer, { denied, unseen });
  const workers: RunningWorker[] = [];
  const logger = options.logDestination
    ? createLogger('info', {}, options.logDestination)
    : createLogger(process.env.LOG_LEVEL ?? 'silent');

  const env: NotifyTestEnv = {
    config,
    database,
    db,
    writer,
    receiver,
    denied,
    unseen,
    gate,
    async startWorker(options = TEST_NOTIFY_OPTIONS) {
      const worker = await startWorker({ config, db, logger, deliveryGate: gate, notify: options });
      workers.push(worker);
      return worker;
    },
    async subscribe(path, facts = {}) {
      const { resource } = await writer.create(
        buildBackportSubscription({ topic: TOPIC('referral'), endpoint: receiver.url(path), secret: secretFor(path), ...facts }),
      );
      return env.waitForStatus(resource.id ?? '', 'active');
    },
    async waitForStatus(id, status, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const current = await writer.read<Subscription>('Subscription', id);
        if (current.status === status) {
          return current;
        }
        if (Date.now() > deadline) {
          throw new Error(`Subscription ${id} is ${current.status}, expected ${status}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      await receiver.close();
      await db.close();
      await database.drop();
      await deleteRedisPrefix(config.redisUrl, prefix);
    },
  };
  return env;
}

/** Removes every key of a test's Redis prefix. */
export async function deleteRedisPrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) {
        await redis.del(...keys);
      }
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
