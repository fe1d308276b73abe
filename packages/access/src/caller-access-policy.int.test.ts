import type { Caller } from '@carecircle/auth';
import { OperationOutcomeError } from '@carecircle/fhir';
import type { Observation, Patient, Resource } from '@medplum/fhirtypes';
import { createRepository, migrate, openDatabase, sql, type AccessPolicy, type Database } from '@carecircle/store';
import { createTestDatabase, type TestDatabase } from '@carecircle/testing';
import { createAccessPolicy } from './caller-access-policy';

const practiceA: Caller = { kind: 'system', clientId: 'sys-a', organization: 'Organization/a', scope: 'system/*.cruds' };
const practitionerB: Caller = {
  kind: 'practitioner',
  clientId: 'app',
  userId: 'u-b',
  fhirUser: 'Practitioner/pr-b',
  organization: 'Organization/b',
  scope: 'user/*.cruds',
};
const partnerC: Caller = { kind: 'system', clientId: 'sys-c', organization: 'Organization/c', scope: 'system/*.cruds' };
const clientPa1: Caller = { kind: 'patient', clientId: 'app', userId: 'u-pa1', fhirUser: 'Patient/pa1', scope: 'patient/*.cruds' };

const patient = (id: string, org: string | undefined): Patient => ({
  resourceType: 'Patient',
  id,
  ...(org ? { managingOrganization: { reference: org } } : {}),
});
const observation = (id: string, patientId: string | undefined, tag?: string): Observation => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { text: 'x' },
  ...(patientId ? { subject: { reference: `Patient/${patientId}` } } : {}),
  ...(tag ? { meta: { tag: [{ system: 'https://carecircle.dev/fhir/CodeSystem/share-category', code: tag }] } } : {}),
});

