import { Writable } from 'node:stream';
import { createLogger } from '@carecircle/log';
import { createRepository, fullAccess, migrate, openDatabase, sql, type Database, type Repository } from '@carecircle/store';
import { createTestDatabase, minimalOrganization, type TestDatabase } from '@carecircle/testing';
import { startSearchReindexer } from './search-reindexer';

let testDb: TestDatabase;
let db: Database;
let repo: Repository;

beforeAll(async () => {
  testDb = await createTestDatabase();
  db = await openDatabase({ databaseUrl: testDb.url, maxConnections: 4 });
  await migrate(db);
  repo = createRepository(db, fullAccess);
});
afterAll(async () => {
  await db.close();
  await testDb.drop();
});

/** Organizations stored by an older release: their name rows missing, their type's index recorded as older. */
async function storeOldStyle(names: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const name of names) {
    ids.push((await repo.create(minimalOrganization(name))).resource.id!);
  }
  await db.query(sql`DELETE FROM search_string x USING resource_version rv
    WHERE x.vid = rv.vid AND rv.resource_type = 'Organization' AND rv.id = ANY(${ids}::text[]) AND x.code = 'name'`);
  await db.query(sql`INSERT INTO search_index_version (resource_type, fingerprint, extraction) VALUES ('Organization', 'older', 1)
    ON CONFLICT (resource_type) DO UPDATE SET fingerprint = 'older', extraction = 1`);
  return ids;
}

const searchIds = async (query: string) =>
  (await repo.search('Organization', new URLSearchParams(query))).matches.map((r) => r.id!).sort();

test('at start the worker re-indexes what an older release stored, logging types and counts only', async () => {
  const ids = await storeOldStyle(['Saltmarsh Counselling', 'Saltmarsh Physio', 'Saltmarsh Dietetics']);
  expect(await searchIds('name=saltmarsh')).toEqual([]);
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });

  const reindexer = startSearchReindexer(db, createLogger('info', {}, sink), { batchSize: 2 });
  await reindexer.upToDate;
  await reindexer.close();

  expect(await searchIds('name=saltmarsh')).toEqual(ids.sort());
  const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(logged).toContainEqual(
    expect.objectContaining({ msg: 'search re-indexing of a type done', resourceType: 'Organization', reindexed: 3, planned: 3 }),
  );
  expect(logged).toContainEqual(expect.objectContaining({ msg: 'search re-indexing finished', reindexed: 3 }));
  expect(lines.join('\n')).not.toMatch(/Saltmarsh|Counselling/);
});

test('closing stops between batches; the next start finishes from where it stopped', async () => {
  const ids = await storeOldStyle(['Tidewater Clinic A', 'Tidewater Clinic B', 'Tidewater Clinic C', 'Tidewater Clinic D']);
  // Another replica holds the turn, so this one waits; closing it then returns at once.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let holding!: () => void;
  const taken = new Promise<void>((resolve) => (holding = resolve));
  const other = db.transaction(async (tx) => {
    await tx.query(sql`SELECT pg_advisory_xact_lock(727274004)`);
    holding();
    await held;
  });
  await taken;
  const waiting = startSearchReindexer(db, createLogger('silent'), { busyRetryMs: 50 });
  await new Promise((resolve) => setTimeout(resolve, 150));
  await waiting.close();
  release();
  await other;
  expect(await searchIds('name=tidewater')).toEqual([]);

  const next = startSearchReindexer(db, createLogger('silent'), { batchSize: 3 });
  await next.upToDate;
  expect(await searchIds('name=tidewater')).toEqual(ids.sort());
});
