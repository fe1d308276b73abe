/**
 * Typed builders for Backport-style Subscriptions, for tests and for documentation of the shape partners send.
 */
import {
  FILTER_CRITERIA_EXTENSION,
  HEARTBEAT_PERIOD_EXTENSION,
  PAYLOAD_CONTENT_EXTENSION,
  SUBSCRIPTION_SECRET_EXTENSION,
  TIMEOUT_EXTENSION,
  type BackportSubscription,
  type PayloadContent,
} from './subscription-settings';

export interface SubscriptionFacts {
  topic: string;
  endpoint: string;
  secret?: string;
  filters?: string[];
  content?: PayloadContent;
  headers?: string[];
  heartbeatPeriod?: number;
  /** backport-timeout, seconds. */
  timeoutSeconds?: number;
}

/** A rest-hook Subscription in the Backport IG's R4 form. */
export function buildBackportSubscription(facts: SubscriptionFacts): BackportSubscription {
  return {
    resourceType: 'Subscription',
    status: 'requested',
    reason: 'Partner EHR notifications',
    criteria: facts.topic,
    ...(facts.filters?.length
      ? { _criteria: { extension: facts.filters.map((valueString) => ({ url: FILTER_CRITERIA_EXTENSION, valueString })) } }
      : {}),
    ...(facts.secret ? { extension: [{ url: SUBSCRIPTION_SECRET_EXTENSION, valueString: facts.secret }] } : {}),
    channel: {
      type: 'rest-hook',
      endpoint: facts.endpoint,
      payload: 'application/fhir+json',
      ...(facts.content ? { _payload: { extension: [{ url: PAYLOAD_CONTENT_EXTENSION, valueCode: facts.content }] } } : {}),
      ...(facts.headers ? { header: facts.headers } : {}),
      ...(facts.heartbeatPeriod || facts.timeoutSeconds
        ? {
            extension: [
              ...(facts.heartbeatPeriod ? [{ url: HEARTBEAT_PERIOD_EXTENSION, valueUnsignedInt: facts.heartbeatPeriod }] : []),
              ...(facts.timeoutSeconds ? [{ url: TIMEOUT_EXTENSION, valueUnsignedInt: facts.timeoutSeconds }] : []),
            ],
          }
        : {}),
    },
  };
}
