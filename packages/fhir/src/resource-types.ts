/**
 * The resource types CareCircle stores and serves. Any other type answers a clear OperationOutcome.
 */
import { badRequest, OperationOutcomeError } from '@medplum/core';
import type { ResourceType } from '@medplum/fhirtypes';

export const SUPPORTED_RESOURCE_TYPES = [
  'AuditEvent',
  'Basic',
  'CarePlan',
  'CareTeam',
  'Communication',
  'Composition',
  'Condition',
  'Consent',
  'DocumentReference',
  'Endpoint',
  'Goal',
  'Observation',
  'Organization',
  'OrganizationAffiliation',
  'Patient',
  'Practitioner',
  'PractitionerRole',
  'Provenance',
  'ServiceRequest',
  'Subscription',
  'Task',
] as const satisfies readonly ResourceType[];

export type SupportedResourceType = (typeof SUPPORTED_RESOURCE_TYPES)[number];

/**
 * Records of what happened (who saw what, who changed what): created, read and searched, never updated, patched or
 * deleted, by anyone, so the trail cannot be rewritten.
 */
export const APPEND_ONLY_RESOURCE_TYPES: ReadonlySet<string> = new Set<SupportedResourceType>(['AuditEvent', 'Provenance']);

const supported = new Set<string>(SUPPORTED_RESOURCE_TYPES);

/** True when `type` is a resource type this server stores. */
export function isSupportedResourceType(type: string): type is SupportedResourceType {
  return supported.has(type);
}

/** Returns `type` narrowed, or throws a 400 OperationOutcome naming it. */
export function assertSupportedResourceType(type: string): SupportedResourceType {
  if (!isSupportedResourceType(type)) {
    throw new OperationOutcomeError(badRequest(`Unsupported resource type: ${safeForMessage(type)}`));
  }
  return type;
}

/** A caller-supplied string cut down to something safe to echo in an error message. */
export function safeForMessage(value: string): string {
  const cleaned = value.replace(/[^A-Za-z0-9._:/-]/g, '?');
  return cleaned.length > 64 ? `${cleaned.slice(0, 64)}...` : cleaned;
}

/** FHIR id syntax: 1 to 64 of A-Z a-z 0-9 - . */
export const FHIR_ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;

/** Throws a 400 OperationOutcome unless `id` is a valid FHIR id. */
export function assertValidId(id: string): string {
  if (!FHIR_ID_PATTERN.test(id)) {
    throw new OperationOutcomeError(badRequest('Invalid id: ids are 1-64 characters of A-Z, a-z, 0-9, - and .'));
  }
  return id;
}
