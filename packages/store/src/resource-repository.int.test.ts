import type { Observation, Patient, Resource } from '@medplum/fhirtypes';
import { buildTask, minimalObservation, minimalPatient, rejectionStatus } from '@carecircle/testing';
import { fullAccess } from './access-policy';
import { createRepository } from './resource-repository';
import type { Repository } from './repository';
import { sql } from './sql';
import { openPostgresTestStore, type TestStore } from './testing/test-store';

describe('resource repository (PostgreSQL)', () => {
  let store: TestStore;
  let repo: Repository;
  let clock: number;

  beforeAll(async () => {
    store = await openPostgresTestStore(20);
    clock = Date.parse('2025-01-01T00:00:00Z');
    repo = createRepository(store.db, fullAccess, { now: () => new Date((clock += 1000)) });
  });
  afterAll(async () => {
    await store.close();
  });

  async function versionRows(type: string, id: string): Promise<Array<{ version_id: number; current: boolean; deleted: boolean }>> {
    const { rows } = await store.db.query<{ version_id: number; current: boolean; deleted: boolean }>(sql`
      SELECT version_id, superseded_xid IS NULL AS current, deleted FROM resource_version
      WHERE resource_type = ${type} AND id = ${id} ORDER BY version_id`);
    return rows;
  }

  async function outboxKinds(type: string, id: string): Promise<string[]> {
    const { rows } = await store.db.query<{ kind: string; version_id: number }>(sql`
      SELECT kind, version_id FROM outbox WHERE resource_type = ${type} AND resource_id = ${id} ORDER BY seq`);
    return rows.map((r) => `${r.kind}:${r.version_id}`);
  }

  describe('create and read', () => {
    test('create assigns a uuid, version 1 and lastUpdated, and read returns the same resource', async () => {
      const { resource, outcome } = await repo.create(minimalPatient('Nguyen', 'An', { id: 'ignored-client-id' }));
      expect(outcome).toBe('created');
      expect(resource.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(resource.meta?.versionId).toBe('1');
      expect(resource.meta?.lastUpdated).toMatch(/^\d{4}-\d\d-\d\dT/);
      await expect(repo.read('Patient', resource.id!)).resolves.toEqual(resource);
      expect(await outboxKinds('Patient', resource.id!)).toEqual(['create:1']);
    });

    test('create with a caller-chosen id uses it, and a second create with that id is a 409', async () => {
      const { resource } = await repo.create(minimalPatient('Fixed', 'Id'), { id: 'fixed-id-1' });
      expect(resource.id).toBe('fixed-id-1');
      expect(await rejectionStatus(repo.create(minimalPatient('Fixed', 'Again'), { id: 'fixed-id-1' }))).toBe(409);
    });

    test('read of an unknown id is 404, of a malformed id 400, of an unsupported type 400', async () => {
      expect(await rejectionStatus(repo.read('Patient', 'no-such-patient'))).toBe(404);
      expect(await rejectionStatus(repo.read('Patient', 'bad id!'))).toBe(400);
      expect(await rejectionStatus(repo.read('Medication', 'x'))).toBe(400);
    });

    test('writes reject unsupported types, invalid ids, invalid resources and updates without id (400)', async () => {
      expect(await rejectionStatus(repo.create({ resourceType: 'Medication' } as Resource))).toBe(400);
      expect(await rejectionStatus(repo.create(minimalPatient('A', 'B'), { id: 'spaces are bad' }))).toBe(400);
      expect(await rejectionStatus(repo.update(minimalPatient('A', 'B', { id: 'x'.repeat(65) })))).toBe(400);
      expect(await rejectionStatus(repo.update(minimalPatient('A', 'B')))).toBe(400);
      expect(await rejectionStatus(repo.create({ resourceType: 'Patient', gender: 'robot' } as unknown as Patient))).toBe(400);
      expect(await rejectionStatus(repo.create({ resourceType: 'Observation', status: 'final' } as Observation))).toBe(400);
      expect(await rejectionStatus(repo.create('not a resource' as unknown as Patient))).toBe(400);
    });

    test('the stored resource carries Patient compartments from the CompartmentDefinition', async () => {
      const { resource: patient } = await repo.create(minimalPatient('Comp', 'Art'));
      const { resource: task } = await repo.create(buildTask(patient.id!));
      const { rows } = await store.db.query<{ resource_type: string; compartments: string[] }>(sql`
        SELECT resource_type, compartments FROM resource_version WHERE id = ANY(${[patient.id!, task.id!]}::text[])`);
      expect(rows.map((r) => r.compartments)).toEqual([[`Patient/${patient.id}`], [`Patient/${patient.id}`]]);
    });
  });

  describe('update and vread', () => {
    test('update stores version 2, keeps version 1 readable, supersedes it, and records an outbox event', async () => {
      const { resource: v1 } = await repo.create(minimalPatient('Versioned', 'Vera'));
      const { resource: v2, outcome } = await repo.update({ ...v1, active: true });
      expect(outcome).toBe('updated');
      expect(v2.meta?.versionId).toBe('2');
      expect(v2.meta?.lastUpdated).not.toBe(v1.meta?.lastUpdated);
      expect(await repo.vread('Patient', v1.id!, '1')).toEqual(v1);
      expect(await repo.read<Patient>('Patient', v1.id!)).toEqual(v2);
      expect(await versionRows('Patient', v1.id!)).toEqual([
        { version_id: 1, current: false, deleted: false },
        { version_id: 2, current: true, deleted: false },
      ]);
      expect(await outboxKinds('Patient', v1.id!)).toEqual(['create:1', 'update:2']);
      expect(await rejectionStatus(repo.vread('Patient', v1.id!, '3'))).toBe(404);
      expect(await rejectionStatus(repo.vread('Patient', v1.id!, 'abc'))).toBe(404);
    });

    test('an identical update still writes a new version (every update is a version)', async () => {
      const { resource } = await repo.create(minimalPatient('Same', 'Sam'));
      const { resource: again } = await repo.update(resource);
      expect(again.meta?.versionId).toBe('2');
    });

    test('update of an unknown id creates it as version 1 (outcome created)', async () => {
      const { resource, outcome } = await repo.update(minimalPatient('Put', 'Create', { id: 'put-created-1' }));
      expect(outcome).toBe('created');
      expect(resource.meta?.versionId).toBe('1');
      expect(await outboxKinds('Patient', 'put-created-1')).toEqual(['create:1']);
    });

    test('ifMatch: the current version passes, a stale one is 412, a missing resource is 412', async () => {
      const { resource } = await repo.create(minimalPatient('Match', 'If'));
      await repo.update({ ...resource, active: true }, { ifMatch: '1' });
      expect(await rejectionStatus(repo.update({ ...resource, active: false }, { ifMatch: '1' }))).toBe(412);
      await expect(repo.update({ ...resource, active: false }, { ifMatch: 'W/"2"' })).resolves.toMatchObject({ outcome: 'updated' });
      expect(await rejectionStatus(repo.update(minimalPatient('No', 'One', { id: 'never-existed' }), { ifMatch: '1' }))).toBe(412);
      expect(await rejectionStatus(repo.update({ ...resource }, { ifMatch: 'garbage' }))).toBe(400);
    });

    test('parallel updates of one resource serialise: versions 1..N without gaps, none lost', async () => {
      const { resource } = await repo.create(minimalPatient('Race', 'Rita'));
      const writers = 12;
      await Promise.all(
        Array.from({ length: writers }, (_, i) => repo.update({ ...resource, telecom: [{ system: 'phone', value: `555-${i}` }] })),
      );
      const rows = await versionRows('Patient', resource.id!);
      expect(rows.map((r) => r.version_id)).toEqual(Array.from({ length: writers + 1 }, (_, i) => i + 1));
      expect(rows.filter((r) => r.current)).toHaveLength(1);
      const current = await repo.read<Patient>('Patient', resource.id!);
      expect(current.meta?.versionId).toBe(String(writers + 1));
    });

    test('parallel PUT-creates with one client id make exactly one version 1', async () => {
      const results = await Promise.all(
        Array.from({ length: 6 }, () => repo.update(minimalPatient('Twin', 'Put', { id: 'put-race-1' }))),
      );
      expect(results.filter((r) => r.outcome === 'created')).toHaveLength(1);
      expect((await versionRows('Patient', 'put-race-1')).map((r) => r.version_id)).toEqual([1, 2, 3, 4, 5, 6]);
    });

    test('parallel creates with one caller-chosen id: one succeeds, the others are 409', async () => {
      const settled = await Promise.allSettled(
        Array.from({ length: 5 }, () => repo.create(minimalPatient('Twin', 'Post'), { id: 'post-race-1' })),
      );
      expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
      expect(await versionRows('Patient', 'post-race-1')).toHaveLength(1);
    });
  });

  describe('conditional create', () => {
    const identifier = (value: string) => [{ system: 'https://example.org/mrn', value }];

    test('no match creates, one match returns it as existing, several matches are 412', async () => {
      const query = 'identifier=https://example.org/mrn|cc-1';
      const first = await repo.create(minimalPatient('Cond', 'One', { identifier: identifier('cc-1') }), { ifNoneExist: query });
      expect(first.outcome).toBe('created');
      const second = await repo.create(minimalPatient('Cond', 'Two', { identifier: identifier('cc-1') }), { ifNoneExist: query });
      expect(second).toEqual({ resource: expect.objectContaining({ id: first.resource.id }), outcome: 'existing' });
      await repo.create(minimalPatient('Cond', 'Three', { identifier: identifier('cc-2') }));
      await repo.create(minimalPatient('Cond', 'Four', { identifier: identifier('cc-2') }));
      expect(
        await rejectionStatus(repo.create(minimalPatient('Cond', 'Five'), { ifNoneExist: 'identifier=https://example.org/mrn|cc-2' })),
      ).toBe(412);
    });

    test('concurrent conditional creates with one query make one resource', async () => {
      const query = 'identifier=https://example.org/mrn|cc-race';
      const results = await Promise.all(
        Array.from({ length: 8 }, () =>
          repo.create(minimalPatient('Cond', 'Race', { identifier: identifier('cc-race') }), { ifNoneExist: query }),
        ),
      );
      expect(new Set(results.map((r) => r.resource.id)).size).toBe(1);
      expect(results.filter((r) => r.outcome === 'created')).toHaveLength(1);
    });

    test('a malformed or empty If-None-Exist query is 400', async () => {
      expect(await rejectionStatus(repo.create(minimalPatient('A', 'B'), { ifNoneExist: 'nonsense=1' }))).toBe(400);
      expect(await rejectionStatus(repo.create(minimalPatient('A', 'B'), { ifNoneExist: '' }))).toBe(400);
    });
  });

  describe('patch', () => {
    test('a JSON Patch is applied, validated and stored as the next version', async () => {
      const { resource } = await repo.create(minimalPatient('Patch', 'Pat'));
      const patched = await repo.patch<Patient>('Patient', resource.id!, [
        { op: 'test', path: '/name/0/family', value: 'Patch' },
        { op: 'replace', path: '/name/0/family', value: 'Patched' },
        { op: 'add', path: '/active', value: true },
      ]);
      expect(patched.name?.[0]?.family).toBe('Patched');
      expect(patched.meta?.versionId).toBe('2');
      expect(await repo.read('Patient', resource.id!)).toEqual(patched);
    });

    test('patches to id or resourceType are 400; meta.versionId/lastUpdated written by a patch are recomputed', async () => {
      const { resource } = await repo.create(minimalPatient('Patch', 'Meta'));
      expect(await rejectionStatus(repo.patch('Patient', resource.id!, [{ op: 'replace', path: '/id', value: 'other' }]))).toBe(400);
      expect(
        await rejectionStatus(repo.patch('Patient', resource.id!, [{ op: 'replace', path: '/resourceType', value: 'Practitioner' }])),
      ).toBe(400);
      const patched = await repo.patch('Patient', resource.id!, [{ op: 'replace', path: '/meta/versionId', value: '99' }]);
      expect(patched.meta?.versionId).toBe('2');
    });

    test('a failed test op is 422, a malformed patch 400, an invalid result 400, If-Match honoured', async () => {
      const { resource } = await repo.create(minimalPatient('Patch', 'Fail'));
      const id = resource.id!;
      expect(await rejectionStatus(repo.patch('Patient', id, [{ op: 'test', path: '/name/0/family', value: 'Other' }]))).toBe(422);
      expect(await rejectionStatus(repo.patch('Patient', id, [{ op: 'remove', path: '/nothing/here' }]))).toBe(400);
      expect(await rejectionStatus(repo.patch('Patient', id, [{ op: 'add', path: '/gender', value: 'robot' }]))).toBe(400);
      expect(await rejectionStatus(repo.patch('Patient', id, [{ op: 'add', path: '/active', value: true }], { ifMatch: '7' }))).toBe(412);
      expect(await rejectionStatus(repo.patch('Patient', 'missing-one', [{ op: 'add', path: '/active', value: true }]))).toBe(404);
      expect((await repo.read('Patient', id)).meta?.versionId).toBe('1');
    });
  });

  describe('delete', () => {
    test('delete records a deletion version; read is 410, vread of the deletion 410, of version 1 fine', async () => {
      const { resource } = await repo.create(minimalPatient('Delete', 'Dee'));
      await repo.delete('Patient', resource.id!);
      expect(await rejectionStatus(repo.read('Patient', resource.id!))).toBe(410);
      expect(await rejectionStatus(repo.vread('Patient', resource.id!, '2'))).toBe(410);
      expect(await repo.vread('Patient', resource.id!, '1')).toEqual(resource);
      expect(await versionRows('Patient', resource.id!)).toEqual([
        { version_id: 1, current: false, deleted: false },
        { version_id: 2, current: true, deleted: true },
      ]);
      expect(await outboxKinds('Patient', resource.id!)).toEqual(['create:1', 'delete:2']);
    });

    test('deleting an already deleted resource succeeds without writing; an absent one is 404', async () => {
      expect(await rejectionStatus(repo.delete('Patient', 'never-there'))).toBe(404);
      const { resource } = await repo.create(minimalPatient('Delete', 'Twice'));
      await repo.delete('Patient', resource.id!);
      await repo.delete('Patient', resource.id!);
      expect(await versionRows('Patient', resource.id!)).toHaveLength(2);
    });

    test('delete honours If-Match, and an update after delete brings the resource back', async () => {
      const { resource } = await repo.create(minimalPatient('Delete', 'Back'));
      expect(await rejectionStatus(repo.delete('Patient', resource.id!, { ifMatch: '5' }))).toBe(412);
      await repo.delete('Patient', resource.id!, { ifMatch: '1' });
      const back = await repo.update(resource);
      expect(back.outcome).toBe('created');
      expect(back.resource.meta?.versionId).toBe('3');
    });
  });

  describe('transaction', () => {
    test('everything inside sees its own writes and commits together', async () => {
      const ids = await repo.transaction(async (tx) => {
        const { resource: patient } = await tx.create(minimalPatient('Tx', 'Together'));
        const { resource: obs } = await tx.create(minimalObservation(patient.id!, '1234-5', '2024-01-01'));
        await tx.update({ ...patient, active: true });
        expect((await tx.read('Patient', patient.id!)).meta?.versionId).toBe('2');
        const found = await tx.search('Observation', new URLSearchParams({ subject: `Patient/${patient.id}` }));
        expect(found.matches.map((m) => m.id)).toEqual([obs.id]);
        const nested = await tx.transaction(async (inner) => inner.read('Observation', obs.id!));
        expect(nested.id).toBe(obs.id);
        return { patient: patient.id!, obs: obs.id! };
      });
      expect((await repo.read('Patient', ids.patient)).meta?.versionId).toBe('2');
      await expect(repo.read('Observation', ids.obs)).resolves.toBeDefined();
    });

    test('if the function throws nothing is written', async () => {
      let patientId = '';
      await expect(
        repo.transaction(async (tx) => {
          const { resource } = await tx.create(minimalPatient('Tx', 'Rollback'));
          patientId = resource.id!;
          await tx.create(minimalObservation(patientId, '1234-5', '2024-01-01'));
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await rejectionStatus(repo.read('Patient', patientId))).toBe(404);
      expect(await outboxKinds('Patient', patientId)).toEqual([]);
      const { rows } = await store.db.query<{ n: number }>(
        sql`SELECT count(*)::int AS n FROM search_reference WHERE reference = ${`Patient/${patientId}`}`,
      );
      expect(rows[0]!.n).toBe(0);
    });

    test('a failed write inside a transaction leaves the transaction usable', async () => {
      const id = await repo.transaction(async (tx) => {
        const { resource } = await tx.create(minimalPatient('Tx', 'Survivor'));
        expect(await rejectionStatus(tx.update({ ...resource }, { ifMatch: '9' }))).toBe(412);
        expect(await rejectionStatus(tx.create(minimalPatient('Tx', 'Dup'), { id: resource.id! }))).toBe(409);
        await tx.update({ ...resource, active: true });
        return resource.id!;
      });
      expect((await repo.read('Patient', id)).meta?.versionId).toBe('2');
    });
  });
});
