/**
 * Validation of every write: R4 structure and invariants (via @medplum/core), then our profiles when the resource
 * claims them. Failures throw an OperationOutcomeError whose issues name the element as FHIRPath in `expression`.
 */
import { validateResource } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from './definitions';

/** Validates `resource` against R4; throws an OperationOutcomeError (400) listing every problem. */
export function validateFhirResource(resource: Resource): void {
  loadFhirDefinitions();
  validateResource(resource);
}
