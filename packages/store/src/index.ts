/**
 * @carecircle/store: the only package that speaks SQL.
 */
export {
  fullAccess,
  type AccessPolicy,
  type AccessRecorder,
  type Denial,
  type Disclosure,
  type Interaction,
  type Presentation,
} from './access-policy';
export {
  openDatabase,
  type Database,
  type DatabaseOptions,
  type ListenChannel,
  type Listener,
  type IsolationLevel,
  type PoolUse,
  type Queryable,
  type QueryResult,
  type Transaction,
} from './database';
export { isConnectionLoss } from './connection-loss';
export { DataDirectoryError } from './data-dir-lock';
export { listMigrations, migrate, MigrationError } from './migrate';
export { analyzeChangedTables } from './table-statistics';
export { createTokenHolderCheck, type TokenHolderCheck } from './tables/token-holder-cache';
export type {
  CreateOptions,
  HistoryEntry,
  HistoryOutcome,
  PatchOperation,
  Repository,
  SearchOutcome,
  SearchParams,
  UpdateOptions,
  WriteOutcome,
} from './repository';
export { createRepository, type RepositoryOptions } from './resource-repository';
export {
  authorizeByPolicy,
  bindWritePipeline,
  withWriteRules,
  type BoundWritePipeline,
  type DeleteRule,
  type WriteAuthorization,
  type WriteFacts,
  type WriteInteraction,
  type WritePipeline,
  type WriteRecord,
  type WriteRule,
  type WriteRuleFor,
} from './write-pipeline';
export {
  getSupportedSearchParameters,
  resetSearchParameterCache,
  type SearchParamType,
} from './search/search-parameters';
export { MAX_REQUEST_ALTERNATIVES, MAX_REQUEST_CONTAINS, withSearchBudget } from './search/search-budget';
export { reindexSearch, type ReindexOptions, type ReindexProgress, type ReindexSummary } from './search/reindex';
export {
  MAX_SEARCH_ALTERNATIVES,
  MAX_SEARCH_CONTAINS,
  type ReferenceValue,
  type SearchFilter,
} from './search/search-request';
export { join, raw, Sql, sql } from './sql';
export { allOf, always, anyOf, anyOfTerms, inPatientCompartment, never, not, notTrue } from './row-conditions';
export {
  disableAuthClient,
  enableAuthClient,
  findAuthClient,
  findAuthClientForUpdate,
  insertAuthClient,
  listAuthClients,
  updateAuthClient,
  type AuthClientFields,
  type AuthClientKind,
  type AuthClientRecord,
  type StoredJwks,
} from './tables/auth-clients';
export {
  disableAuthUser,
  enableAuthUser,
  findAuthUser,
  findAuthUserCredentials,
  findOrganizationsOfEnabledUsers,
  insertAuthUser,
  listAuthUsers,
  setAuthUserPassword,
  type AuthUserRecord,
} from './tables/auth-users';
export {
  areTokenHoldersEnabled,
  findRefreshTokenForUpdate,
  findRefreshTokenFamily,
  insertRefreshToken,
  listLiveRefreshSessions,
  markRefreshTokenUsed,
  recordAppSessionsEnded,
  recordSessionRevocation,
  revokeClientRefreshTokens,
  revokeFamilyRefreshTokens,
  revokeUserRefreshTokens,
  type NewRefreshToken,
  type RefreshTokenRecord,
  type TokenHolder,
} from './tables/auth-sessions';
export {
  deleteExpiredSigningKeys,
  hasActiveSigningKey,
  insertSigningKey,
  listVerifyingSigningKeys,
  lockSigningKeys,
  retireActiveSigningKey,
  type SigningKeyRecord,
} from './tables/auth-signing-keys';
export { hasExtensionReference } from './tables/resource-extensions';
export type { FoundForRecord } from './recorder-columns';
export {
  findGrantsInForce,
  findUngrantedCategories,
  grantInForce,
  grantsInForceColumn,
  replaceConsentGrants,
  type ConsentGrantRow,
  type GrantInForce,
  type GrantLookup,
} from './tables/consent-grants';
export {
  grantedVersion,
  labelledPsychotherapyNote,
  submittedUpdateOrNone,
  type DisclosureTerms,
  type UpdateTerms,
} from './tables/consent-disclosure';
export { describesNoteRecord, insertNotesDescribedBy, insertRecordsDescribingNote } from './tables/note-records';
export { authoredBy, insertPartnerAuthorship } from './tables/partner-authorship';
export { lockPatientCustodian, readPatientCustodian } from './tables/patient-custodians';
export {
  findPatientsManagedBy,
  findPatientsVisibleTo,
  patientsVisibleAmongCompartments,
  inCompartmentOfClientOf,
  inOwnCompartmentWithoutNotes,
  isClientOf,
  isPatient,
  isRecordOfClientOf,
} from './tables/client-custody';
export { consentNamesActor, consentNamesAnyActor, type ActorRole } from './tables/consent-actors';
export {
  findPractitionerRoles,
  findWithdrawnOrganizations,
  organizationWithdrawn,
  readPractitionerRole,
  type PractitionerRoleRow,
} from './tables/practitioner-roles';
export { latestClientVersionsColumn, lockLiveResources, readLatestMeta, type ResourceKey } from './tables/referenced-versions';
export {
  findCurrentVersionsMentioning,
  findFirstCurrentVersion,
  isLatestVersionDeleted,
  readCurrentVersions,
  type CurrentVersionFilter,
  type MentionQuery,
} from './tables/current-versions';
export { computePatientCompartments, mayBeInPatientCompartment, patientCompartmentsOf } from './compartments';
export { isVisibleTo } from './store-context';
export { currentOriginRequestId, withOriginRequestId } from './write-origin';
export { pingDatabase } from './tables/health';
export {
  claimPendingOutboxEvents,
  handBackUnmatchedOutboxEvents,
  markOutboxEventMatched,
  markOutboxEventsRelayed,
  type PendingOutboxEvent,
} from './tables/outbox';
export { hasOutboxEvents } from './version-store';
export { findOpenTasksWithDueDate } from './tables/referral-tasks';
export {
  acquireDeliveryLease,
  leaseRemainingMs,
  listSubscriptionEvents,
  lockIdleDeliveries,
  readDeliveryState,
  readSubscriptionEvent,
  recordFailedAttempt,
  recordFailedReplay,
  recordSubscriptionEvents,
  releaseDeliveryLease,
  settleReplayedEvent,
  settleSubscriptionEvent,
  type ChangeEvent,
  type DeliveryState,
  type EventOutcome,
  type IdleDelivery,
  type StoredEvent,
} from './tables/subscription-events';
export {
  countSubscriptionsByStatus,
  deleteSubscriptionSecret,
  findEndedSubscriptions,
  findReceivingSubscriptions,
  findReceivingSubscriptionsWithChannelExtension,
  hasSubscriptionSecret,
  isSubscriptionReceiving,
  readSubscriptionSecret,
  storeSubscriptionSecret,
  type SubscriptionStatus,
} from './tables/subscriptions';
