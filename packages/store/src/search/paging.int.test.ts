import type { Observation, Resource } from '@medplum/fhirtypes';
import { minimalObservation, minimalPatient } from '@carecircle/testing';
import { fullAccess } from '../access-policy';
import { createRepository } from '../resource-repository';
import type { Repository } from '../repository';
import { openPostgresTestStore, type TestStore } from '../testing/test-store';

describe('search paging under concurrent writes (PostgreSQL)', () => {
  let store: TestStore;
  let repo: Repository;

  beforeAll(async () => {
    store = await openPostgresTestStore();
    repo = createRepository(store.db, fullAccess);
  });
  afterAll(async () => {
    await store.close();
  });

  const versionKey = (r: Resource) => `${r.id}@${r.meta?.versionId}`;

  test('pages fetched while others insert, re-sort, update and delete neither overlap nor skip', async () => {
    const { resource: patient } = await repo.create(minimalPatient('Paging', 'Paula'));
    const created: Observation[] = [];
    for (let day = 1; day <= 25; day++) {
      const date = `2024-03-${String(day).padStart(2, '0')}T12:00:00Z`;
      created.push((await repo.create(minimalObservation(patient.id!, '1234-5', date))).resource);
    }
    const query = `subject=Patient/${patient.id}&_sort=date&_count=6`;
    const expected = (await repo.search('Observation', new URLSearchParams(`subject=Patient/${patient.id}&_sort=date&_count=1000`))).matches;

    const first = await repo.search('Observation', new URLSearchParams(query));
    // Page 1 is one statement in no transaction; having more pages, its total is counted as of its snapshot.
    expect(first.total).toBe(expected.length);
    const pages: Resource[][] = [first.matches];
    let next = first.next;
    let round = 0;
    while (next) {
      round++;
      // Between fetches: a new match sorting first, a match moved from the end to the front, a deletion of a match
      // not yet seen, and an update of one already seen.
      await repo.create(minimalObservation(patient.id!, '1234-5', `2024-02-0${Math.min(round, 9)}T00:00:00Z`));
      const last = created.pop()!;
      await repo.update({ ...last, effectiveDateTime: '2024-01-01T00:00:00Z' });
      const doomed = created.splice(created.length - 2, 1)[0]!;
      await repo.delete('Observation', doomed.id!);
      await repo.update({ ...created[0]!, effectiveDateTime: '2024-12-31T00:00:00Z' });
      // next links repeat the query and add the token, which carries only snapshot, offset and count
      const page = await repo.search('Observation', new URLSearchParams(`${query}&_page=${next}`));
      expect(page.total).toBe(expected.length);
      pages.push(page.matches);
      next = page.next;
    }
    const union = pages.flat();
    expect(union.map(versionKey)).toEqual(expected.map(versionKey));
    expect(new Set(union.map((r) => r.id)).size).toBe(union.length);
    expect(pages.length).toBe(Math.ceil(expected.length / 6));

    // previous links walk back over the same snapshot
    const second = await repo.search('Observation', new URLSearchParams(`${query}&_page=${first.next}`));
    const back = await repo.search('Observation', new URLSearchParams(`${query}&_page=${second.previous}`));
    expect(back.matches.map(versionKey)).toEqual(first.matches.map(versionKey));

    // a fresh search sees the writes
    const now = await repo.search('Observation', new URLSearchParams(`subject=Patient/${patient.id}&_sort=date&_count=1000`));
    expect(now.matches.map(versionKey)).not.toEqual(expected.map(versionKey));
  });
});
