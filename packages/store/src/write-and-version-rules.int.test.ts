/**
 * What writes and old versions reveal, for any policy: a write tells a caller no more than a read would (hidden and
 * absent answer alike), an update that creates needs the create interaction, an old version shows only while the
 * current one does, records of what happened are append-only, and every write rule sees a well-formed resource.
 */
import { forbidden, OperationOutcomeError } from '@medplum/core';
import type { AuditEvent, Observation, Resource } from '@medplum/fhirtypes';
import { minimalObservation, minimalPatient, rejectionStatus } from '@carecircle/testing';
import { fullAccess, type AccessPolicy, type Interaction } from './access-policy';
import { createRepository } from './resource-repository';
import { withWriteRules, type WriteRule } from './write-pipeline';
import type { Repository } from './repository';
import { sql } from './sql';
import { openPostgresTestStore, type TestStore } from './testing/test-store';

const SHARE = 'https://carecircle.dev/fhir/CodeSystem/share-category';

/**
 * A partner-like caller: sees only resources tagged with one of `categories` (and every Patient, and deletions, as a
 * practice sees the deletions in its clients' records), may do only `interactions`, and may write anything it sees.
 */
function labelPolicy(categories: string[], interactions: Interaction[]): AccessPolicy {
  return {
    assertInteraction(interaction) {
      if (!interactions.includes(interaction)) {
        throw new OperationOutcomeError(forbidden);
      }
    },
    visibility(resourceType) {
      if (resourceType === 'Patient') {
        return undefined;
      }
      return sql`rv.deleted OR EXISTS (SELECT 1 FROM jsonb_array_elements(COALESCE(rv.content -> 'meta' -> 'tag', '[]'::jsonb)) AS t(tag)
        WHERE t.tag ->> 'system' = ${SHARE} AND t.tag ->> 'code' = ANY(${categories}::text[]))`;
    },
    assertWrite: () => undefined,
  };
}

function tagged(category: string): Resource['meta'] {
  return { tag: [{ system: SHARE, code: category }] };
}

const ALL: Interaction[] = ['read', 'vread', 'search', 'history', 'create', 'update', 'patch', 'delete'];

