/**
 * Subscriptions belong to the organization whose system or practitioner created them: only it sees, changes or
 * deletes them. The server records the owner in an extension on the Subscription (a writer cannot choose another).
 */
import { forbidden, notFound, OperationOutcomeError } from '@medplum/core';
import type { Extension, Resource, Subscription } from '@medplum/fhirtypes';
import { sql, type Sql } from '@carecircle/store';
import type { OrganizationReference } from './caller';

export const SUBSCRIPTION_OWNER_URL = 'https://carecircle.dev/fhir/StructureDefinition/subscription-owner';

/** The organization that owns `subscription`, if recorded. */
export function subscriptionOwner(subscription: Resource | undefined): string | undefined {
  if (subscription?.resourceType !== 'Subscription') {
    return undefined;
  }
  return subscription.extension?.find((e) => e.url === SUBSCRIPTION_OWNER_URL)?.valueReference?.reference;
}

/** Subscriptions visible to `organization`: its own. */
export function ownedSubscriptions(organization: OrganizationReference): Sql {
  const owner = JSON.stringify([{ url: SUBSCRIPTION_OWNER_URL, valueReference: { reference: organization } }]);
  return sql`COALESCE((rv.content -> 'extension') @> ${owner}::jsonb, false)`;
}

/** Checks a Subscription write by `organization` and stamps it as the owner of the new version. */
export function assertSubscriptionWrite(organization: OrganizationReference, next: Resource | undefined, current: Resource | undefined): void {
  if (current && subscriptionOwner(current) !== organization) {
    throw new OperationOutcomeError(notFound);
  }
  if (!next) {
    return;
  }
  if (next.resourceType !== 'Subscription') {
    throw new OperationOutcomeError(forbidden);
  }
  const claimed = subscriptionOwner(next);
  if (claimed !== undefined && claimed !== organization) {
    throw new OperationOutcomeError(forbidden);
  }
  stampOwner(next, organization);
}

function stampOwner(subscription: Subscription, organization: string): void {
  const others: Extension[] = (subscription.extension ?? []).filter((e) => e.url !== SUBSCRIPTION_OWNER_URL);
  subscription.extension = [...others, { url: SUBSCRIPTION_OWNER_URL, valueReference: { reference: organization } }];
}
