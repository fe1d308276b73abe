/**
 * The FHIR operations this server implements, by resource type and name (without the `$`).
 */
import { disclosureCheck } from './disclosure-check';
import type { InstanceOperation } from './operation-context';
import { patientSummary } from './patient-summary';

export type { InstanceOperation, OperationContext } from './operation-context';

export const INSTANCE_OPERATIONS: Readonly<Record<string, Readonly<Record<string, InstanceOperation>>>> = {
  Patient: {
    summary: patientSummary,
    'disclosure-check': disclosureCheck,
  },
};

/** Canonical URL of one of our operations, for the CapabilityStatement. */
export function operationDefinitionUrl(resourceType: string, name: string): string {
  return `https://carecircle.dev/fhir/OperationDefinition/${resourceType}-${name}`;
}
