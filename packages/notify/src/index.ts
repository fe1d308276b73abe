/**
 * @carecircle/notify: topic-based subscriptions (Subscriptions R5 Backport IG on R4). Topics, the Subscription write
 * rule and its secret, matching, notification bundles, signatures, retry policies, the delivery gate, and the queue names
 * and job schemas the worker and the API share. It speaks no SQL: the subscription tables are @carecircle/store's.
 */
export { openDeadLetters, type DeadLetter, type DeadLetterPage, type DeadLetters } from './dead-letters';
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
export {
  deadLetterJobSchema,
  deadLetterReplayJobSchema,
  deliveryJobSchema,
  handshakeJobSchema,
  heartbeatJobSchema,
  jobOriginSchema,
  NOTIFY_QUEUES,
  notifyJobIds,
  outboxEventJobSchema,
  parseDeliveryJobId,
  REFERRAL_FOLLOW_UP_STEPS,
  referralReminderJobSchema,
  type DeadLetterJob,
  type DeadLetterReplayJob,
  type DeliveryJob,
  type HandshakeJob,
  type HeartbeatJob,
  type JobOrigin,
  type NotifyQueueName,
  type OutboxEventJob,
  type ReferralReminderJob,
} from './queues';
export {
  DEAD_LETTER_REPLAY_JOB_RETRY,
  DELIVERY_JOB_RETRY,
  DELIVERY_RETRY_POLICY,
  HANDSHAKE_JOB_RETRY,
  HEARTBEAT_JOB_RETRY,
  jobRetryOptions,
  nextAttemptDelayMs,
  OUTBOX_EVENT_JOB_RETRY,
  parseRetryAfter,
  REFERRAL_REMINDER_JOB_RETRY,
  retryDelayMs,
  type JobRetryPolicy,
  type RetryPolicy,
} from './retry-policy';
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
// The subscription tables' statements live in @carecircle/store (tables/subscriptions.ts, subscription-events.ts);
// the API's $status and $events still import these through notify.
export { listSubscriptionEvents, readDeliveryState, recordSubscriptionEvents, type StoredEvent, type SubscriptionStatus } from '@carecircle/store';
export { createExtractSubscriptionSecret, extractSubscriptionSecret, UNSIGNED_REFUSAL, type SubscriptionRules } from './subscription-write-rule';
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
