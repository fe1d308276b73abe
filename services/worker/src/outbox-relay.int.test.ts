/**
 * The outbox relay wakes on commit (NOTIFY from migration 0007's trigger) instead of waiting for its poll: with the
 * poll set to a minute, a committed change must still reach the queue at once, also after the listening connection
 * was killed (the relay listens again and catches up) and when its first try to listen failed (it tries again), on
 * PostgreSQL and on PGlite.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@carecircle/config';
import { createLogger } from '@carecircle/log';
import { migrate, openDatabase, sql, type Database } from '@carecircle/store';
import { createTestDatabase, type TestDatabase } from '@carecircle/testing';
import { Queue } from 'bullmq';
import { startOutboxRelay, type OutboxRelay } from './outbox-relay';
import { deleteRedisPrefix } from './testing/notify-test-env';

const A_MINUTE = 60_000;
const redisUrl = loadConfig({}).redisUrl;
const logger = createLogger('silent');

/** Appends one change to the outbox as a write would (a Subscription change always becomes a job). */
async function commitChange(db: Database): Promise<string> {
  const eventId = randomUUID();
  await db.query(sql`
    INSERT INTO outbox (event_id, kind, resource_type, resource_id, version_id)
    VALUES (${eventId}::uuid, 'update', 'Subscription', ${randomUUID()}, 2)`);
  return eventId;
}

async function waitForJob(queue: Queue, jobId: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await queue.getJob(jobId)) {
      return Date.now() - started;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`job ${jobId} not on the queue after ${timeoutMs} ms`);
}

describe.each(['postgres', 'pglite'] as const)('outbox relay on %s', (kind) => {
  let database: TestDatabase | undefined;
  let dir: string | undefined;
  let db: Database;
  let queue: Queue;
  let relay: OutboxRelay;
  const prefix = `{cc-test-${randomBytes(4).toString('hex')}}`;

  beforeAll(async () => {
    if (kind === 'postgres') {
      database = await createTestDatabase();
      db = await openDatabase({ databaseUrl: database.url });
    } else {
      dir = mkdtempSync(join(tmpdir(), 'cc-relay-'));
      db = await openDatabase({ dataDir: dir });
    }
    await migrate(db);
    queue = new Queue('outbox-events', { connection: { url: redisUrl }, prefix });
    relay = startOutboxRelay(db, queue, logger, A_MINUTE);
    // Let the first (empty) batch pass and the listener settle.
    await new Promise((r) => setTimeout(r, 300));
  });

  afterAll(async () => {
    await relay.close();
    await queue.close();
    await db.close();
    await database?.drop();
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
    await deleteRedisPrefix(redisUrl, prefix);
  });

  test('a committed change is on the queue at once, not at the next poll', async () => {
    for (let i = 0; i < 3; i++) {
      // The poll is a minute away; two seconds is generous for a wake-up on a busy CI machine.
      await expect(waitForJob(queue, await commitChange(db), 5_000)).resolves.toBeLessThan(2_000);
    }
  });

  test('changes committed while a batch runs are relayed too', async () => {
    const ids = await Promise.all(Array.from({ length: 20 }, () => commitChange(db)));
    for (const id of ids) {
      await waitForJob(queue, id, 5_000);
    }
  });

  if (kind === 'postgres') {
    test('after its listening connection is killed, the relay listens again and catches up', async () => {
      const { rows } = await db.query<{ killed: boolean }>(sql`
        SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
        WHERE datname = current_database() AND query = 'LISTEN outbox'`);
      expect(rows).toEqual([{ killed: true }]);
      // Committed while nobody listens: relayed by the catch-up once the listener is back (a second later).
      const missed = await commitChange(db);
      await waitForJob(queue, missed, 10_000);
      // And the new connection hears the next commit.
      await waitForJob(queue, await commitChange(db), 5_000);
      const listeners = await db.query(sql`
        SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN outbox'`);
      expect(listeners.rowCount).toBe(1);
    });
  }

  // Last: it stops the relay the other tests share, so only the one under test can hear a commit.
  test('a relay whose first try to listen fails (its connection cut as the worker starts) tries again and listens', async () => {
    await relay.close();
    let refusals = 1;
    const cutWhileListening: Database = {
      ...db,
      listen: (channel, onNotify, onLost) =>
        refusals-- > 0 ? Promise.reject(new Error('Connection terminated unexpectedly')) : db.listen(channel, onNotify, onLost),
    };
    // The poll is a minute away and the relay tries to listen again five seconds later: a change relayed at once after
    // that was heard.
    const late = startOutboxRelay(cutWhileListening, queue, logger, A_MINUTE);
    try {
      await new Promise((r) => setTimeout(r, 5_500));
      expect(refusals).toBe(-1);
      for (let i = 0; i < 3; i++) {
        await expect(waitForJob(queue, await commitChange(db), 5_000)).resolves.toBeLessThan(2_000);
      }
    } finally {
      await late.close();
    }
  });
});
