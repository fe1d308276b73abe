import { indexSearchParameter } from '@medplum/core';
import type { Observation, Resource, Task } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from '@carecircle/fhir';
import { buildTask, createTestDatabase, minimalObservation, minimalOrganization, minimalPatient, type TestDatabase } from '@carecircle/testing';
import { fullAccess } from '../access-policy';
import { openDatabase, type Database } from '../database';
import { migrate } from '../migrate';
import { createRepository } from '../resource-repository';
import type { Repository } from '../repository';
import { raw, sql } from '../sql';
import { openPgliteTestStore, openPostgresTestStore, type TestStore } from '../testing/test-store';
import { planSearchReindex, reindexSearch, reindexSearchBatch, searchIndexTarget, type ReindexProgress } from './reindex';
import { resetSearchParameterCache } from './search-parameters';

const SEARCH_TABLES = ['search_string', 'search_token', 'search_reference', 'search_date', 'search_number', 'search_uri'];

/** Makes a version's rows look as an older release wrote them: without the rows of `codes` (LIKE patterns). */
async function dropRows(db: Database, vidOf: { resourceType: string; id: string }, codes: string[]): Promise<void> {
  for (const table of SEARCH_TABLES) {
    await db.query(sql`DELETE FROM ${raw(table)} x USING resource_version rv
      WHERE x.vid = rv.vid AND rv.resource_type = ${vidOf.resourceType} AND rv.id = ${vidOf.id} AND x.code LIKE ANY(${codes}::text[])`);
  }
}

/** The recorded index of `resourceType` set to something an older release recorded. */
async function markStale(db: Database, resourceType: string): Promise<void> {
  await db.query(sql`UPDATE search_index_version SET fingerprint = 'an older release' WHERE resource_type = ${resourceType}`);
}

const ids = (resources: Resource[]) => resources.map((r) => r.id!).sort();

