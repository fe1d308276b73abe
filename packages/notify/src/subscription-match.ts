/**
 * Does a change concern a subscription? Its topic must be triggered by the change's resource type and interaction,
 * and the resource must pass the subscription's filters. Filters follow R5 `filterBy` semantics: a filter applies to
 * the resource type it names, several filters must all pass, and a topic resource type no filter names is unfiltered.
 * Filters are evaluated with @medplum/core's matcher against the version the change stored.
 */
import { matchesSearchRequest } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import type { SubscriptionSettings } from './subscription-settings';
import type { TriggerInteraction } from './topics';

/** True when `resource`, stored by `interaction`, is an event for a subscription with `settings`. */
export function matchesSubscription(settings: SubscriptionSettings, interaction: TriggerInteraction, resource: Resource): boolean {
  const trigger = settings.topic.triggers.find((t) => t.resourceType === resource.resourceType);
  if (!trigger?.interactions.includes(interaction)) {
    return false;
  }
  return settings.filters
    .filter((f) => f.resourceType === resource.resourceType)
    .every((f) => matchesSearchRequest(resource, f.search));
}
