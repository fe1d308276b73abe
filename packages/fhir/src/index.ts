/**
 * @carecircle/fhir: the FHIR knowledge every other package shares.
 */
export {
  allOk,
  badRequest,
  conflict,
  created,
  forbidden,
  gone,
  isOperationOutcome,
  notFound,
  OperationOutcomeError,
  preconditionFailed,
  unauthorized,
  unsupportedMediaType,
} from '@medplum/core';
export {
  ACT_CODE_SYSTEM,
  BACKPORT_SUBSCRIPTION_PROFILE,
  CARECIRCLE_CANONICAL_BASE,
  COORDINATED_UPDATE_PROFILE,
  NOTE_CUSTODIAN_URL,
  OAUTH_CLIENT_SYSTEM,
  OPERATOR_SYSTEM,
  PROFILES_CHECKED_IN_CODE,
  PSYCHOTHERAPY_NOTE_LABEL,
  PSYCHOTHERAPY_NOTE_TAG,
  SHARE_CATEGORY_SYSTEM,
  SHARE_CATEGORY_VALUE_SET,
  SHARING_CONSENT_PROFILE,
  UPDATE_RECIPIENT_URL,
  UPDATE_STATE_URL,
} from './canonical-urls';
export {
  CONFORMANCE_RESOURCE_TYPES,
  findConformanceResourceByUrl,
  getConformanceResource,
  getConformanceResources,
  getShareCategoryCodes,
  loadFhirDefinitions,
  type ConformanceResource,
} from './profiles';
export {
  APPEND_ONLY_RESOURCE_TYPES,
  assertSupportedResourceType,
  assertValidId,
  FHIR_ID_PATTERN,
  isSupportedResourceType,
  safeForMessage,
  SUPPORTED_RESOURCE_TYPES,
  type SupportedResourceType,
} from './resource-types';
export { exceedsJsonDepth, MAX_JSON_DEPTH } from './json-depth';
export { parseReferenceAnyBase, parseRelativeReference, patientReferences, referenceStrings, type ReferenceTarget } from './references';
export { hasUnstorableCharacters } from './storable-text';
export { validateFhirResource, validateFhirStructure } from './validation';
export {
  databaseUnavailable,
  fail,
  methodNotAllowed,
  notAcceptable,
  payloadTooLarge,
  queueUnavailable,
  statementTimeout,
  tooCostly,
  unknownEndpoint,
  unprocessable,
  VersionMismatchError,
} from './outcomes';
export { isNotFoundOrGone, readOrUndefined, statusOf, type ResourceReader } from './outcome-status';
export { expandValueSet, type ValueSetExpansion } from './value-set-expansion';
export { parseSubsetting, subsetResource, SUBSETTED_TAG, type Subsetting } from './subsetting';