describe.each([
  ['PostgreSQL', openPostgresTestStore],
  ['PGlite', openPgliteTestStore],
])('search re-indexing on %s', (name, open) => {
  let store: TestStore;
  let repo: Repository;
  const search = async (type: string, query: string) => ids((await repo.search(type, new URLSearchParams(query))).matches);

  beforeAll(async () => {
    store = await open();
    repo = createRepository(store.db, fullAccess);
  });
  afterAll(async () => {
    await store.close();
  });

  test('versions whose rows an older extraction wrote are found after the re-indexing; a second run has nothing to do', async () => {
    const patient = (await repo.create(minimalPatient('Rivera', 'Alex'))).resource;
    const observation = (
      await repo.create<Observation>(minimalObservation(patient.id!, '85354-9', '2025-03-01', { code: { text: 'Blood pressure panel', coding: [{ system: 'http://loinc.org', code: '85354-9' }] } }))
    ).resource;
    const task = (
      await repo.create<Task>(
        buildTask(patient.id!, {
          restriction: { period: { end: '2025-04-01T12:00:00Z' } },
          businessStatus: { coding: [{ system: 'https://carecircle.dev/fhir/CodeSystem/referral-follow-up', code: 'escalated' }] },
        }),
      )
    ).resource;
    // An earlier version, superseded: searches never read it, so it is left as written.
    const updated = (await repo.update<Task>({ ...task, description: 'Referral to physiotherapy' })).resource;
    await dropRows(store.db, { resourceType: 'Observation', id: observation.id! }, ['%:text']);
    await dropRows(store.db, { resourceType: 'Task', id: task.id! }, ['ack-due', 'follow-up', '%:text']);
    expect(await search('Observation', 'code:text=pressure')).toEqual([]);
    expect(await search('Task', 'ack-due=lt2025-05-01')).toEqual([]);
    expect(await search('Task', 'follow-up=escalated')).toEqual([]);

    const progress: ReindexProgress[] = [];
    const summary = await reindexSearch(store.db, { onProgress: (p) => progress.push(p) });

    expect(summary.complete).toBe(true);
    expect(summary.finished).toEqual(expect.arrayContaining(['Observation', 'Patient', 'Task']));
    expect(await search('Observation', 'code:text=pressure')).toEqual([observation.id]);
    expect(await search('Task', 'ack-due=lt2025-05-01')).toEqual([updated.id]);
    expect(await search('Task', 'follow-up=escalated')).toEqual([updated.id]);
    // Rows are replaced, not added to: each value once.
    const { rows } = await store.db.query<{ n: number | string }>(sql`
      SELECT count(*) AS n FROM search_token t JOIN resource_version rv ON rv.vid = t.vid
       WHERE rv.resource_type = 'Task' AND rv.id = ${task.id} AND rv.superseded_xid IS NULL AND t.code = 'follow-up'`);
    expect(Number(rows[0]!.n)).toBe(1);
    // Progress names types and counts only.
    expect(progress.find((p) => p.resourceType === 'Task' && p.done)).toEqual({
      resourceType: 'Task',
      reindexed: 1,
      planned: 1,
      deferred: 0,
      skipped: 0,
      done: true,
    });
    const recorded = await store.db.query<{ fingerprint: string }>(
      sql`SELECT fingerprint FROM search_index_version WHERE resource_type = 'Task'`,
    );
    expect(recorded.rows[0]?.fingerprint).toBe(searchIndexTarget('Task').fingerprint);

    expect(await planSearchReindex(store.db)).toEqual({ work: [], newer: [] });
    expect(await reindexSearch(store.db)).toMatchObject({ complete: true, reindexed: 0, finished: [] });
  });

  test('an interrupted re-indexing resumes where it stopped, and versions written meanwhile are indexed too', async () => {
    const created: string[] = [];
    for (let i = 0; i < 7; i++) {
      created.push((await repo.create(minimalOrganization(`Harbour Clinic ${i}`))).resource.id!);
    }
    for (const id of created) {
      await dropRows(store.db, { resourceType: 'Organization', id }, ['name']);
    }
    await markStale(store.db, 'Organization');
    expect(await search('Organization', 'name=harbour')).toEqual([]);

    // A worker stopped after its first batch of 3 (a deploy, a crash).
    const stop = new AbortController();
    const first = await reindexSearch(store.db, {
      batchSize: 3,
      signal: stop.signal,
      onProgress: () => stop.abort(),
      resourceTypes: ['Organization'],
    });
    expect(first).toMatchObject({ complete: false, reindexed: 3, finished: [] });
    expect(await search('Organization', 'name=harbour')).toHaveLength(3);

    // Meanwhile a client writes one more, old-style (as a replica of the previous release would).
    const late = (await repo.create(minimalOrganization('Harbour Clinic late'))).resource.id!;
    await dropRows(store.db, { resourceType: 'Organization', id: late }, ['name']);

    // The next start goes on from the cursor: the first 3 are not done again.
    const second = await reindexSearch(store.db, { batchSize: 3, resourceTypes: ['Organization'] });
    expect(second).toMatchObject({ complete: true, reindexed: 5, finished: ['Organization'] });
    expect(await search('Organization', 'name=harbour')).toEqual([...created, late].sort());
    const left = await store.db.query(sql`SELECT resource_type FROM search_reindex`);
    expect(left.rows).toEqual([]);
  });

  test('a release never undoes the index of a newer one', async () => {
    await store.db.query(sql`UPDATE search_index_version SET fingerprint = 'a later release', extraction = extraction + 1
      WHERE resource_type = 'Patient'`);
    const plan = await planSearchReindex(store.db);
    expect(plan).toEqual({ work: [], newer: ['Patient'] });
  });

  test('a SearchParameter added later re-indexes the type it is based on, and only that type', async () => {
    const patient = (await repo.create(minimalPatient('Okafor', 'Chi'))).resource;
    const observation = (
      await repo.create<Observation>(minimalObservation(patient.id!, '8867-4', '2025-03-02', { valueString: 'steady' }))
    ).resource;
    // A parameter of this suite's own (the definitions are global to the file, and each database gets one).
    const code = `value-words-${name.toLowerCase()}`;
    loadFhirDefinitions();
    indexSearchParameter({
      resourceType: 'SearchParameter',
      url: `https://carecircle.dev/fhir/SearchParameter/test-observation-${code}`,
      name: code,
      status: 'active',
      description: 'Text value of the observation',
      code,
      base: ['Observation'],
      type: 'string',
      expression: 'Observation.value.ofType(string)',
    });
    resetSearchParameterCache();
    expect(await search('Observation', `${code}=steady`)).toEqual([]);

    const plan = await planSearchReindex(store.db);
    expect(plan !== 'busy' && plan.work.map((w) => w.target.resourceType)).toEqual(['Observation']);
    await reindexSearch(store.db);
    expect(await search('Observation', `${code}=steady`)).toEqual([observation.id]);
  });
});

