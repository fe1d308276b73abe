/**
 * @carecircle/consent: who may see which of a client's information, and the record of every disclosure.
 */
export { buildSharingConsent, SHARING_CONSENT_PROFILE, type SharingConsentFacts } from './consent-builders';
export {
  consentRecipients,
  decideDisclosure,
  DEFAULT_PURPOSE,
  isConsentInForce,
  NEVER_DISCLOSED_TYPES,
  permittedCategories,
  provisionCategories,
  PURPOSE_OF_USE_SYSTEM,
  PURPOSES_OF_USE,
  RECIPIENT_ROLE,
  RECIPIENT_ROLE_SYSTEM,
  recipientReferences,
  type DisclosureDecision,
  type DisclosureQuestion,
  type Recipient,
} from './consent-decision';
export {
  ACT_CODE_SYSTEM,
  CATEGORY_OF_SENSITIVITY,
  confidentialityOf,
  CONFIDENTIALITY_SYSTEM,
  CONSENT_CATEGORY,
  DEFAULT_CATEGORY_BY_TYPE,
  isShareCategory,
  isPsychotherapyNoteResource,
  PSYCHOTHERAPY_NOTES,
  securityLabelsFor,
  sensitivityOf,
  sensitivityRank,
  SHARE_CATEGORIES,
  SHARE_CATEGORY_SYSTEM,
  type ShareCategory,
} from './share-category';
export { grantRowsOf, indexConsentGrants, type GrantRow } from './consent-grant-index';
export {
  describesPsychotherapyNote,
  grantedVisibility,
  grantsInForce,
  grantsInForceAmongCompartments,
  isPsychotherapyNote,
  namedInConsent,
  recipientPolicy,
  shownToTheClient,
  ungrantedCategories,
  withConsentGrants,
  type GrantQuery,
} from './consent-policy';
export {
  createDisclosureRecorder,
  DENIED_COUNT_URL,
  patientsVisibleUnder,
  withFoldedDenials,
  withOneAuditEventPerClient,
  type AuditConnection,
  type AuditContext,
  type AuditedInteraction,
} from './disclosure-audit';
export {
  BALP_CANONICAL_BASE,
  BALP_OAUTH_TOKEN_PROFILE,
  BALP_PATIENT_QUERY_PROFILE,
  BALP_PATIENT_READ_PROFILE,
  DECIDING_PROVISION_PATH,
  denialAuditEvent,
  disclosureAuditEvent,
  PERMITTED_BY_URL,
  type AuditedParty,
  type PermittingGrant,
} from './audit-event-shape';
export { checkSharingConsent, RECIPIENT_TYPES } from './consent-write-rule';
export { showNamedConsent, SUBSETTED_TAG } from './named-consent-view';
export { authoredVisibility, recordPartnerAuthorship, withPartnerAuthorship } from './partner-authorship';
export { stampNoteCustodian } from './note-custodian';
export { indexNoteRecords } from './note-records';
export { refuseReferencesToPsychotherapyNotes } from './psychotherapy-note-references';
export { activeRolesOf, periodCovers, practitionerAt, resolveRecipients } from './recipient-directory';
export {
  applyShareLabels,
  CONFIDENTIALITY_ORDER,
  computeShareLabels,
  highestConfidentiality,
  type ConfidentialityCode,
  type ShareLabels,
} from './share-labels';
export {
  COORDINATED_UPDATE_PROFILE,
  NO_REDISCLOSURE_LABEL,
  UPDATE_APPROVAL_URL,
  UPDATE_EVENT_SYSTEM,
  UPDATE_RECIPIENT_URL,
  UPDATE_SECTION_SYSTEM,
  UPDATE_STATE_SYSTEM,
  UPDATE_STATE_URL,
  UPDATE_STATES,
  UPDATE_SUBMITTED_URL,
  type UpdateState,
} from './coordinated-update-terms';
export { markAgainstRedisclosure, markBundleAgainstRedisclosure } from './redisclosure-label';
