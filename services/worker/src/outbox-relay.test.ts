import { SUBSCRIPTION_TOPICS } from '@carecircle/notify';
import { hasOutboxEvents } from '@carecircle/store';

describe('what the outbox relay can be handed', () => {
  test('every type a subscription topic triggers on, and Subscription itself, has outbox events', () => {
    const watched = new Set(['Subscription', ...SUBSCRIPTION_TOPICS.flatMap((topic) => topic.triggers.map((t) => t.resourceType))]);
    expect(watched.size).toBeGreaterThan(1);
    expect([...watched].filter((type) => !hasOutboxEvents(type))).toEqual([]);
  });

  test('the server\'s own AuditEvents are kept out of the outbox', () => {
    expect(hasOutboxEvents('AuditEvent')).toBe(false);
    expect(hasOutboxEvents('Observation')).toBe(true);
  });
});
