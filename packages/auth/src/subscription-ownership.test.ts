import { OperationOutcomeError } from '@medplum/core';
import type { Subscription } from '@medplum/fhirtypes';
import { assertSubscriptionWrite, ownedSubscriptions, SUBSCRIPTION_OWNER_URL, subscriptionOwner } from './subscription-ownership';

const subscription = (owner?: string): Subscription => ({
  resourceType: 'Subscription',
  status: 'requested',
  reason: 'Referrals for the clinic',
  criteria: 'https://carecircle.dev/fhir/SubscriptionTopic/referral',
  channel: { type: 'rest-hook', endpoint: 'https://clinic.example/hook' },
  ...(owner ? { extension: [{ url: SUBSCRIPTION_OWNER_URL, valueReference: { reference: owner } }] } : {}),
});

function statusOf(fn: () => void): number | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return err.outcome.id === 'forbidden' ? 403 : err.outcome.id === 'not-found' ? 404 : 400;
    }
    throw err;
  }
}

describe('subscription ownership', () => {
  test('a new subscription is stamped with the creating organization', () => {
    const next = subscription();
    expect(statusOf(() => assertSubscriptionWrite('Organization/clinic', next, undefined))).toBe('ok');
    expect(subscriptionOwner(next)).toBe('Organization/clinic');
  });

  test.each<[string, Subscription | undefined, Subscription | undefined, number | 'ok']>([
    ['claiming another organization', subscription('Organization/other'), undefined, 403],
    ['changing another organization’s subscription', subscription(), subscription('Organization/other'), 404],
    ['deleting another organization’s subscription', undefined, subscription('Organization/other'), 404],
    ['changing its own', subscription(), subscription('Organization/clinic'), 'ok'],
    ['deleting its own', undefined, subscription('Organization/clinic'), 'ok'],
  ])('%s', (_name, next, current, expected) => {
    expect(statusOf(() => assertSubscriptionWrite('Organization/clinic', next, current))).toBe(expected);
  });

  test('visibility is a parameterised condition on the owner extension', () => {
    const { text, values } = ownedSubscriptions("Organization/x' OR true --").render();
    expect(text).not.toContain("x'");
    expect(String(values[0])).toContain(SUBSCRIPTION_OWNER_URL);
  });
});
