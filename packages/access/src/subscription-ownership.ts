/**
 * Subscriptions belong to the organization whose system or practitioner created them: only it sees, changes or
 * deletes them. The server records the owner in an extension on the Subscription (a writer cannot choose another).
 *
 * A subscription also delivers as whoever last wrote it (its principal, recorded by the server in a second
 * extension): that client (and practitioner), with the scopes and purposes of use of the token it wrote with. What
 * the subscription may carry is what that token could read, and nothing once that client or user is disabled.
 */
import type { Caller, OrganizationReference } from '@carecircle/auth';
import { forbidden, notFound, OperationOutcomeError } from '@carecircle/fhir';
import type { Extension, Resource, Subscription } from '@medplum/fhirtypes';
import { hasExtensionReference, type Sql } from '@carecircle/store';

export const SUBSCRIPTION_OWNER_URL = 'https://carecircle.dev/fhir/StructureDefinition/subscription-owner';
export const SUBSCRIPTION_PRINCIPAL_URL = 'https://carecircle.dev/fhir/StructureDefinition/subscription-principal';

/** A practice's or partner's caller: the only kinds that own subscriptions. */
export type SubscriberCaller = Extract<Caller, { kind: 'system' | 'practitioner' }>;

/**
 * The caller a subscription delivers as: its principal's client, user and grant, in the owning organization. Undefined
 * when either is missing (a subscription written before principals were recorded delivers nothing: fail closed).
 */
export function subscriptionCaller(subscription: Resource | undefined): SubscriberCaller | undefined {
  if (subscription?.resourceType !== 'Subscription') {
    return undefined;
  }
  const owner = subscriptionOwner(subscription);
  const principal = subscription.extension?.find((e) => e.url === SUBSCRIPTION_PRINCIPAL_URL)?.extension ?? [];
  const value = (url: string) => principal.filter((e) => e.url === url);
  const clientId = value('client')[0]?.valueString;
  const scope = value('scope')[0]?.valueString;
  if (!owner?.startsWith('Organization/') || !clientId || scope === undefined) {
    return undefined;
  }
  const organization = owner as OrganizationReference;
  const purposes = value('purpose').flatMap((e) => (e.valueCode ? [e.valueCode] : []));
  const grant = { clientId, organization, scope, ...(purposes.length > 0 ? { purposes } : {}) };
  const userId = value('user')[0]?.valueString;
  const fhirUser = value('practitioner')[0]?.valueReference?.reference;
  if (userId === undefined && fhirUser === undefined) {
    return { kind: 'system', ...grant };
  }
  if (!userId || !fhirUser?.startsWith('Practitioner/')) {
    return undefined;
  }
  return { kind: 'practitioner', userId, fhirUser: fhirUser as `Practitioner/${string}`, ...grant };
}

/** The organization that owns `subscription`, if recorded. */
export function subscriptionOwner(subscription: Resource | undefined): string | undefined {
  if (subscription?.resourceType !== 'Subscription') {
    return undefined;
  }
  return subscription.extension?.find((e) => e.url === SUBSCRIPTION_OWNER_URL)?.valueReference?.reference;
}

/** Subscriptions visible to `organization`: its own. */
export function ownedSubscriptions(organization: OrganizationReference): Sql {
  return hasExtensionReference(SUBSCRIPTION_OWNER_URL, organization);
}

/**
 * Checks a Subscription write by `caller` and stamps the new version with its owner (the caller's organization) and
 * principal (the caller itself; a principal sent by the writer is replaced).
 */
export function assertSubscriptionWrite(caller: SubscriberCaller, next: Resource | undefined, current: Resource | undefined): void {
  const organization = caller.organization;
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
  stamp(next, caller);
}

function stamp(subscription: Subscription, caller: SubscriberCaller): void {
  const others: Extension[] = (subscription.extension ?? []).filter(
    (e) => e.url !== SUBSCRIPTION_OWNER_URL && e.url !== SUBSCRIPTION_PRINCIPAL_URL,
  );
  const principal: Extension[] = [
    { url: 'client', valueString: caller.clientId },
    ...(caller.kind === 'practitioner'
      ? [
          { url: 'user', valueString: caller.userId },
          { url: 'practitioner', valueReference: { reference: caller.fhirUser } },
        ]
      : []),
    { url: 'scope', valueString: caller.scope },
    ...(caller.purposes ?? []).map((code) => ({ url: 'purpose', valueCode: code })),
  ];
  subscription.extension = [
    ...others,
    { url: SUBSCRIPTION_OWNER_URL, valueReference: { reference: caller.organization } },
    { url: SUBSCRIPTION_PRINCIPAL_URL, extension: principal },
  ];
}
