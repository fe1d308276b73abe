import type { Patient } from '@medplum/fhirtypes';
import { fullAccess } from './access-policy';
import { createRepository } from './resource-repository';
import { buildObservation, buildPatient } from './testing/fixtures';
import { openPgliteTestStore, statusOf, type TestStore } from './testing/test-store';

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
    const { resource } = await repo.create(buildPatient('Lite', 'Lena', { birthDate: '1990-01-01' }));
    await repo.create(buildObservation(resource.id!, '1234-5', '2024-01-01'));
    await repo.create(buildObservation(resource.id!, '1234-5', '2024-01-02'));
    const updated = await repo.update<Patient>({ ...resource, active: true });
    expect(updated.resource.meta?.versionId).toBe('2');
    expect(await repo.read('Patient', resource.id!)).toEqual(updated.resource);

    const found = await repo.search('Patient', new URLSearchParams('name=lite&birthdate=1990&_revinclude=Observation:subject'));
    expect(found.matches.map((p) => p.id)).toEqual([resource.id]);
    expect(found.included).toHaveLength(2);

    const query = `subject=Patient/${resource.id}&_sort=-date&_count=1`;
    const page1 = await repo.search('Observation', new URLSearchParams(query));
    await repo.create(buildObservation(resource.id!, '1234-5', '2024-01-03'));
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
    expect(await statusOf(repo.read('Patient', resource.id!))).toBe(410);
  });
});
