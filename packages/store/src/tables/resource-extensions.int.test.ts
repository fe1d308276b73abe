import { minimalPatient } from '@carecircle/testing';
import { fullAccess } from '../access-policy';
import { createRepository } from '../resource-repository';
import { sql } from '../sql';
import { openPostgresTestStore, type TestStore } from '../testing/test-store';
import { hasExtensionReference } from './resource-extensions';

const OWNER_URL = 'https://carecircle.dev/fhir/StructureDefinition/test-owner';

describe('conditions on extensions', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await openPostgresTestStore();
  });
  afterAll(async () => {
    await store.close();
  });

  test('match the versions whose extension names exactly that reference, with the reference as a parameter', async () => {
    const repo = createRepository(store.db, fullAccess);
    const owned = minimalPatient('Owned', 'Olive', { extension: [{ url: OWNER_URL, valueReference: { reference: 'Organization/a' } }] });
    const other = minimalPatient('Other', 'Otto', { extension: [{ url: OWNER_URL, valueReference: { reference: 'Organization/b' } }] });
    const { resource: mine } = await repo.create(owned);
    await repo.create(other);
    await repo.create(minimalPatient('None', 'Nia'));

    const condition = hasExtensionReference(OWNER_URL, 'Organization/a');
    const { rows } = await store.db.query<{ id: string }>(sql`
      SELECT rv.id FROM resource_version rv WHERE rv.resource_type = 'Patient' AND ${condition}`);
    expect(rows.map((r) => r.id)).toEqual([mine.id]);

    const { text, values } = hasExtensionReference(OWNER_URL, "Organization/x' OR true --").render();
    expect(text).not.toContain("x'");
    expect(String(values[0])).toContain(OWNER_URL);
  });
});
