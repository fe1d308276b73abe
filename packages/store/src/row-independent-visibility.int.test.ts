/**
 * What a policy cannot tell from one row, the store adds (PostgreSQL): a deletion (no content) is judged by the version
 * it deleted; a later page of a search serves a snapshot version only while the current version is visible; and a
 * conditional create is a search (the search interaction, a recorded disclosure). The policy here judges rows by their
 * content, as the real ones do, and, like them, lets a row without content through.
 */
import { forbidden, OperationOutcomeError } from '@medplum/core';
import type { Observation, Resource } from '@medplum/fhirtypes';
import { minimalObservation, minimalPatient, rejectionStatus } from '@carecircle/testing';
import { fullAccess, type AccessPolicy, type Disclosure, type Interaction } from './access-policy';
import { createRepository } from './resource-repository';
import type { Repository } from './repository';
import { sql } from './sql';
import { openPostgresTestStore, type TestStore } from './testing/test-store';

const SECRET = { system: 'https://example.org/label', code: 'secret' };

/** Hides versions tagged secret (a deletion has no tags, so the row alone passes); `refused` interactions are 403. */
function contentPolicy(refused: Interaction[], disclosures: Disclosure[]): AccessPolicy {
  return {
    recorder: {
      recordDisclosure: async (disclosure) => void disclosures.push(disclosure),
      recordDenial: async () => undefined,
    },
    assertInteraction(interaction) {
      if (refused.includes(interaction)) {
        throw new OperationOutcomeError(forbidden);
      }
    },
    visibility: () => sql`NOT COALESCE((rv.content -> 'meta' -> 'tag') @> ${JSON.stringify([SECRET])}::jsonb, false)`,
    assertWrite: () => undefined,
  };
}

const secret = <T extends Resource>(resource: T): T => ({ ...resource, meta: { ...resource.meta, tag: [SECRET] } });

describe('visibility beyond the row (PostgreSQL)', () => {
  let store: TestStore;
  let admin: Repository;
  let caller: Repository;
  let patientId: string;
  const disclosures: Disclosure[] = [];

  const observation = async (tagged = false): Promise<Observation> => {
    const resource = minimalObservation(patientId, '1234-5', '2024-01-01');
    return (await admin.create(tagged ? secret(resource) : resource)).resource;
  };

  beforeAll(async () => {
    store = await openPostgresTestStore();
    admin = createRepository(store.db, fullAccess);
    caller = createRepository(store.db, contentPolicy([], disclosures));
    patientId = (await admin.create(minimalPatient('Row', 'Rita'))).resource.id!;
  });
  afterAll(async () => {
    await store.close();
  });

  test('the deletion of a hidden version is hidden: 404 on read and vread, absent from every history', async () => {
    const hidden = await observation(true);
    const relabelled = await observation();
    await admin.update(secret(relabelled));
    const plain = await observation();
    for (const r of [hidden, relabelled, plain]) {
      await admin.delete('Observation', r.id!);
    }
    for (const [r, last] of [[hidden, 2], [relabelled, 3]] as const) {
      expect(await rejectionStatus(caller.read('Observation', r.id!))).toBe(404);
      for (let v = 1; v <= last; v++) {
        expect(await rejectionStatus(caller.vread('Observation', r.id!, String(v)))).toBe(404);
      }
      expect(await rejectionStatus(caller.history('Observation', r.id!, new URLSearchParams()))).toBe(404);
    }
    const typeHistory = await caller.history('Observation', undefined, new URLSearchParams('_count=1000'));
    const system = await caller.history(undefined, undefined, new URLSearchParams('_count=1000'));
    for (const entries of [typeHistory.entries, system.entries]) {
      expect(entries.filter((e) => e.id === hidden.id || e.id === relabelled.id)).toEqual([]);
      expect(entries.filter((e) => e.id === plain.id).map((e) => e.method)).toEqual(['DELETE', 'POST']);
    }
    // A deletion of what the caller saw is a deletion: 410, and the caller may not bring a hidden one back.
    expect(await rejectionStatus(caller.read('Observation', plain.id!))).toBe(410);
    expect(await rejectionStatus(caller.update({ ...hidden, meta: undefined }))).toBe(404);
    expect(await rejectionStatus(caller.delete('Observation', hidden.id!))).toBe(404);
  });

  test('a later page serves a snapshot version, as match or include, only while the current version is visible', async () => {
    const before = (await admin.create(minimalPatient('Paged', 'Paul'))).resource.id!;
    const patient = (await admin.create(minimalPatient('Paged', 'Pia'))).resource.id!;
    const made: Observation[] = [];
    for (let day = 1; day <= 4; day++) {
      made.push((await admin.create(minimalObservation(patient, '1234-5', `2024-05-0${day}`))).resource);
    }
    const [first, relabelled, deleted, edited] = made as [Observation, Observation, Observation, Observation];
    const query = `subject=Patient/${patient}&_sort=date&_count=1`;
    const page1 = await caller.search('Observation', new URLSearchParams(query));
    expect(page1.matches.map((r) => r.id)).toEqual([first.id]);
    const revQuery = `_id=${before},${patient}&_sort=_lastUpdated&_count=1&_revinclude=Observation:subject`;
    const revPage1 = await caller.search('Patient', new URLSearchParams(revQuery));
    expect(revPage1.matches.map((r) => r.id)).toEqual([before]);

    await admin.update(secret(relabelled));
    await admin.delete('Observation', deleted.id!);
    await admin.update({ ...edited, status: 'amended' });

    const served: string[] = [];
    for (let next = page1.next; next; ) {
      const page = await caller.search('Observation', new URLSearchParams(`${query}&_page=${next}`));
      served.push(...page.matches.map((r) => `${r.id}@${r.meta?.versionId}`));
      next = page.next;
    }
    // Changed or deleted since, but still visible (a deletion of what the caller saw is visible): served as page 1's
    // snapshot had it, so pages neither overlap nor skip. Only the relabelled one, hidden now, is left out.
    expect(served).toEqual([`${deleted.id}@1`, `${edited.id}@1`]);
    const revPage2 = await caller.search('Patient', new URLSearchParams(`${revQuery}&_page=${revPage1.next}`));
    expect(revPage2.matches.map((r) => r.id)).toEqual([patient]);
    expect(revPage2.included.map((r) => `${r.id}@${r.meta?.versionId}`).sort()).toEqual([first, deleted, edited].map((r) => `${r.id}@1`).sort());
  });

  test('a conditional create needs the search interaction, and its match is disclosed as a search', async () => {
    const existing = await observation();
    const createOnly = createRepository(store.db, contentPolicy(['search'], []));
    const query = `_id=${existing.id}`;
    expect(await rejectionStatus(createOnly.create(minimalObservation(patientId, '1234-5', '2024-01-01'), { ifNoneExist: query }))).toBe(403);
    disclosures.length = 0;
    const outcome = await caller.create(minimalObservation(patientId, '1234-5', '2024-01-01'), { ifNoneExist: query });
    expect(outcome).toMatchObject({ outcome: 'existing', resource: { id: existing.id } });
    expect(disclosures.map((d) => ({ interaction: d.interaction, ids: d.resources.map((r) => r.id) }))).toEqual([
      { interaction: 'search', ids: [existing.id] },
    ]);
    const hidden = await observation(true);
    const created = await caller.create(minimalObservation(patientId, '1234-5', '2024-01-01'), { ifNoneExist: `_id=${hidden.id}` });
    expect(created.outcome).toBe('created');
  });
});
