/**
 * @carecircle/care: the care workflow over the caller's repository. Referrals (ServiceRequest + Task, consent-gated,
 * created together), the Task state machine and the write rules that hold every writer to it, consult notes, and
 * Provenance for care-plan changes. Framework-free: services/api wires it to HTTP and registers the write rules.
 */
export {
  CONSULT_NOTE_TYPE,
  FULFILL_TASK_CODE,
  hasCoding,
  isReferralRequest,
  LOINC_SYSTEM,
  REFERRAL_CATEGORY,
  SNOMED_SYSTEM,
  TASK_CODE_SYSTEM,
} from './care-codes';
export { checkConsultNote, fileConsultNoteUnderReferral } from './consult-note-rule';
export {
  buildReferralTask,
  createReferral,
  createReferralIfNoneExist,
  DEFAULT_REFERRAL_CATEGORY,
  type ConditionalReferral,
  type Referral,
  type ReferralOptions,
} from './create-referral';
export { checkReferralUpdate } from './referral-update-rule';
export { writeThroughWorkflows, type WorkflowSettings, type WorkflowWrite } from './workflow-writes';
export {
  callerAgent,
  DATA_OPERATION_SYSTEM,
  PROVENANCE_PARTICIPANT_SYSTEM,
  recordProvenance,
  withProvenance,
  type ProvenanceActivity,
  type ProvenanceAgentReference,
  type ProvenancedWrite,
  type ProvenanceOptions,
} from './provenance-record';
export {
  classifyTaskChange,
  isClosedStatus,
  isTaskStatus,
  ownerMoves,
  requesterMoves,
  STATUSES_NEEDING_REASON,
  TASK_STATUSES,
  transitionParty,
  type TaskChange,
  type TaskParty,
  type TaskStatus,
} from './referral-task';
export { resolveTaskParties } from './task-parties';
export { enforceTaskWorkflow } from './task-workflow-rule';
export { isPartnerWorkflowWrite, type PartnerWrite, type VisibilityCheck } from './partner-writes';
export { isOwner, type OrganizationCaller } from './task-parties';
export { isProvenanced, PROVENANCED_TYPES, recordCarePlanProvenance } from './care-plan-provenance';
export {
  addBusinessHours,
  BUSINESS_HOURS_URL,
  businessHoursOf,
  checkBusinessHours,
  DAYS_OF_WEEK,
  defaultBusinessHours,
  isTimeZone,
  readBusinessHours,
  type BusinessHours,
  type DayOfWeek,
  type OpeningInterval,
} from './business-hours';
export { FOLLOW_UP_STATES, FOLLOW_UP_SYSTEM, followUpConcept, followUpStateOf, isLaterState, withFollowUpState, type FollowUpState } from './follow-up-state';
export {
  COMPLETION_DUE_URL,
  DEFAULT_REFERRAL_DEADLINES,
  followUpTimes,
  practiceBusinessHours,
  REFERRAL_PRIORITIES,
  referralDeadlines,
  referralPriority,
  type FollowUpTimes,
  type ReferralDeadlines,
  type ReferralDeadlineSettings,
  type ReferralPriority,
} from './referral-deadlines';
export { checkCoordinatedUpdate } from './coordinated-update/update-write-rule';
export { deleteOnlyDraftUpdates, recordUpdateDrafting } from './coordinated-update/update-drafting';
export {
  approveUpdate,
  declineUpdate,
  REDISCLOSURE_NOTICE,
  submitUpdate,
  withdrawUpdate,
  type UpdateWorkflowContext,
} from './coordinated-update/update-workflow';
export { isCoordinatedUpdate, stateOf, STATUS_OF_STATE } from './coordinated-update/update-facts';
export {
  acknowledgementDeadline,
  EXPIRED_REASON,
  FOLLOW_UP_IDENTIFIER_SYSTEM,
  FOLLOW_UP_STEPS,
  followUpIdentifierValue,
  nextFollowUpStep,
  runFollowUpStep,
  type FollowUpStep,
  type PlannedStep,
  type StepOutcome,
} from './referral-follow-up';
export { median, percentile, referralMetrics, timelineOf, type PartnerMetrics, type ReferralTimeline } from './referral-metrics';
