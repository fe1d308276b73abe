/**
 * Our topics as FHIR R4 resources. R4 has no SubscriptionTopic type; the Subscriptions R5 Backport IG represents an R5
 * SubscriptionTopic on R4 as a `Basic` resource (code `SubscriptionTopic` from http://hl7.org/fhir/fhir-types) carrying
 * the R5 cross-version extensions `http://hl7.org/fhir/5.0/StructureDefinition/extension-SubscriptionTopic.*`. That is
 * the one representation we serve (read-only, built from topics.ts, never stored): valid R4, so any R4 client can parse
 * it, and each resource's `id` is the last segment of the topic canonical.
 */
import type { Basic, Extension } from '@medplum/fhirtypes';
import { SUBSCRIPTION_TOPICS, type SubscriptionTopicDefinition } from './topics';

const XVER = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-SubscriptionTopic';
/** The version of our topics; bumped when a trigger or filter changes. */
export const TOPICS_VERSION = '1.0.0';
const TOPICS_DATE = '2026-01-01';

/** The topic as a Backport-style R4 `Basic` resource. */
export function topicToBasic(topic: SubscriptionTopicDefinition): Basic {
  const extension: Extension[] = [
    { url: `${XVER}.url`, valueUri: topic.url },
    { url: `${XVER}.version`, valueString: TOPICS_VERSION },
    { url: `${XVER}.name`, valueString: topic.id },
    { url: `${XVER}.title`, valueString: topic.title },
    { url: `${XVER}.status`, valueCode: 'active' },
    { url: `${XVER}.date`, valueDateTime: TOPICS_DATE },
    { url: `${XVER}.description`, valueMarkdown: topic.description },
    ...topic.triggers.map(
      (trigger): Extension => ({
        url: `${XVER}.resourceTrigger`,
        extension: [
          { url: 'description', valueMarkdown: trigger.description },
          { url: 'resource', valueUri: `http://hl7.org/fhir/StructureDefinition/${trigger.resourceType}` },
          ...trigger.interactions.map((code): Extension => ({ url: 'supportedInteraction', valueCode: code })),
          ...(trigger.requiredProfile ? [{ url: 'fhirPathCriteria', valueString: `%current.meta.profile.contains('${trigger.requiredProfile}')` }] : []),
        ],
      }),
    ),
    ...topic.triggers.flatMap((trigger) =>
      trigger.filterParameters.map(
        (parameter): Extension => ({
          url: `${XVER}.canFilterBy`,
          extension: [
            { url: 'description', valueMarkdown: `Filter ${trigger.resourceType} by ${parameter}.` },
            { url: 'resource', valueUri: `http://hl7.org/fhir/StructureDefinition/${trigger.resourceType}` },
            { url: 'filterParameter', valueString: parameter },
          ],
        }),
      ),
    ),
    ...topic.triggers.map(
      (trigger): Extension => ({
        url: `${XVER}.notificationShape`,
        extension: [{ url: 'resource', valueUri: `http://hl7.org/fhir/StructureDefinition/${trigger.resourceType}` }],
      }),
    ),
  ];
  return {
    resourceType: 'Basic',
    id: topic.id,
    meta: { versionId: TOPICS_VERSION, lastUpdated: `${TOPICS_DATE}T00:00:00Z` },
    extension,
    code: { coding: [{ system: 'http://hl7.org/fhir/fhir-types', code: 'SubscriptionTopic' }] },
  };
}

/** Every topic as a `Basic` resource. */
export function listTopicResources(): Basic[] {
  return SUBSCRIPTION_TOPICS.map(topicToBasic);
}
