/**
 * @carecircle/notify: topic-based subscriptions (Subscriptions R5 Backport IG on R4). Topics, the Subscription write
 * rule and its secret, matching, notification bundles, signatures, retry policy, the delivery gate, and the queue names
 * and job schemas the worker and the API share.
 */
export { withholdEverything, type DeliveryFocus, type DeliveryGate, type GateDecision } from './delivery-gate';
export {
  buildNotificationBundle,
  buildStatusBundle,
  buildStatusesBundle,
  buildSubscriptionStatus,
  SUBSCRIPTION_NOTIFICATION_PROFILE,
  SUBSCRIPTION_STATUS_PROFILE,
  type NotificationEvent,
  type NotificationInput,
  type NotificationType,
} from './notification-bundle';
export { recordFailedReplay, settleReplayedEvent } from './dead-letter-store';
export {
  deadLetterJobSchema,
  deadLetterReplayJobSchema,
  deliveryJobSchema,
  handshakeJobSchema,
  heartbeatJobSchema,
  NOTIFY_QUEUES,
  notifyJobIds,
  outboxEventJobSchema,
  parseDeliveryJobId,
  referralReminderJobSchema,
  type DeadLetterJob,
  type DeadLetterReplayJob,
  type DeliveryJob,
  type HandshakeJob,
  type HeartbeatJob,
  type NotifyQueueName,
  type OutboxEventJob,
  type ReferralReminderJob,
} from './queues';
export { DELIVERY_RETRY_POLICY, nextAttemptDelayMs, parseRetryAfter, retryDelayMs, type RetryPolicy } from './retry-policy';
export { EVENT_ID_HEADER, SIGNATURE_HEADER, signNotification, verifyNotificationSignature } from './signature';
export { matchesSubscription, mayPassOnNarrowerView, passesFilters, triggersSubscription } from './subscription-match';
export {
  checkEndpoint,
  FILTER_CRITERIA_EXTENSION,
  HEARTBEAT_PERIOD_EXTENSION,
  MAX_COUNT_EXTENSION,
  PAYLOAD_CONTENT_EXTENSION,
  PAYLOAD_CONTENTS,
  readSubscriptionSettings,
  SUBSCRIPTION_SECRET_EXTENSION,
  TIMEOUT_EXTENSION,
  type BackportSubscription,
  type EndpointRules,
  type PayloadContent,
  type SubscriptionFilter,
  type SubscriptionSettings,
} from './subscription-settings';
export {
  acquireDeliveryLease,
  countSubscriptionsByStatus,
  deleteSubscriptionSecret,
  findReceivingSubscriptions,
  findHeartbeatSubscriptions,
  isSubscriptionReceiving,
  leaseRemainingMs,
  listSubscriptionEvents,
  lockIdleDeliveries,
  readDeliveryState,
  readSubscriptionEvent,
  readSubscriptionSecret,
  recordFailedAttempt,
  recordSubscriptionEvents,
  releaseDeliveryLease,
  settleSubscriptionEvent,
  type ChangeEvent,
  type DeliveryState,
  type EventOutcome,
  type IdleDelivery,
  type StoredEvent,
  type SubscriptionStatus,
} from './subscription-store';
export { createExtractSubscriptionSecret, extractSubscriptionSecret, UNSIGNED_REFUSAL } from './subscription-write-rule';
export { listTopicResources, topicToBasic, TOPICS_VERSION } from './topic-resources';
export {
  findTopic,
  findTrigger,
  SUBSCRIPTION_TOPICS,
  topicsTriggeredBy,
  type SubscriptionTopicDefinition,
  type TopicTrigger,
  type TriggerInteraction,
} from './topics';
export { buildBackportSubscription, type SubscriptionFacts } from './subscription-builders';
