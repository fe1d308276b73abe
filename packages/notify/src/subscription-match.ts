/**
 * Does a change concern a subscription? Its topic must be triggered by the change's resource type and interaction,
 * and the resource must pass the subscription's filters. Filters follow R5 `filterBy` semantics: a filter applies to
 * the resource type it names, several filters must all pass, and a topic resource type no filter names is unfiltered.
 * Filters are evaluated with @medplum/core's matcher.
 *
 * The worker judges filters on the version as the subscriber may read it (a recipient is shown a Consent naming it
 * without the other recipients), so a filter cannot tell a subscriber what its read would not: it asks the stored
 * version first, which settles every filter that only narrows (what passes on a narrower view passes on the stored
 * version), and the subscriber's view for the rest ({@link mayPassOnNarrowerView}).
 */
import { matchesSearchRequest } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import type { SubscriptionSettings } from './subscription-settings';
import type { TriggerInteraction } from './topics';

/** Operators that can pass on a view that leaves something out though they fail on the whole resource. */
const NEGATING_OPERATORS: ReadonlySet<string> = new Set(['not', 'ne', 'not-in', 'missing', 'present']);

/** True when `resource`, stored by `interaction`, is an event for a subscription with `settings`. */
export function matchesSubscription(settings: SubscriptionSettings, interaction: TriggerInteraction, resource: Resource): boolean {
  return triggersSubscription(settings, interaction, resource.resourceType) && passesFilters(settings, resource);
}

/** True when the subscription's topic is triggered by `interaction` on a resource of `resourceType`. */
export function triggersSubscription(settings: SubscriptionSettings, interaction: TriggerInteraction, resourceType: string): boolean {
  const trigger = settings.topic.triggers.find((t) => t.resourceType === resourceType);
  return trigger?.interactions.includes(interaction) ?? false;
}

/** True when `resource` is of the profile its topic asks for, if any, and passes every filter the subscription has for its type. */
export function passesFilters(settings: SubscriptionSettings, resource: Resource): boolean {
  const required = settings.topic.triggers.find((t) => t.resourceType === resource.resourceType)?.requiredProfile;
  if (required !== undefined && !(resource.meta?.profile ?? []).includes(required)) {
    return false;
  }
  return settings.filters
    .filter((f) => f.resourceType === resource.resourceType)
    .every((f) => matchesSearchRequest(resource, f.search));
}

/**
 * True when a filter for `resourceType` negates or asks for absence (`:not`, `ne`, `:not-in`, `:missing`): it may
 * pass on a view of a resource that leaves something out though it fails on the stored version, so the stored version
 * cannot settle it.
 */
export function mayPassOnNarrowerView(settings: SubscriptionSettings, resourceType: string): boolean {
  return settings.filters
    .filter((f) => f.resourceType === resourceType)
    .some((f) => (f.search.filters ?? []).some((filter) => NEGATING_OPERATORS.has(filter.operator)));
}
