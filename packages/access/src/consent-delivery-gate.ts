/**
 * The delivery gate for notifications (DESIGN.md: queued notifications are checked again at delivery): a subscriber
 * learns of a resource only if its organization may read it at that moment — as the client's custodian, or under a
 * consent in force now. Reading it through the subscriber's own policy also files the disclosure in the audit trail,
 * exactly as a read over the API would.
 */
import { subscriptionOwner, type OrganizationReference } from '@carecircle/auth';
import { DEFAULT_PURPOSE } from '@carecircle/consent';
import { OperationOutcomeError } from '@carecircle/fhir';
import type { DeliveryGate } from '@carecircle/notify';
import { createRepository, type Database } from '@carecircle/store';
import { callerPolicy, type AccessSettings } from './caller-repository';

/** The gate the worker asks before it sends anything about `focus` to a subscription's endpoint. */
export function createConsentDeliveryGate(db: Database, settings: AccessSettings): DeliveryGate {
  return async (subscription, focus) => {
    const owner = subscriptionOwner(subscription);
    if (!owner?.startsWith('Organization/')) {
      return 'withhold';
    }
    const caller = {
      kind: 'system' as const,
      clientId: `subscription/${subscription.id}`,
      organization: owner as OrganizationReference,
      scope: 'system/*.rs',
    };
    const policy = await callerPolicy(db, settings, caller, DEFAULT_PURPOSE, `subscription-${subscription.id}`);
    try {
      await createRepository(db, policy).read(focus.resourceType, focus.id);
      return 'deliver';
    } catch (err) {
      if (err instanceof OperationOutcomeError) {
        return 'withhold';
      }
      throw err;
    }
  };
}
