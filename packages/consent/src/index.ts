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
  PURPOSE_OF_USE_SYSTEM,
  RECIPIENT_ROLE,
  RECIPIENT_ROLE_SYSTEM,
  type DisclosureDecision,
  type DisclosureQuestion,
  type Recipient,
} from './consent-decision';
export {
  ACT_CODE_SYSTEM,
  confidentialityOf,
  CONFIDENTIALITY_SYSTEM,
  DEFAULT_CATEGORY_BY_TYPE,
  isShareCategory,
  PSYCHOTHERAPY_NOTES,
  securityLabelsFor,
  sensitivityOf,
  SHARE_CATEGORIES,
  SHARE_CATEGORY_SYSTEM,
  type ShareCategory,
} from './share-category';
export { grantsFrom, loadGrants, recipientReferences, type Grant } from './consent-grants';
export { grantedVisibility, recipientPolicy, withConsentGrants } from './consent-policy';
export { createDisclosureRecorder, type AuditContext } from './disclosure-audit';
export { checkSharingConsent, RECIPIENT_TYPES } from './consent-write-rule';
export {
  applyShareLabels,
  CONFIDENTIALITY_ORDER,
  computeShareLabels,
  highestConfidentiality,
  type ConfidentialityCode,
  type ShareLabels,
} from './share-labels';