describe('write and version rules (PostgreSQL)', () => {
  let store: TestStore;
  let admin: Repository;
  let partner: Repository;
  let patientId: string;

  beforeAll(async () => {
    store = await openPostgresTestStore();
    admin = createRepository(store.db, fullAccess);
    partner = createRepository(store.db, labelPolicy(['progress'], ALL));
    patientId = (await admin.create(minimalPatient('Rules', 'Rita'))).resource.id!;
  });
  afterAll(async () => {
    await store.close();
  });

  const observation = (category: string, extra: Partial<Observation> = {}): Observation =>
    minimalObservation(patientId, '1234-5', '2024-01-01', { meta: tagged(category), ...extra });

  describe('hidden and absent answer alike', () => {
    let hidden: Observation;
    beforeAll(async () => {
      hidden = (await admin.create(observation('trauma-history'))).resource;
    });

    test('update, patch and delete of a hidden resource and of an absent id are all 404, If-Match or not', async () => {
      const patch = [{ op: 'replace' as const, path: '/status', value: 'amended' }];
      for (const id of [hidden.id!, 'never-existed']) {
        expect(await rejectionStatus(partner.update({ ...observation('progress'), id }))).toBe(404);
        expect(await rejectionStatus(partner.update({ ...observation('progress'), id }, { ifMatch: 'W/"1"' }))).toBe(404);
        expect(await rejectionStatus(partner.patch('Observation', id, patch))).toBe(404);
        expect(await rejectionStatus(partner.delete('Observation', id))).toBe(404);
        expect(await rejectionStatus(partner.delete('Observation', id, { ifMatch: '1' }))).toBe(404);
      }
      // and nothing was created under the absent id
      expect(await rejectionStatus(admin.read('Observation', 'never-existed'))).toBe(404);
    });

    test('deleting a visible resource twice is 204 both times', async () => {
      const { resource } = await partner.create(observation('progress'));
      await partner.delete('Observation', resource.id!);
      await expect(partner.delete('Observation', resource.id!)).resolves.toBeUndefined();
    });

    test('the operator alone creates with an id of its choosing; deleting an absent id is 404 for it too', async () => {
      const created = await admin.update({ ...observation('progress'), id: 'chosen-by-operator' });
      expect(created.outcome).toBe('created');
      expect(await rejectionStatus(admin.update({ ...observation('progress'), id: 'other-chosen' }, { ifMatch: '1' }))).toBe(412);
      expect(await rejectionStatus(admin.delete('Observation', 'never-existed-either'))).toBe(404);
    });
  });

  describe('an update that creates needs the create interaction', () => {
    test('bringing a deleted resource back is a create: 403 without it, 201 with it', async () => {
      const { resource } = await admin.create(observation('progress'));
      await admin.delete('Observation', resource.id!);
      const updateOnly = createRepository(store.db, labelPolicy(['progress'], ['read', 'update']));
      expect(await rejectionStatus(updateOnly.update(resource))).toBe(403);
      const revived = await partner.update(resource);
      expect(revived.outcome).toBe('created');
    });

    test('an update of a live resource needs only update', async () => {
      const { resource } = await admin.create(observation('progress'));
      const updateOnly = createRepository(store.db, labelPolicy(['progress'], ['read', 'update']));
      await expect(updateOnly.update({ ...resource, status: 'amended' })).resolves.toMatchObject({ outcome: 'updated' });
    });
  });

  describe('old versions follow the current one', () => {
    test('a resource that became more sensitive hides its past: vread, instance, type and system history', async () => {
      const { resource: v1 } = await admin.create(observation('progress'));
      expect((await partner.vread('Observation', v1.id!, '1')).id).toBe(v1.id);
      await admin.update({ ...v1, meta: tagged('trauma-history') });

      expect(await rejectionStatus(partner.read('Observation', v1.id!))).toBe(404);
      expect(await rejectionStatus(partner.vread('Observation', v1.id!, '1'))).toBe(404);
      expect(await rejectionStatus(partner.history('Observation', v1.id!, new URLSearchParams()))).toBe(404);
      const typeHistory = await partner.history('Observation', undefined, new URLSearchParams('_count=1000'));
      expect(typeHistory.entries.map((e) => e.id)).not.toContain(v1.id);
      const system = await partner.history(undefined, undefined, new URLSearchParams('_count=1000'));
      expect(system.entries.map((e) => e.id)).not.toContain(v1.id);
      // the operator still sees everything
      expect((await admin.vread('Observation', v1.id!, '1')).id).toBe(v1.id);
    });

    test('a version the caller may not see stays hidden after the resource became visible', async () => {
      const { resource: v1 } = await admin.create(observation('trauma-history'));
      await admin.update({ ...v1, meta: tagged('progress') });
      expect(await rejectionStatus(partner.vread('Observation', v1.id!, '1'))).toBe(404);
      expect((await partner.vread('Observation', v1.id!, '2')).meta?.versionId).toBe('2');
      const history = await partner.history('Observation', v1.id!, new URLSearchParams());
      expect(history.entries.map((e) => e.versionId)).toEqual(['2']);
    });

    test('while both are visible, the whole history shows', async () => {
      const { resource: v1 } = await admin.create(observation('progress'));
      await admin.update({ ...v1, status: 'amended' });
      expect((await partner.vread<Observation>('Observation', v1.id!, '1')).status).toBe('final');
      const history = await partner.history('Observation', v1.id!, new URLSearchParams());
      expect(history.entries.map((e) => e.versionId)).toEqual(['2', '1']);
    });
  });

  describe('records of what happened are append-only', () => {
    test('AuditEvent and Provenance: create and read, never update, patch or delete, whoever asks (405)', async () => {
      const event: AuditEvent = {
        resourceType: 'AuditEvent',
        type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' },
        recorded: '2024-01-01T00:00:00Z',
        agent: [{ requestor: true, who: { display: 'operator' } }],
        source: { observer: { display: 'CareCircle' } },
      };
      const { resource } = await admin.create(event);
      expect(await rejectionStatus(admin.update({ ...resource, outcome: '4' }))).toBe(405);
      expect(await rejectionStatus(admin.patch('AuditEvent', resource.id!, [{ op: 'add', path: '/outcome', value: '4' }]))).toBe(405);
      expect(await rejectionStatus(admin.delete('AuditEvent', resource.id!))).toBe(405);
      expect(await rejectionStatus(admin.delete('Provenance', 'any'))).toBe(405);
      expect((await admin.read('AuditEvent', resource.id!)).meta?.versionId).toBe('1');
    });
  });

  describe('bringing a deleted resource back', () => {
    test('the policy and the rules judge it against its last live version, and the rules are told it revives', async () => {
      const seen: { current: string | undefined; revives: boolean | undefined }[] = [];
      const judged: (string | undefined)[] = [];
      const rule: WriteRule = (_next, current, _tx, write) => {
        seen.push({ current: current?.meta?.versionId, revives: write?.revives });
      };
      const policy: AccessPolicy = { ...fullAccess, assertWrite: (_i, _next, current) => void judged.push(current?.meta?.versionId) };
      const repo = createRepository(store.db, policy, { writes: withWriteRules([rule], undefined) });
      const { resource } = await repo.create(observation('progress'));
      await repo.update({ ...resource, status: 'amended' });
      await repo.delete('Observation', resource.id!);
      await repo.delete('Observation', resource.id!);
      const { outcome } = await repo.update({ ...resource, status: 'final' });
      expect(outcome).toBe('created');
      expect(seen).toEqual([
        { current: undefined, revives: false },
        { current: '1', revives: false },
        { current: '2', revives: true },
      ]);
      expect(judged).toEqual([undefined, '1', '2', '2']);
    });
  });

  describe('inserts made alongside the version', () => {
    const marks = async (id: string): Promise<unknown[]> =>
      (await store.db.query(sql`SELECT custodian FROM note_record WHERE resource_type = 'Observation' AND id = ${id}`)).rows;

    test('are written by the version statement: committed with the version, and not at all when the write fails after them', async () => {
      const mark: WriteRule = (next, _current, _tx, write) => {
        write?.alongside(sql`INSERT INTO note_record (resource_type, id, custodian) VALUES ('Observation', ${next.id ?? ''}, 'alongside')`);
      };
      // Refuses an amended Observation after the first rule asked for its insert.
      const refuseAmended: WriteRule = (next) => {
        if ((next as Observation).status === 'amended') {
          throw new OperationOutcomeError(forbidden);
        }
      };
      const repo = createRepository(store.db, fullAccess, { writes: withWriteRules([mark, refuseAmended], undefined) });
      const { resource } = await repo.create(observation('progress'));
      expect(await marks(resource.id!)).toEqual([{ custodian: 'alongside' }]);

      const refused = (await admin.create(observation('progress'))).resource;
      expect(await rejectionStatus(repo.update({ ...refused, status: 'amended' }))).toBe(403);
      expect(await marks(refused.id!)).toEqual([]);
    });
  });

  describe('input checks', () => {
    test('write rules run only on resources that passed the structural validation', async () => {
      const seen: string[] = [];
      // A rule written for well-formed input, as every rule is: it would throw a TypeError on `tag: "x"`.
      const readsTags: WriteRule = (next) => {
        seen.push(next.meta?.tag?.map((t) => t.code).join(',') ?? '');
      };
      const repo = createRepository(store.db, fullAccess, { writes: withWriteRules([readsTags], undefined) });
      const malformed = { ...observation('progress'), meta: { tag: 'progress' } } as unknown as Observation;
      expect(await rejectionStatus(repo.create(malformed))).toBe(400);
      expect(await rejectionStatus(repo.create({ ...observation('progress'), category: 'referral' } as unknown as Observation))).toBe(400);
      expect(seen).toEqual([]);
      await repo.create(observation('progress'));
      expect(seen).toEqual(['progress']);
    });

    test('what a write rule changes beyond the share labels is validated again (a rule cannot store invalid R4)', async () => {
      const breaksStatus: WriteRule = (next) => {
        (next as Observation).status = 'not-a-status' as Observation['status'];
      };
      const labels: WriteRule = (next) => {
        next.meta = { ...next.meta, security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] };
      };
      expect(await rejectionStatus(createRepository(store.db, fullAccess, { writes: withWriteRules([breaksStatus], undefined) }).create(observation('progress')))).toBe(400);
      const { resource } = await createRepository(store.db, fullAccess, { writes: withWriteRules([labels], undefined) }).create(observation('progress'));
      expect(resource.meta?.security?.[0]?.code).toBe('R');
    });

    // (URLSearchParams already turns unpaired surrogates into U+FFFD, so NUL is what can reach a search.)
    test('NUL in search values is 400, never a database error', async () => {
      for (const query of ['code=%00', '_id=%00', 'subject=Patient/a%00', 'code:not=a%00b']) {
        expect(await rejectionStatus(admin.search('Observation', new URLSearchParams(query)))).toBe(400);
      }
      expect(await rejectionStatus(admin.search('Patient', new URLSearchParams([['name:contains', '\u0000']])))).toBe(400);
      expect(await rejectionStatus(admin.create(observation('progress'), { ifNoneExist: 'code=%00' }))).toBe(400);
    });

    test('values longer than the index keeps still find themselves (string prefix, exact, token)', async () => {
      const family = `Long${'a'.repeat(1500)}`;
      const code = `c${'9'.repeat(700)}`;
      const { resource } = await admin.create(
        minimalPatient(family, 'Lou', { identifier: [{ system: 'https://ids.example', value: code }] }),
      );
      const find = async (name: string, value: string) =>
        (await admin.search('Patient', new URLSearchParams([[name, value]]))).matches.map((p) => p.id);
      expect(await find('family', family)).toEqual([resource.id]);
      expect(await find('family:exact', family)).toEqual([resource.id]);
      expect(await find('identifier', `https://ids.example|${code}`)).toEqual([resource.id]);
      expect(await find('identifier', code)).toEqual([resource.id]);
    });
  });
});
