import { randomUUID } from 'node:crypto';
import type { Database } from '../database';
import { sql } from '../sql';
import { openPgliteTestStore, openPostgresTestStore, type TestStore } from '../testing/test-store';
import { disableAuthClient, insertAuthClient } from './auth-clients';
import { createTokenHolderCheck, type TokenHolderCheck } from './token-holder-cache';

/** The database with its statements counted, to tell a remembered answer from one asked. */
function counting(db: Database): { db: Database; asked: () => number } {
  let asked = 0;
  return {
    db: { ...db, query: (statement) => (asked++, db.query(statement)), listen: (...args) => db.listen(...args) },
    asked: () => asked,
  };
}

async function newClient(db: Database): Promise<string> {
  const id = randomUUID();
  await insertAuthClient(db, { id, kind: 'system', name: 'Partner EHR', organization: 'Organization/partner', jwks: { keys: [{ kty: 'EC', kid: 'k1', crv: 'P-384', x: 'x', y: 'y' }] }, redirectUris: [], scope: 'system/*.rs' });
  return id;
}

async function eventually(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('not within 2 s');
}

describe.each([
  ['PostgreSQL', openPostgresTestStore],
  ['PGlite', openPgliteTestStore],
])('remembered token holders on %s', (_name, open) => {
  let store: TestStore;
  let check: TokenHolderCheck;
  let asked: () => number;
  beforeAll(async () => {
    store = await open();
    const counted = counting(store.db);
    asked = counted.asked;
    check = await createTokenHolderCheck(counted.db);
  });
  afterAll(async () => {
    await check.close();
    await store.close();
  });

  test('"enabled" is asked once and remembered; "disabled" is never remembered', async () => {
    const clientId = await newClient(store.db);
    const before = asked();
    expect(await check.isEnabled({ clientId, issuedAt: 1 })).toBe(true);
    expect(await check.isEnabled({ clientId, issuedAt: 1 })).toBe(true);
    expect(asked() - before).toBe(1);
    expect(await check.isEnabled({ clientId: randomUUID() })).toBe(false);
    expect(await check.isEnabled({ clientId: randomUUID() })).toBe(false);
    expect(asked() - before).toBe(3);
  });

  test('this process disabling a client is refused on the very next check, with no notification awaited', async () => {
    const clientId = await newClient(store.db);
    expect(await check.isEnabled({ clientId })).toBe(true);
    await disableAuthClient(store.db, clientId);
    expect(await check.isEnabled({ clientId })).toBe(false);
  });

  test('a change by anyone else (another replica, an operator\'s SQL) is forgotten when its notification arrives', async () => {
    const clientId = await newClient(store.db);
    expect(await check.isEnabled({ clientId })).toBe(true);
    // Not through the store's functions: only the trigger's NOTIFY tells this process.
    await store.db.exec(`UPDATE auth_client SET disabled_at = now() WHERE id = '${clientId}'`);
    await eventually(async () => !(await check.isEnabled({ clientId })));
    const revoked = randomUUID();
    const other = await newClient(store.db);
    expect(await check.isEnabled({ clientId: other, sessionId: revoked })).toBe(true);
    await store.db.exec(`INSERT INTO auth_session_revocation (session_id, expires_at) VALUES ('${revoked}', now() + interval '1 hour')`);
    await eventually(async () => !(await check.isEnabled({ clientId: other, sessionId: revoked })));
  });
});

describe('remembered token holders while the listener is away (PostgreSQL)', () => {
  test('nothing is remembered until it listens again, then remembering resumes', async () => {
    const store = await openPostgresTestStore();
    const counted = counting(store.db);
    const check = await createTokenHolderCheck(counted.db);
    try {
      const clientId = await newClient(store.db);
      await check.isEnabled({ clientId });
      await store.db.query(sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN token_holders' AND datname = current_database()`);
      // Once the loss is noticed every check asks the database, so a change no one is told about still counts.
      await eventually(async () => {
        const before = counted.asked();
        await check.isEnabled({ clientId });
        return counted.asked() > before;
      });
      await store.db.exec(`UPDATE auth_client SET disabled_at = now() WHERE id = '${clientId}'`);
      expect(await check.isEnabled({ clientId })).toBe(false);
      const back = await newClient(store.db);
      await eventually(async () => {
        await check.isEnabled({ clientId: back });
        const before = counted.asked();
        await check.isEnabled({ clientId: back });
        return counted.asked() === before;
      });
    } finally {
      await check.close();
      await store.close();
    }
  });
});
