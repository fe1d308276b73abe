import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { Patient } from '@medplum/fhirtypes';
import { minimalObservation, minimalPatient, rejectionStatus } from '@carecircle/testing';
import { fullAccess, type AccessPolicy } from './access-policy';
import { openDatabase } from './database';
import { createRepository } from './resource-repository';
import { sql } from './sql';
import { openPgliteTestStore, type TestStore } from './testing/test-store';

describe('repository on embedded PGlite', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await openPgliteTestStore();
  });
  afterAll(async () => {
    await store.close();
  });

  test('create, read, update, search, page, history and transactions work on PGlite', async () => {
    const repo = createRepository(store.db, fullAccess);
    const { resource } = await repo.create(minimalPatient('Lite', 'Lena', { birthDate: '1990-01-01' }));
    await repo.create(minimalObservation(resource.id!, '1234-5', '2024-01-01'));
    await repo.create(minimalObservation(resource.id!, '1234-5', '2024-01-02'));
    const updated = await repo.update<Patient>({ ...resource, active: true });
    expect(updated.resource.meta?.versionId).toBe('2');
    expect(await repo.read('Patient', resource.id!)).toEqual(updated.resource);

    const found = await repo.search('Patient', new URLSearchParams('name=lite&birthdate=1990&_revinclude=Observation:subject'));
    expect(found.matches.map((p) => p.id)).toEqual([resource.id]);
    expect(found.included).toHaveLength(2);

    const query = `subject=Patient/${resource.id}&_sort=-date&_count=1`;
    const page1 = await repo.search('Observation', new URLSearchParams(query));
    await repo.create(minimalObservation(resource.id!, '1234-5', '2024-01-03'));
    const page2 = await repo.search('Observation', new URLSearchParams(`${query}&_page=${page1.next}`));
    expect(page2.total).toBe(2);
    expect(page2.next).toBeUndefined();
    expect(new Set([...page1.matches, ...page2.matches].map((o) => o.id)).size).toBe(2);

    const history = await repo.history('Patient', resource.id!, new URLSearchParams());
    expect(history.entries.map((e) => e.method)).toEqual(['PUT', 'POST']);

    await expect(
      repo.transaction(async (tx) => {
        await tx.delete('Patient', resource.id!);
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    await expect(repo.read('Patient', resource.id!)).resolves.toBeDefined();
    await repo.delete('Patient', resource.id!);
    expect(await rejectionStatus(repo.read('Patient', resource.id!))).toBe(410);
  });

  test('a statement on the database from inside one of its transactions fails at once instead of waiting forever', async () => {
    // PGlite has one connection, which the transaction holds: such a statement would wait for the transaction, and the
    // transaction for it (a referral's create had hung the embedded store for good this way).
    await expect(store.db.transaction(() => store.db.query(sql`SELECT 1`))).rejects.toThrow(/would deadlock/);
    await expect(store.db.transaction(() => store.db.transaction(async () => 1))).rejects.toThrow(/would deadlock/);
    // Work queued from inside a transaction without waiting for it is no such case: it runs once the transaction ends.
    let later: Promise<unknown> | undefined;
    await store.db.transaction(async () => {
      later = Promise.resolve().then(() => undefined);
    });
    await later;
    expect((await store.db.query<{ one: number }>(sql`SELECT 1 AS one`)).rows).toEqual([{ one: 1 }]);
  });

  test('a statement is prepared once and its plan reused, with the same results, errors and transactions as unprepared', async () => {
    await store.db.exec('CREATE TABLE prepared_probe (id text PRIMARY KEY, n int, doc jsonb, tags text[], at timestamptz)');
    const insert = (id: string) =>
      sql`INSERT INTO prepared_probe VALUES (${id}, ${1}, ${JSON.stringify({ a: [1] })}::jsonb, ${['x', 'y,z']}::text[], ${'2026-01-01T00:00:00Z'}::timestamptz)`;
    const select = (id: string) => sql`SELECT id, n, doc, tags, at FROM prepared_probe WHERE id = ${id}`;
    expect((await store.db.query(insert('p1'))).rowCount).toBe(1);
    await store.db.query(insert('p2'));
    const expected = { id: 'p1', n: 1, doc: { a: [1] }, tags: ['x', 'y,z'], at: new Date('2026-01-01T00:00:00Z') };
    expect((await store.db.query(select('p1'))).rows).toEqual([expected]);
    expect((await store.db.query(select('p1'))).rows).toEqual([expected]);
    // Each shape is prepared once, under its name, whatever its values.
    const { rows: prepared } = await store.db.query<{ name: string; statement: string }>(
      sql`SELECT name, statement FROM pg_prepared_statements WHERE statement LIKE ${'%FROM prepared_probe WHERE id%'}`,
    );
    expect(prepared).toEqual([{ name: expect.stringMatching(/^cc_/), statement: select('p1').render().text }]);
    expect((await store.db.query<{ plan_cache_mode: string }>(sql`SHOW plan_cache_mode`)).rows).toEqual([{ plan_cache_mode: 'force_generic_plan' }]);
    // What a command changed is counted as PostgreSQL's command tags say, an empty result has its fields and no rows.
    expect((await store.db.query(sql`UPDATE prepared_probe SET n = n WHERE id IN (${'p1'}, ${'p2'})`)).rowCount).toBe(2);
    expect((await store.db.query(sql`DELETE FROM prepared_probe WHERE id = ${'none'}`)).rowCount).toBe(0);
    expect((await store.db.query(select('none'))).rows).toEqual([]);

    // An error comes back as PostgreSQL's, and the connection goes on.
    await expect(store.db.query(insert('p1'))).rejects.toMatchObject({ code: '23505' });
    expect((await store.db.query(select('p2'))).rows).toEqual([{ ...expected, id: 'p2' }]);
    // Inside a transaction: its statements see its own writes, and a failure rolls all of them back.
    await expect(
      store.db.transaction(async (tx) => {
        await tx.query(sql`UPDATE prepared_probe SET n = ${2} WHERE id = ${'p2'}`);
        expect((await tx.query(select('p2'))).rows).toEqual([{ ...expected, id: 'p2', n: 2 }]);
        await tx.query(insert('p1'));
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect((await store.db.query(select('p2'))).rows).toEqual([{ ...expected, id: 'p2' }]);
    // A transaction runs at the isolation level asked for (its SET TRANSACTION is prepared too).
    for (const level of ['repeatable read', 'read committed'] as const) {
      const shown = await store.db.transaction((tx) => tx.query<{ transaction_isolation: string }>(sql`SHOW transaction_isolation`), level);
      expect(shown.rows).toEqual([{ transaction_isolation: level }]);
    }
  });

  test('a read inside a transaction records its disclosure in that transaction, and a denial once it has settled', async () => {
    const recorded: string[] = [];
    const audit = createRepository(store.db, fullAccess);
    const { resource: patient } = await audit.create(minimalPatient('Audit', 'Ada'));
    const { resource: hidden } = await audit.create(minimalPatient('Hidden', 'Hal'));
    const policy: AccessPolicy = {
      ...fullAccess,
      visibility: (type) => (type === 'Patient' ? sql`rv.id <> ${hidden.id!}` : undefined),
      recorder: {
        async recordDisclosure(disclosure) {
          // Written through the transaction the read ran in: on PGlite the database itself is not free until it ends.
          const q = disclosure.tx ?? store.db;
          await q.query(sql`SELECT 1`);
          recorded.push(`disclosed ${disclosure.resources.map((r) => r.id).join()} ${disclosure.tx ? 'in' : 'outside'} the transaction`);
        },
        async recordDenial(denial) {
          const write = async (): Promise<void> => {
            await store.db.query(sql`SELECT 1`);
            recorded.push(`denied ${denial.id}`);
          };
          if (denial.afterTransaction) {
            denial.afterTransaction(write);
          } else {
            await write();
          }
        },
      },
    };
    const repo = createRepository(store.db, policy);
    await expect(
      repo.transaction(async (tx) => {
        await tx.read('Patient', patient.id!);
        expect(recorded).toEqual([`disclosed ${patient.id} in the transaction`]);
        await tx.read('Patient', hidden.id!);
      }),
    ).rejects.toMatchObject({ outcome: { id: 'not-found' } });
    // The transaction failed; its denial stands all the same, recorded after it.
    expect(recorded).toEqual([`disclosed ${patient.id} in the transaction`, `denied ${hidden.id}`]);
  });

  test("a data directory keeps the cluster in pglite/, and one made before that keeps its own at the top", async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'carecircle-layout-'));
    const legacy = mkdtempSync(join(tmpdir(), 'carecircle-layout-'));
    try {
      // A new directory also holds the lock (and, in development, the admin token): initdb needs an empty one.
      writeFileSync(join(fresh, 'admin-token'), 'x'.repeat(43));
      const db = await openDatabase({ dataDir: fresh });
      await db.close();
      expect(existsSync(join(fresh, 'pglite', 'PG_VERSION'))).toBe(true);

      const old = new PGlite(legacy);
      await old.exec('CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)');
      await old.close();
      const reopened = await openDatabase({ dataDir: legacy });
      try {
        expect((await reopened.query<{ n: number }>(sql`SELECT n FROM kept`)).rows).toEqual([{ n: 7 }]);
      } finally {
        await reopened.close();
      }
      expect(existsSync(join(legacy, 'pglite'))).toBe(false);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
      rmSync(legacy, { recursive: true, force: true });
    }
  });
});
