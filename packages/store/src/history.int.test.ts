import { minimalObservation, minimalPatient, rejectionStatus } from '@carecircle/testing';
import { fullAccess } from './access-policy';
import { createRepository } from './resource-repository';
import type { Repository } from './repository';
import { openPostgresTestStore, type TestStore } from './testing/test-store';

describe('history (PostgreSQL)', () => {
  let store: TestStore;
  let repo: Repository;
  let clock = Date.parse('2025-03-01T00:00:00Z');

  beforeAll(async () => {
    store = await openPostgresTestStore();
    repo = createRepository(store.db, fullAccess, { now: () => new Date((clock += 60_000)) });
  });
  afterAll(async () => {
    await store.close();
  });

  test('instance history lists every version newest first, with POST, PUT and DELETE', async () => {
    const { resource } = await repo.create(minimalPatient('History', 'Hal'));
    await repo.update({ ...resource, active: true });
    await repo.delete('Patient', resource.id!);
    const history = await repo.history('Patient', resource.id!, new URLSearchParams());
    expect(history.total).toBe(3);
    expect(history.entries.map((e) => [e.versionId, e.method, e.resource?.meta?.versionId])).toEqual([
      ['3', 'DELETE', undefined],
      ['2', 'PUT', '2'],
      ['1', 'POST', '1'],
    ]);
    expect(history.entries[0]!.resource).toBeUndefined();
    expect(Date.parse(history.entries[0]!.lastUpdated)).toBeGreaterThan(Date.parse(history.entries[1]!.lastUpdated));
  });

  test('instance history of an unknown resource is 404; bad parameters are 400', async () => {
    expect(await rejectionStatus(repo.history('Patient', 'nobody-here', new URLSearchParams()))).toBe(404);
    expect(await rejectionStatus(repo.history('Patient', undefined, new URLSearchParams('_since=yesterday')))).toBe(400);
    expect(await rejectionStatus(repo.history('Patient', undefined, new URLSearchParams('_at=yesterday')))).toBe(400);
    expect(await rejectionStatus(repo.history('Patient', undefined, new URLSearchParams('_elements=id')))).toBe(400);
    expect(await rejectionStatus(repo.history('Patient', undefined, new URLSearchParams('_count=x')))).toBe(400);
  });

  test('type and system history, _since and _count with stable paging', async () => {
    const since = new Date(clock + 1).toISOString();
    const { resource: patient } = await repo.create(minimalPatient('History', 'Type'));
    const { resource: obs } = await repo.create(minimalObservation(patient.id!, '1234-5', '2024-01-01'));
    await repo.update({ ...patient, active: true });
    const typeHistory = await repo.history('Patient', undefined, new URLSearchParams({ _since: since }));
    expect(typeHistory.entries.map((e) => `${e.id}@${e.versionId}`)).toEqual([`${patient.id}@2`, `${patient.id}@1`]);

    const system = await repo.history(undefined, undefined, new URLSearchParams({ _since: since, _count: '2' }));
    expect(system.total).toBe(3);
    expect(system.entries.map((e) => `${e.resourceType}/${e.id}@${e.versionId}`)).toEqual([
      `Patient/${patient.id}@2`,
      `Observation/${obs.id}@1`,
    ]);
    // writes after page 1 do not shift page 2
    await repo.update({ ...obs, status: 'amended' });
    // the caller repeats its query with the token (the token carries snapshot, offset and count, and is bound to the query)
    const page2 = await repo.history(undefined, undefined, new URLSearchParams({ _since: since, _count: '2', _page: system.next! }));
    expect(page2.entries.map((e) => `${e.resourceType}/${e.id}@${e.versionId}`)).toEqual([`Patient/${patient.id}@1`]);
    expect(page2.next).toBeUndefined();
    expect(page2.previous).toBeDefined();
  });
});
