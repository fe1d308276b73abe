import { minimalPatient } from '@carecircle/testing';
import { fullAccess } from './access-policy';
import { createRepository } from './resource-repository';
import { sql } from './sql';
import { openPgliteTestStore, openPostgresTestStore, type TestStore } from './testing/test-store';
import { withOriginRequestId } from './write-origin';

describe.each([
  ['PostgreSQL', openPostgresTestStore],
  ['PGlite', openPgliteTestStore],
])('write origin and pool use on %s', (_name, open) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store.close();
  });

  test("an outbox event names the request whose write made it; the server's own writes name none", async () => {
    const repo = createRepository(store.db, fullAccess);
    const { resource } = await withOriginRequestId('req-0123456789', () => repo.create(minimalPatient('Origin', 'Ona')));
    await repo.update({ ...resource, active: true });
    const { rows } = await store.db.query<{ version_id: number; request_id: string | null }>(
      sql`SELECT version_id, request_id FROM outbox WHERE resource_id = ${resource.id ?? ''} ORDER BY seq`,
    );
    expect(rows).toEqual([
      { version_id: 1, request_id: 'req-0123456789' },
      { version_id: 2, request_id: null },
    ]);
  });

  test('pool use counts connections idle and busy, and callers waiting', async () => {
    const idle = store.db.poolUse();
    expect(idle.waiting).toBe(0);
    expect(idle.idle).toBe(idle.total);
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const busy = store.db.transaction(async () => held);
    const queued = store.db.kind === 'pglite' ? store.db.query(sql`SELECT 1`) : undefined;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const during = store.db.poolUse();
    expect(during.total - during.idle).toBeGreaterThanOrEqual(1);
    expect(during.waiting).toBe(store.db.kind === 'pglite' ? 1 : 0);
    release();
    await busy;
    await queued;
    expect(store.db.poolUse()).toMatchObject({ idle: store.db.poolUse().total, waiting: 0 });
  });
});
