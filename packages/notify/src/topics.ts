/**
 * The subscription topics CareCircle offers (DESIGN.md, "referrals and notifications"), as data: which resource types
 * and interactions trigger each, and which search parameters a subscriber may filter on. Matching, the subscription
 * write rule and the served topic resources (topic-resources.ts) all read this one list.
 */
import { CARECIRCLE_CANONICAL_BASE, COORDINATED_UPDATE_PROFILE } from '@carecircle/fhir';

/** The interactions a topic can be triggered by (R5 SubscriptionTopic.resourceTrigger.supportedInteraction). */
export type TriggerInteraction = 'create' | 'update' | 'delete';

export interface TopicTrigger {
  resourceType: string;
  interactions: readonly TriggerInteraction[];
  description: string;
  /** Search parameters of `resourceType` a subscription filter may use (R5 SubscriptionTopic.canFilterBy). */
  filterParameters: readonly string[];
  /** When set, only resources claiming this profile trigger the topic (R5 resourceTrigger.fhirPathCriteria). */
  requiredProfile?: string;
}

export interface SubscriptionTopicDefinition {
  /** The last segment of the canonical; also the id of the served resource. */
  id: string;
  /** The canonical a Subscription names in `criteria`. */
  url: string;
  title: string;
  description: string;
  triggers: readonly TopicTrigger[];
}

const TOPIC_BASE = `${CARECIRCLE_CANONICAL_BASE}/SubscriptionTopic`;

/** Our topics; canonicals are contract, never renamed. */
export const SUBSCRIPTION_TOPICS: readonly SubscriptionTopicDefinition[] = [
  {
    id: 'referral',
    url: `${TOPIC_BASE}/referral`,
    title: 'Referral',
    description: 'A referral (ServiceRequest) or its fulfilment Task is created or changes, e.g. a Task status transition.',
    triggers: [
      {
        resourceType: 'ServiceRequest',
        interactions: ['create', 'update'],
        description: 'A referral is created or updated.',
        filterParameters: ['patient', 'performer', 'requester', 'status'],
      },
      {
        resourceType: 'Task',
        interactions: ['create', 'update'],
        description: 'A referral Task is created or updated (status, owner, output, follow-up: reminded, escalated, expired).',
        filterParameters: ['owner', 'requester', 'patient', 'status', 'focus', 'ack-due', 'follow-up'],
      },
    ],
  },
  {
    id: 'communication',
    url: `${TOPIC_BASE}/communication`,
    title: 'Communication',
    description: 'A message (Communication) about a referral or care plan is created or updated.',
    triggers: [
      {
        resourceType: 'Communication',
        interactions: ['create', 'update'],
        description: 'A Communication is created or updated.',
        filterParameters: ['patient', 'recipient', 'sender', 'status', 'part-of', 'based-on'],
      },
    ],
  },
  {
    id: 'care-plan',
    url: `${TOPIC_BASE}/care-plan`,
    title: 'Care plan',
    description: 'A care plan, one of its goals, or the care team is created or updated.',
    triggers: [
      {
        resourceType: 'CarePlan',
        interactions: ['create', 'update'],
        description: 'A CarePlan is created or updated.',
        filterParameters: ['patient', 'status', 'care-team'],
      },
      {
        resourceType: 'Goal',
        interactions: ['create', 'update'],
        description: 'A Goal is created or updated.',
        filterParameters: ['patient', 'lifecycle-status'],
      },
      {
        resourceType: 'CareTeam',
        interactions: ['create', 'update'],
        description: 'A CareTeam is created or updated.',
        filterParameters: ['patient', 'participant', 'status'],
      },
    ],
  },
  {
    id: 'consent',
    url: `${TOPIC_BASE}/consent`,
    title: 'Consent',
    description: 'A sharing Consent is created or updated, including its revocation (status -> inactive).',
    triggers: [
      {
        resourceType: 'Consent',
        interactions: ['create', 'update'],
        description: 'A Consent is created or updated (revocation included).',
        filterParameters: ['patient', 'status', 'actor', 'organization'],
      },
    ],
  },
  {
    id: 'coordinated-update',
    url: `${TOPIC_BASE}/coordinated-update`,
    title: 'Coordinated update',
    description:
      'A coordinated update (Composition, profile coordinated-update) is released to its recipient. The recipient is notified only of the released version: drafts, updates awaiting approval, declined and withdrawn ones are never visible to it.',
    triggers: [
      {
        resourceType: 'Composition',
        interactions: ['create', 'update'],
        description: 'A coordinated update is released (created or updated into the released state).',
        filterParameters: ['patient', 'recipient', 'update-state'],
        requiredProfile: COORDINATED_UPDATE_PROFILE,
      },
    ],
  },
];

const byUrl = new Map(SUBSCRIPTION_TOPICS.map((t) => [t.url, t]));

/** The topic with this canonical (a `|version` suffix is ignored), or undefined. */
export function findTopic(canonical: string): SubscriptionTopicDefinition | undefined {
  return byUrl.get(canonical.split('|')[0] ?? '');
}

/** The trigger of `topic` for `resourceType`, or undefined when that type does not belong to the topic. */
export function findTrigger(topic: SubscriptionTopicDefinition, resourceType: string): TopicTrigger | undefined {
  return topic.triggers.find((t) => t.resourceType === resourceType);
}

/** The topics a change (`interaction` on `resourceType`) triggers. */
export function topicsTriggeredBy(resourceType: string, interaction: TriggerInteraction): SubscriptionTopicDefinition[] {
  return SUBSCRIPTION_TOPICS.filter((topic) =>
    topic.triggers.some((t) => t.resourceType === resourceType && t.interactions.includes(interaction)),
  );
}
