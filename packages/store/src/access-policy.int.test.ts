import { forbidden, OperationOutcomeError } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { buildTask, minimalObservation, minimalPatient, rejectionStatus } from '@carecircle/testing';
import { fullAccess, type AccessPolicy, type Interaction } from './access-policy';
import { createRepository } from './resource-repository';
import type { Repository } from './repository';
import { sql } from './sql';
import { openPostgresTestStore, type TestStore } from './testing/test-store';

/** Sees only the compartment of one patient; may not delete; may not write Observations coded 0000-0. */
function compartmentPolicy(patientId: string, writes: string[]): AccessPolicy {
  return {
    assertInteraction(interaction: Interaction, resourceType: string) {
      if (interaction === 'delete' || resourceType === 'AuditEvent') {
        throw new OperationOutcomeError(forbidden);
      }
    },
    visibility(resourceType: string) {
      return resourceType === 'Practitioner' ? undefined : sql`rv.compartments && ${[`Patient/${patientId}`]}::text[]`;
    },
    assertWrite(interaction, next: Resource | undefined, current: Resource | undefined) {
      writes.push(`${interaction}:${next?.resourceType ?? '-'}:${current ? 'current' : 'none'}`);
      if (next?.resourceType === 'Observation' && JSON.stringify(next).includes('0000-0')) {
        throw new OperationOutcomeError(forbidden);
      }
    },
  };
}

describe('access policy hooks (PostgreSQL)', () => {
  let store: TestStore;
  let admin: Repository;
  let caller: Repository;
  const writes: string[] = [];
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    store = await openPostgresTestStore();
    admin = createRepository(store.db, fullAccess);
    const create = async (name: string, resource: Resource) => {
      ids[name] = (await admin.create(resource)).resource.id!;
    };
    await create('alice', minimalPatient('Visible', 'Alice'));
    await create('bob', minimalPatient('Hidden', 'Bob'));
    await create('aliceObs', minimalObservation(ids.alice!, '1234-5', '2024-01-01'));
    await create('bobObs', minimalObservation(ids.bob!, '1234-5', '2024-01-02'));
    await create('aliceTask', buildTask(ids.alice!, { focus: { reference: `Observation/${ids.bobObs}` } }));
    await admin.update({ ...(await admin.read('Patient', ids.bob!)), active: true });
    caller = createRepository(store.db, compartmentPolicy(ids.alice!, writes));
  });
  afterAll(async () => {
    await store.close();
  });

  test('hidden resources are 404 on read, vread and writes', async () => {
    await expect(caller.read('Patient', ids.alice!)).resolves.toMatchObject({ id: ids.alice });
    expect(await rejectionStatus(caller.read('Patient', ids.bob!))).toBe(404);
    expect(await rejectionStatus(caller.vread('Patient', ids.bob!, '1'))).toBe(404);
    expect(await rejectionStatus(caller.read('Observation', ids.bobObs!))).toBe(404);
    expect(await rejectionStatus(caller.update({ ...minimalPatient('X', 'Y'), id: ids.bob! }))).toBe(404);
    expect(await rejectionStatus(caller.patch('Patient', ids.bob!, [{ op: 'add', path: '/active', value: false }]))).toBe(404);
  });

  test('hidden resources vanish from searches and their totals', async () => {
    const patients = await caller.search('Patient', new URLSearchParams());
    expect(patients.matches.map((p) => p.id)).toEqual([ids.alice]);
    expect(patients.total).toBe(1);
    const count = await caller.search('Observation', new URLSearchParams('_summary=count&code=1234-5'));
    expect(count.total).toBe(1);
    expect((await caller.search('Observation', new URLSearchParams(`subject=Patient/${ids.bob}`))).total).toBe(0);
  });

  test('includes and revincludes apply the visibility of the included type', async () => {
    const tasks = await caller.search('Task', new URLSearchParams('_include=Task:focus&_include=Task:patient'));
    expect(tasks.matches.map((t) => t.id)).toEqual([ids.aliceTask]);
    expect(tasks.included.map((r) => r.id)).toEqual([ids.alice]);
    const rev = await caller.search('Patient', new URLSearchParams('_revinclude=Observation:subject'));
    expect(rev.included.map((r) => r.id)).toEqual([ids.aliceObs]);
    const adminRev = await admin.search('Observation', new URLSearchParams(`_id=${ids.bobObs}&_revinclude=Task:focus`));
    expect(adminRev.included.map((r) => r.id)).toEqual([ids.aliceTask]);
  });

  test('hidden resources have no history', async () => {
    expect(await rejectionStatus(caller.history('Patient', ids.bob!, new URLSearchParams()))).toBe(404);
    const typeHistory = await caller.history('Patient', undefined, new URLSearchParams());
    expect(typeHistory.entries.map((e) => e.id)).toEqual([ids.alice]);
    const system = await caller.history(undefined, undefined, new URLSearchParams('_count=100'));
    expect(new Set(system.entries.map((e) => e.id))).toEqual(new Set([ids.alice, ids.aliceObs, ids.aliceTask]));
  });

  test('conditional create searches only what the caller sees', async () => {
    const outcome = await caller.create(minimalObservation(ids.alice!, '1234-5', '2024-02-01'), {
      ifNoneExist: `subject=Patient/${ids.bob}`,
    });
    expect(outcome.outcome).toBe('created');
  });

  test('assertInteraction refuses before any database work; assertWrite runs inside the write and can refuse it', async () => {
    expect(await rejectionStatus(caller.delete('Patient', ids.alice!))).toBe(403);
    expect(await rejectionStatus(caller.search('AuditEvent', new URLSearchParams('shoe-size=1')))).toBe(403);
    writes.length = 0;
    const { resource } = await caller.create(minimalObservation(ids.alice!, '1111-1', '2024-03-01'));
    await caller.update({ ...resource, status: 'amended' });
    expect(writes).toEqual(['create:Observation:none', 'update:Observation:current']);
    expect(await rejectionStatus(caller.create(minimalObservation(ids.alice!, '0000-0', '2024-03-01')))).toBe(403);
    const stored = await admin.search('Observation', new URLSearchParams('code=0000-0'));
    expect(stored.total).toBe(0);
  });
});