describe('search re-indexing with two replicas (PostgreSQL)', () => {
  let testDb: TestDatabase;
  let a: Database;
  let b: Database;
  let repo: Repository;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    a = await openDatabase({ databaseUrl: testDb.url, maxConnections: 4 });
    b = await openDatabase({ databaseUrl: testDb.url, maxConnections: 4 });
    await migrate(a);
    repo = createRepository(a, fullAccess);
    await reindexSearch(a);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
    await testDb.drop();
  });

  test('replicas take turns: each version is re-indexed once, by one of them', async () => {
    for (let i = 0; i < 20; i++) {
      await repo.create(minimalOrganization(`Lakeside Practice ${i}`));
    }
    await markStale(a, 'Organization');
    const options = { batchSize: 2, busyRetryMs: 10, resourceTypes: ['Organization'] };
    const [ra, rb] = await Promise.all([reindexSearch(a, options), reindexSearch(b, options)]);

    expect(ra.complete && rb.complete).toBe(true);
    expect(ra.reindexed + rb.reindexed).toBe(20);
    // Whichever replica records the type finished reports it; the other, finding it already recorded, may report it
    // too or nothing (which one gets there first is a race): the recorded fingerprint below is what must hold.
    expect([...ra.finished, ...rb.finished]).toContain('Organization');
    expect([...ra.finished, ...rb.finished].every((type) => type === 'Organization')).toBe(true);
    const { rows } = await a.query<{ fingerprint: string }>(
      sql`SELECT fingerprint FROM search_index_version WHERE resource_type = 'Organization'`,
    );
    expect(rows[0]?.fingerprint).toBe(searchIndexTarget('Organization').fingerprint);
  });

  test('while one replica holds the turn, the other does nothing', async () => {
    await markStale(a, 'Organization');
    const plan = await planSearchReindex(a, ['Organization']);
    expect(plan !== 'busy' && plan.work).toHaveLength(1);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holding!: () => void;
    const taken = new Promise<void>((resolve) => (holding = resolve));
    const holder = b.transaction(async (tx) => {
      await tx.query(sql`SELECT pg_advisory_xact_lock(727274004)`);
      holding();
      await held;
    });
    await taken;
    expect(await reindexSearchBatch(a, searchIndexTarget('Organization'), 5)).toEqual({ kind: 'busy' });
    expect(await planSearchReindex(a, ['Organization'])).toBe('busy');
    release();
    await holder;
    expect(await reindexSearchBatch(a, searchIndexTarget('Organization'), 5)).toMatchObject({ kind: 'progress', reindexed: 5 });
    await reindexSearch(a, { resourceTypes: ['Organization'] });
  });

  test('a version a writer holds is not waited for: it is deferred and re-indexed at the end of the walk', async () => {
    const org = (await repo.create(minimalOrganization('Quayside Clinic'))).resource;
    await dropRows(a, { resourceType: 'Organization', id: org.id! }, ['name']);
    await markStale(a, 'Organization');
    await planSearchReindex(a, ['Organization']);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locking!: () => void;
    const locked = new Promise<void>((resolve) => (locking = resolve));
    // A writer in the middle of superseding the version, which then gives up (rolls back).
    const writer = b
      .transaction(async (tx) => {
        await tx.query(sql`SELECT vid FROM resource_version WHERE resource_type = 'Organization' AND id = ${org.id} AND superseded_xid IS NULL FOR UPDATE`);
        locking();
        await held;
        throw new Error('the write failed');
      })
      .catch(() => undefined);
    await locked;
    const target = searchIndexTarget('Organization');
    let outcome;
    do {
      outcome = await reindexSearchBatch(a, target, 50);
    } while (outcome.kind === 'progress' && !outcome.waiting);
    expect(outcome).toMatchObject({ kind: 'progress', reindexed: 0, deferred: 1, waiting: true });
    release();
    await writer;
    const summary = await reindexSearch(a, { resourceTypes: ['Organization'] });
    expect(summary).toMatchObject({ complete: true, reindexed: 1 });
    expect(ids((await repo.search('Organization', new URLSearchParams('name=quayside'))).matches)).toEqual([org.id]);
  });
});
