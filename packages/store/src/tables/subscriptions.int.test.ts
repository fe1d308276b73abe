import type { Subscription } from '@medplum/fhirtypes';
import { fullAccess } from '../access-policy';
import { createRepository } from '../resource-repository';
import { openPgliteTestStore, openPostgresTestStore, type TestStore } from '../testing/test-store';
import {
  acquireDeliveryLease,
  readDeliveryState,
  readSubscriptionEvent,
  recordSubscriptionEvents,
  releaseDeliveryLease,
  settleSubscriptionEvent,
} from './subscription-events';
import {
  countSubscriptionsByStatus,
  deleteSubscriptionSecret,
  findReceivingSubscriptions,
  hasSubscriptionSecret,
  isSubscriptionReceiving,
  readSubscriptionSecret,
  storeSubscriptionSecret,
} from './subscriptions';

const TOPIC = 'https://carecircle.dev/fhir/SubscriptionTopic/referral';

function subscription(status: Subscription['status']): Subscription {
  return { resourceType: 'Subscription', status, reason: 'test', criteria: TOPIC, channel: { type: 'rest-hook', endpoint: 'https://example.org/hook' } };
}

describe.each([
  ['PostgreSQL', openPostgresTestStore],
  ['PGlite', openPgliteTestStore],
])('subscription tables on %s', (_name, open) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store.close();
  });

  test('a secret is stored, replaced, read and forgotten', async () => {
    await storeSubscriptionSecret(store.db, 'sub-secret', 'first');
    await storeSubscriptionSecret(store.db, 'sub-secret', 'second');
    expect(await hasSubscriptionSecret(store.db, 'sub-secret')).toBe(true);
    expect(await readSubscriptionSecret(store.db, 'sub-secret')).toBe('second');
    await deleteSubscriptionSecret(store.db, 'sub-secret');
    expect(await readSubscriptionSecret(store.db, 'sub-secret')).toBeUndefined();
  });

  test('an active subscription receives and is counted; an error reached from requested does not receive', async () => {
    const repository = createRepository(store.db, fullAccess);
    const { resource: active } = await repository.create(subscription('active'));
    const { resource: failed } = await repository.create(subscription('requested'));
    await repository.update({ ...failed, status: 'error' });
    expect(await isSubscriptionReceiving(store.db, active.id ?? '')).toBe(true);
    expect(await isSubscriptionReceiving(store.db, failed.id ?? '')).toBe(false);
    expect((await findReceivingSubscriptions(store.db, TOPIC)).map((s) => s.id)).toEqual([active.id]);
    expect(await countSubscriptionsByStatus(store.db)).toEqual({ requested: 0, active: 1, error: 1, off: 0 });
  });

  test('events are numbered once per outbox event, an overtaken version is folded, and the lease holder settles', async () => {
    const change = { kind: 'update' as const, resourceType: 'Task', resourceId: 't1', occurredAt: Date.now() };
    const first = await recordSubscriptionEvents(store.db, ['sub-a'], { ...change, eventId: '00000000-0000-4000-8000-000000000001', versionId: 2 });
    const again = await recordSubscriptionEvents(store.db, ['sub-a'], { ...change, eventId: '00000000-0000-4000-8000-000000000001', versionId: 2 });
    const older = await recordSubscriptionEvents(store.db, ['sub-a'], { ...change, eventId: '00000000-0000-4000-8000-000000000002', versionId: 1 });
    expect([first.get('sub-a'), again.get('sub-a'), older.get('sub-a')]).toEqual([1, 1, undefined]);
    expect(await readDeliveryState(store.db, 'sub-a')).toEqual({ lastEventNumber: 1, deliveredThrough: 0, consecutiveFailures: 0 });

    expect(await acquireDeliveryLease(store.db, 'sub-a', 'owner-1', 5000)).toEqual({ lastEventNumber: 1, deliveredThrough: 0, consecutiveFailures: 0 });
    expect(await acquireDeliveryLease(store.db, 'sub-a', 'owner-2', 5000)).toBeUndefined();
    expect(await settleSubscriptionEvent(store.db, 'sub-a', 'owner-2', 1, 'delivered', 5000)).toBe(false);
    expect(await settleSubscriptionEvent(store.db, 'sub-a', 'owner-1', 1, 'delivered', 5000)).toBe(true);
    await releaseDeliveryLease(store.db, 'sub-a', 'owner-1');
    expect(await readSubscriptionEvent(store.db, 'sub-a', 1)).toMatchObject({ outcome: 'delivered', attempts: 1, versionId: 2 });
  });
});
