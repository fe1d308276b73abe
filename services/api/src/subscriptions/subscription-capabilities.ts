/**
 * What the CapabilityStatement says of Subscription, in the Backport IG's way for R4 servers: the IG's
 * backport-subscription profile as a supported profile, one `capabilitystatement-subscriptiontopic-canonical` extension
 * per topic we offer (R4 has no SubscriptionTopic type to list; the topics themselves are served as Basic resources
 * at /SubscriptionTopic), and how a partner signs (an unsigned Subscription is refused).
 */
import { BACKPORT_SUBSCRIPTION_PROFILE } from '@carecircle/fhir';
import { SUBSCRIPTION_TOPICS, UNSIGNED_REFUSAL } from '@carecircle/notify';
import type { CapabilityStatementRestResource } from '@medplum/fhirtypes';

/** The Backport IG's extension naming a topic canonical a server supports, on the Subscription resource entry. */
export const TOPIC_CANONICAL_EXTENSION =
  'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/capabilitystatement-subscriptiontopic-canonical';

/** The Subscription entry's additions: profile, topics, documentation. */
export function subscriptionCapabilities(): Pick<CapabilityStatementRestResource, 'supportedProfile' | 'extension' | 'documentation'> {
  return {
    supportedProfile: [BACKPORT_SUBSCRIPTION_PROFILE],
    extension: SUBSCRIPTION_TOPICS.map((topic) => ({ url: TOPIC_CANONICAL_EXTENSION, valueCanonical: topic.url })),
    documentation:
      'Topic-based subscriptions of the Subscriptions R5 Backport IG (criteria: a topic canonical listed in this entry\'s ' +
      'extensions, served at /SubscriptionTopic; rest-hook; backport-payload-content id-only (default), full-resource or ' +
      `empty; GET Subscription/$status, Subscription/{id}/$status and $events). ${UNSIGNED_REFUSAL}`,
  };
}
