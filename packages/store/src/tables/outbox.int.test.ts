import type { AuditEvent, Organization } from '@medplum/fhirtypes';
import { fullAccess } from '../access-policy';
import { createRepository } from '../resource-repository';
import { sql } from '../sql';
import { openPgliteTestStore, openPostgresTestStore, type TestStore } from '../testing/test-store';
import { withOriginRequestId } from '../write-origin';
import { claimPendingOutboxEvents, handBackUnmatchedOutboxEvents, markOutboxEventMatched, markOutboxEventsRelayed } from './outbox';

describe.each([
  ['PostgreSQL', openPostgresTestStore],
  ['PGlite', openPgliteTestStore],
])('outbox rows on %s', (_name, open) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store.close();
  });

  test('a write is claimed once with its request id, marked relayed, handed back while unmatched, and matched once', async () => {
    const repository = createRepository(store.db, fullAccess);
    const { resource } = await withOriginRequestId('req-outbox-0001', () =>
      repository.create<Organization>({ resourceType: 'Organization', name: 'Outbox test' }),
    );
    const claimed = await store.db.transaction(async (tx) => {
      const rows = await claimPendingOutboxEvents(tx, 10);
      await markOutboxEventsRelayed(tx, rows.map((r) => r.seq), []);
      return rows;
    });
    expect(claimed).toEqual([
      expect.objectContaining({ kind: 'create', resourceType: 'Organization', resourceId: resource.id, versionId: 1, requestId: 'req-outbox-0001' }),
    ]);
    expect(claimed[0]?.createdMs).toBeGreaterThan(Date.now() - 60_000);
    expect(await claimPendingOutboxEvents(store.db, 10)).toEqual([]);

    // Relayed and not matched: handed back once it is old enough, not before.
    expect(await handBackUnmatchedOutboxEvents(store.db, 60_000, 10)).toBe(0);
    expect(await handBackUnmatchedOutboxEvents(store.db, 0, 10)).toBe(1);
    const again = await claimPendingOutboxEvents(store.db, 10);
    expect(again.map((r) => r.eventId)).toEqual(claimed.map((r) => r.eventId));
    await markOutboxEventsRelayed(store.db, again.map((r) => r.seq), []);
    await markOutboxEventMatched(store.db, again[0]?.eventId ?? '');
    expect(await handBackUnmatchedOutboxEvents(store.db, 0, 10)).toBe(0);
  });

  test('an AuditEvent is stored and indexed with no outbox row; any other write gets its row', async () => {
    const repository = createRepository(store.db, fullAccess);
    const event = await repository.create<AuditEvent>({
      resourceType: 'AuditEvent',
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' },
      recorded: new Date().toISOString(),
      agent: [{ requestor: true, who: { display: 'outbox test' } }],
      source: { observer: { display: 'outbox test' } },
    });
    const written = await repository.create<Organization>({ resourceType: 'Organization', name: 'Outbox row' });
    const { rows } = await store.db.query<{ resource_type: string; resource_id: string }>(
      sql`SELECT resource_type, resource_id FROM outbox WHERE resource_id IN (${event.resource.id}, ${written.resource.id})`,
    );
    expect(rows).toEqual([{ resource_type: 'Organization', resource_id: written.resource.id }]);
    const found = await repository.search('AuditEvent', new URLSearchParams({ _id: event.resource.id ?? '' }));
    expect(found.matches.map((r) => r.id)).toEqual([event.resource.id]);
    const seqs = (await claimPendingOutboxEvents(store.db, 10)).map((r) => r.seq);
    await markOutboxEventsRelayed(store.db, seqs, seqs);
  });

  test('a row marked matched when relayed is never handed back', async () => {
    const repository = createRepository(store.db, fullAccess);
    await repository.create({ resourceType: 'Organization', name: 'No job' });
    const rows = await claimPendingOutboxEvents(store.db, 10);
    expect(rows.map((r) => r.requestId)).toEqual([undefined]);
    await markOutboxEventsRelayed(store.db, rows.map((r) => r.seq), rows.map((r) => r.seq));
    expect(await handBackUnmatchedOutboxEvents(store.db, 0, 10)).toBe(0);
  });
});
