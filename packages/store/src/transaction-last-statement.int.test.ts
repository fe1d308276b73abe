/**
 * A transaction's last statement (Transaction.queryLast): on PostgreSQL a READ COMMITTED transaction whose only
 * statement is its last runs it on its own, with no BEGIN or COMMIT, and one that ran anything before is the ordinary
 * transaction it was; on both stores nothing may run after it. The repository writes a version as its create's last
 * statement only when the create's transaction is its own and nothing is recorded after it.
 */
import type { Patient, Resource } from '@medplum/fhirtypes';
import { minimalPatient } from '@carecircle/testing';
import { fullAccess } from './access-policy';
import type { Database, Transaction } from './database';
import { createRepository } from './resource-repository';
import type { Sql } from './sql';
import { sql } from './sql';
import { openPgliteTestStore, openPostgresTestStore, type TestStore } from './testing/test-store';
import { bindWritePipeline, withWriteRules, type WriteRule } from './write-pipeline';

/** A statement that works only inside a transaction block (BEGIN ran): alone, PostgreSQL refuses it with 25P01. */
const IN_BLOCK = sql`SAVEPOINT probe`;
const NOT_IN_BLOCK = { code: '25P01' };

/** `db` with every statement of its transactions recorded as `query` or `last`. */
function recording(db: Database, seen: { how: 'query' | 'last'; text: string }[]): Database {
  const note = (how: 'query' | 'last', statement: Sql): void => void seen.push({ how, text: statement.render().text });
  return {
    ...db,
    transaction: (fn, isolation) =>
      db.transaction(
        (tx) =>
          fn({
            ...tx,
            query: (statement) => (note('query', statement), tx.query(statement)),
            queryLast: (statement) => (note('last', statement), tx.queryLast(statement)),
          }),
        isolation,
      ),
  };
}

describe('a transaction\'s last statement on PostgreSQL', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await openPostgresTestStore();
    await store.db.query(sql`CREATE TABLE last_probe (n int PRIMARY KEY)`);
  });
  afterAll(async () => {
    await store.close();
  });

  test('as the only statement, it runs alone (no BEGIN, no COMMIT) and what it writes is committed', async () => {
    await expect(store.db.transaction((tx) => tx.queryLast(IN_BLOCK))).rejects.toMatchObject(NOT_IN_BLOCK);
    await store.db.transaction((tx) => tx.queryLast(sql`INSERT INTO last_probe VALUES (1)`));
    expect((await store.db.query(sql`SELECT n FROM last_probe WHERE n = 1`)).rowCount).toBe(1);
  });

  test('after another statement, it is the last of one ordinary transaction: a failure takes back the statements before it', async () => {
    await store.db.transaction(async (tx) => {
      await tx.query(sql`SELECT 1`);
      await tx.queryLast(IN_BLOCK);
    });
    await expect(
      store.db.transaction(async (tx) => {
        await tx.query(sql`INSERT INTO last_probe VALUES (2)`);
        await tx.queryLast(sql`INSERT INTO last_probe VALUES (1)`);
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect((await store.db.query(sql`SELECT n FROM last_probe WHERE n = 2`)).rowCount).toBe(0);
  });

  test('a stricter isolation level still begins a transaction for it', async () => {
    await store.db.transaction((tx) => tx.queryLast(IN_BLOCK), 'repeatable read');
  });

  test('a statement after the last one throws, and in a begun transaction nothing of it stays', async () => {
    await expect(
      store.db.transaction(async (tx) => {
        await tx.query(sql`INSERT INTO last_probe VALUES (3)`);
        await tx.queryLast(sql`INSERT INTO last_probe VALUES (4)`);
        await tx.query(sql`SELECT 1`);
      }),
    ).rejects.toThrow('after its last one');
    expect((await store.db.query(sql`SELECT n FROM last_probe WHERE n IN (3, 4)`)).rowCount).toBe(0);
    // The connection went back to the pool usable.
    await expect(store.db.transaction((tx) => tx.queryLast(IN_BLOCK))).rejects.toMatchObject(NOT_IN_BLOCK);
  });

  test('a create whose rules read nothing is its version\'s one statement, in no transaction', async () => {
    const seen: { how: 'query' | 'last'; text: string }[] = [];
    const repo = createRepository(recording(store.db, seen), fullAccess);
    await repo.create(minimalPatient('Last', 'Lou'));
    expect(seen.map((s) => s.how)).toEqual(['last']);
    expect(seen[0]?.text).toContain('INSERT INTO resource_version');
  });

  test('a create whose rule reads, or inside a caller\'s transaction, or with a record after it, is an ordinary transaction', async () => {
    const seen: { how: 'query' | 'last'; text: string }[] = [];
    const db = recording(store.db, seen);
    const reads: WriteRule = async (_next, _current, tx) => void (await tx.query(sql`SELECT 1`));
    await createRepository(db, fullAccess, { writes: withWriteRules([reads], undefined) }).create(minimalPatient('Last', 'Lia'));
    expect(seen.map((s) => s.how)).toEqual(['query', 'last']);

    seen.length = 0;
    await createRepository(db, fullAccess).transaction(async (repo) => {
      await repo.create(minimalPatient('Last', 'Lev'));
    });
    expect(seen.map((s) => s.how)).not.toContain('last');

    seen.length = 0;
    const recorded: Resource[] = [];
    const writes = bindWritePipeline<undefined>(
      { authorize: () => undefined, rules: [], deleteRules: [], records: [{ appliesTo: () => true, record: ({ written }) => void recorded.push(written) }] },
      undefined,
    );
    const { resource } = await createRepository(db, fullAccess, { writes }).create<Patient>(minimalPatient('Last', 'Lena'));
    expect(seen.map((s) => s.how)).not.toContain('last');
    expect(recorded.map((r) => r.id)).toEqual([resource.id]);
  });

  test('a record that does not apply to what is written leaves the create its version\'s one statement', async () => {
    const seen: { how: 'query' | 'last'; text: string }[] = [];
    const recorded: Resource[] = [];
    const writes = bindWritePipeline<undefined>(
      {
        authorize: () => undefined,
        rules: [],
        deleteRules: [],
        records: [{ appliesTo: (next) => next.resourceType === 'CarePlan', record: ({ written }) => void recorded.push(written) }],
      },
      undefined,
    );
    await createRepository(recording(store.db, seen), fullAccess, { writes }).create<Patient>(minimalPatient('Last', 'Lars'));
    expect(seen.map((s) => s.how)).toEqual(['last']);
    expect(recorded).toEqual([]);
  });
});

describe('a transaction\'s last statement on PGlite', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await openPgliteTestStore();
  });
  afterAll(async () => {
    await store.close();
  });

  test('it runs in the transaction PGlite began, and a statement after it throws and takes the transaction back', async () => {
    const repo = createRepository(store.db, fullAccess);
    const { resource } = await repo.create<Patient>(minimalPatient('Lite', 'Last'));
    expect(await repo.read('Patient', resource.id!)).toEqual(resource);
    await expect(
      store.db.transaction(async (tx: Transaction) => {
        await tx.queryLast(sql`UPDATE resource_version SET compartments = '{}' WHERE id = ${resource.id!}`);
        await tx.query(sql`SELECT 1`);
      }),
    ).rejects.toThrow('after its last one');
    expect((await store.db.query<{ compartments: string[] }>(sql`SELECT compartments FROM resource_version WHERE id = ${resource.id!}`)).rows).toEqual([
      { compartments: [`Patient/${resource.id}`] },
    ]);
  });
});
