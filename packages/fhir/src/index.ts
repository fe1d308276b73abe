/**
 * @carecircle/fhir: the FHIR knowledge every other package shares.
 */
export {
  allOk,
  badRequest,
  conflict,
  created,
  forbidden,
  getStatus,
  gone,
  isOperationOutcome,
  notFound,
  OperationOutcomeError,
  preconditionFailed,
  unauthorized,
  unsupportedMediaType,
} from '@medplum/core';
export { loadFhirDefinitions } from './definitions';
export {
  assertSupportedResourceType,
  assertValidId,
  FHIR_ID_PATTERN,
  isSupportedResourceType,
  safeForMessage,
  SUPPORTED_RESOURCE_TYPES,
  type SupportedResourceType,
} from './resource-types';
export { validateFhirResource } from './validation';