describe('custodianship over stored rows (PostgreSQL)', () => {
  let database: TestDatabase;
  let db: Database;

  /** Stores the next version of a resource the way the repository does: supersedes the current row, appends one. */
  async function put(resource: Resource, compartments: string[]): Promise<void> {
    await db.transaction(async (tx) => {
      const { rows } = await tx.query<{ v: number }>(sql`
        UPDATE resource_version SET superseded_xid = pg_current_xact_id()
        WHERE resource_type = ${resource.resourceType} AND id = ${resource.id} AND superseded_xid IS NULL
        RETURNING version_id AS v`);
      const version = (rows[0]?.v ?? 0) + 1;
      await tx.query(sql`
        INSERT INTO resource_version (resource_type, id, version_id, last_updated, content, compartments)
        VALUES (${resource.resourceType}, ${resource.id}, ${version}, now(), ${JSON.stringify(resource)}::jsonb, ${compartments}::text[])`);
    });
  }

  async function remove(resourceType: string, id: string, compartments: string[]): Promise<void> {
    await db.transaction(async (tx) => {
      const { rows } = await tx.query<{ v: number }>(sql`
        UPDATE resource_version SET superseded_xid = pg_current_xact_id()
        WHERE resource_type = ${resourceType} AND id = ${id} AND superseded_xid IS NULL RETURNING version_id AS v`);
      await tx.query(sql`
        INSERT INTO resource_version (resource_type, id, version_id, last_updated, deleted, compartments)
        VALUES (${resourceType}, ${id}, ${(rows[0]?.v ?? 0) + 1}, now(), true, ${compartments}::text[])`);
    });
  }

  /** What a caller sees of a type: current versions (including deletions, which answer 410), as `id` or `id(deleted)`. */
  async function visible(caller: Caller, resourceType: string): Promise<string[]> {
    const condition = createAccessPolicy(caller).visibility(resourceType) ?? sql`TRUE`;
    const { rows } = await db.query<{ id: string; deleted: boolean }>(sql`
      SELECT rv.id, rv.deleted FROM resource_version rv
      WHERE rv.resource_type = ${resourceType} AND rv.superseded_xid IS NULL AND ${condition}
      ORDER BY rv.id`);
    return rows.map((r) => (r.deleted ? `${r.id}(deleted)` : r.id));
  }

  async function history(caller: Caller, resourceType: string, id: string): Promise<number> {
    const condition = createAccessPolicy(caller).visibility(resourceType) ?? sql`TRUE`;
    const { rows } = await db.query(sql`
      SELECT 1 FROM resource_version rv WHERE rv.resource_type = ${resourceType} AND rv.id = ${id} AND ${condition}`);
    return rows.length;
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    db = await openDatabase({ databaseUrl: database.url, maxConnections: 4 });
    await migrate(db);
    await put(patient('pa1', 'Organization/a'), ['Patient/pa1']);
    await put(patient('pa2', 'Organization/a'), ['Patient/pa2']);
    await put(patient('pb1', 'Organization/b'), ['Patient/pb1']);
    await put(patient('moved', 'Organization/b'), ['Patient/moved']);
    await put(patient('moved', 'Organization/a'), ['Patient/moved']);
    await put(observation('obs-a1', 'pa1'), ['Patient/pa1']);
    await put(observation('note-a1', 'pa1', 'psychotherapy-notes'), ['Patient/pa1']);
    await put(observation('obs-a2', 'pa2'), ['Patient/pa2']);
    await put(observation('obs-b1', 'pb1'), ['Patient/pb1']);
    await put(observation('obs-moved', 'moved'), ['Patient/moved']);
    await put(observation('obs-nobody', undefined), []);
    await put({ resourceType: 'Organization', id: 'a', name: 'Practice A' }, []);
    await remove('Patient', 'pa2', ['Patient/pa2']);
    await remove('Observation', 'obs-a1-gone', ['Patient/pa1']);
  });
  afterAll(async () => {
    await db.close();
    await database.drop();
  });

  test.each<[string, Caller, string, string[]]>([
    ['practice A sees its patients, incl. one moved to it and its deleted one', practiceA, 'Patient', ['moved', 'pa1', 'pa2(deleted)']],
    ['practice A sees its patients\' compartments', practiceA, 'Observation', ['note-a1', 'obs-a1', 'obs-a1-gone(deleted)', 'obs-a2', 'obs-moved']],
    ['practice B no longer sees the patient that moved away', practitionerB, 'Patient', ['pb1']],
    ['practice B sees only its compartments (no cross-practice read)', practitionerB, 'Observation', ['obs-b1']],
    ['a partner without consent sees no client data', partnerC, 'Observation', []],
    ['a partner without consent sees no patients', partnerC, 'Patient', []],
    ['a client sees only the own Patient', clientPa1, 'Patient', ['pa1']],
    ['a client sees the own compartment except psychotherapy notes', clientPa1, 'Observation', ['obs-a1', 'obs-a1-gone(deleted)']],
    ['everyone sees the directory', partnerC, 'Organization', ['a']],
    ['the admin sees everything', { kind: 'admin' }, 'Observation', ['note-a1', 'obs-a1', 'obs-a1-gone(deleted)', 'obs-a2', 'obs-b1', 'obs-moved', 'obs-nobody']],
  ])('%s', async (_name, caller, type, expected) => {
    expect((await visible(caller, type)).sort()).toEqual([...expected].sort());
  });

  test('history follows the current custodian: the new one sees old versions, the old one sees none', async () => {
    expect(await history(practiceA, 'Patient', 'moved')).toBe(2);
    expect(await history(practitionerB, 'Patient', 'moved')).toBe(0);
  });

  describe('practice writes', () => {
    async function writeStatus(
      policy: AccessPolicy,
      interaction: 'create' | 'update' | 'delete',
      next: Resource | undefined,
      current?: Resource,
    ): Promise<number | 'ok'> {
      try {
        await policy.assertWrite(interaction, next, current, db);
        return 'ok';
      } catch (err) {
        if (err instanceof OperationOutcomeError) {
          return err.outcome.id === 'forbidden' ? 403 : err.outcome.id === 'not-found' ? 404 : 500;
        }
        throw err;
      }
    }

    test('a new Patient without managingOrganization becomes the practice\'s own', async () => {
      const next = patient('new-1', undefined);
      expect(await writeStatus(createAccessPolicy(practiceA), 'create', next)).toBe('ok');
      expect(next.managingOrganization).toEqual({ reference: 'Organization/a' });
    });

    test.each<[string, 'create' | 'update' | 'delete', Resource | undefined, Resource | undefined, number | 'ok']>([
      ['creating a Patient for another organization', 'create', patient('new-2', 'Organization/b'), undefined, 403],
      ['moving its Patient to another organization', 'update', patient('pa1', 'Organization/b'), patient('pa1', 'Organization/a'), 403],
      ['updating another practice\'s Patient', 'update', patient('pb1', 'Organization/a'), patient('pb1', 'Organization/b'), 404],
      ['recording an Observation for its client', 'create', observation('o1', 'pa1'), undefined, 'ok'],
      ['recording an Observation for another practice\'s client', 'create', observation('o2', 'pb1'), undefined, 403],
      ['recording an Observation about nobody', 'create', observation('o3', undefined), undefined, 403],
      ['moving an Observation to another practice\'s client', 'update', observation('obs-a1', 'pb1'), observation('obs-a1', 'pa1'), 403],
      ['changing another practice\'s Observation', 'update', observation('obs-b1', 'pa1'), observation('obs-b1', 'pb1'), 404],
      ['deleting its Observation', 'delete', undefined, observation('obs-a1', 'pa1'), 'ok'],
      ['writing directory resources (admin only for now)', 'create', { resourceType: 'Organization', id: 'z' }, undefined, 403],
    ])('%s -> %s', async (_name, interaction, next, current, expected) => {
      expect(await writeStatus(createAccessPolicy(practiceA), interaction, next, current)).toBe(expected);
    });

    test('a transaction may create a Patient and its first resources together', async () => {
      const repository = createRepository(db, createAccessPolicy(practiceA));
      await repository.transaction(async (tx) => {
        // Server-assigned ids: only the operator may create with ids of its choosing.
        const created = await tx.create<Patient>({ resourceType: 'Patient', managingOrganization: { reference: 'Organization/a' } });
        await tx.create<Observation>({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${created.resource.id}` } });
      });
      // Outside that transaction, a Patient nobody committed is no one's: writing about it is refused.
      expect(await writeStatus(createAccessPolicy(practiceA), 'create', observation('o-other', 'never-created'))).toBe(403);
    });
  });
});
