import type { Subscription } from '@medplum/fhirtypes';
import { thrownStatus } from '@carecircle/testing';
import {
  assertSubscriptionWrite,
  ownedSubscriptions,
  subscriptionCaller,
  SUBSCRIPTION_OWNER_URL,
  SUBSCRIPTION_PRINCIPAL_URL,
  subscriptionOwner,
  type SubscriberCaller,
} from './subscription-ownership';

const clinicSystem: SubscriberCaller = { kind: 'system', clientId: 'clinic-ehr', organization: 'Organization/clinic', scope: 'system/Subscription.cruds system/Task.rs' };

const subscription = (owner?: string): Subscription => ({
  resourceType: 'Subscription',
  status: 'requested',
  reason: 'Referrals for the clinic',
  criteria: 'https://carecircle.dev/fhir/SubscriptionTopic/referral',
  channel: { type: 'rest-hook', endpoint: 'https://clinic.example/hook' },
  ...(owner ? { extension: [{ url: SUBSCRIPTION_OWNER_URL, valueReference: { reference: owner } }] } : {}),
});

describe('subscription ownership', () => {
  test('a new subscription is stamped with the creating organization, and delivers as the caller that wrote it', () => {
    const next = subscription();
    expect(thrownStatus(() => assertSubscriptionWrite(clinicSystem, next, undefined))).toBe('ok');
    expect(subscriptionOwner(next)).toBe('Organization/clinic');
    expect(subscriptionCaller(next)).toEqual(clinicSystem);
  });

  test('a practitioner is recorded with its user, practitioner and token purposes; a principal sent by the writer is replaced', () => {
    const practitioner: SubscriberCaller = {
      kind: 'practitioner',
      clientId: 'clinic-app',
      userId: 'u-1',
      fhirUser: 'Practitioner/dr-a',
      organization: 'Organization/clinic',
      scope: 'user/Subscription.cruds user/Communication.rs',
      purposes: ['TREAT', 'CAREMGT'],
    };
    const forged: Subscription = {
      ...subscription(),
      extension: [{ url: SUBSCRIPTION_PRINCIPAL_URL, extension: [{ url: 'client', valueString: 'other' }, { url: 'scope', valueString: 'system/*.rs' }] }],
    };
    expect(thrownStatus(() => assertSubscriptionWrite(practitioner, forged, undefined))).toBe('ok');
    expect(forged.extension?.filter((e) => e.url === SUBSCRIPTION_PRINCIPAL_URL)).toHaveLength(1);
    expect(subscriptionCaller(forged)).toEqual(practitioner);
  });

  test('a subscription without a recorded principal delivers as nobody', () => {
    expect(subscriptionCaller(subscription('Organization/clinic'))).toBeUndefined();
  });

  test.each<[string, Subscription | undefined, Subscription | undefined, number | 'ok']>([
    ['claiming another organization', subscription('Organization/other'), undefined, 403],
    ['changing another organization’s subscription', subscription(), subscription('Organization/other'), 404],
    ['deleting another organization’s subscription', undefined, subscription('Organization/other'), 404],
    ['changing its own', subscription(), subscription('Organization/clinic'), 'ok'],
    ['deleting its own', undefined, subscription('Organization/clinic'), 'ok'],
  ])('%s', (_name, next, current, expected) => {
    expect(thrownStatus(() => assertSubscriptionWrite(clinicSystem, next, current))).toBe(expected);
  });

  test('visibility is a parameterised condition on the owner extension', () => {
    const { text, values } = ownedSubscriptions("Organization/x' OR true --").render();
    expect(text).not.toContain("x'");
    expect(String(values[0])).toContain(SUBSCRIPTION_OWNER_URL);
  });
});
