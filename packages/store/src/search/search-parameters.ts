/**
 * Which search parameters this store indexes and answers, per resource type. The single source for the indexer, the
 * query builder and the CapabilityStatement, so what is advertised is exactly what works. Definitions come from
 * @medplum/core's global schema (HL7's R4 SearchParameters, plus any of our own loaded later); composite, quantity and
 * special parameters, and Medplum's private ones, are left out.
 */
import { getSearchParameterDetails, getSearchParameters, type SearchParameterDetails } from '@medplum/core';
import type { SearchParameter } from '@medplum/fhirtypes';
import { isSupportedResourceType, loadFhirDefinitions } from '@carecircle/fhir';

/** The search parameter types this store supports. */
export type SearchParamType = 'string' | 'token' | 'reference' | 'date' | 'number' | 'uri';

/** A parameter the store can answer: the column-backed `_id`/`_lastUpdated`, or one indexed on write. */
export interface SupportedSearchParameter {
  code: string;
  type: SearchParamType;
  /** SearchParameter.url, for the CapabilityStatement. */
  url: string;
  documentation?: string;
  /** `column` parameters are answered from resource_version itself; `indexed` ones from the search tables. */
  source: 'column' | 'indexed';
  /** For indexed parameters: the definition and its parsed details (expression, reference targets). */
  definition?: SearchParameter;
  details?: SearchParameterDetails;
}

/**
 * The modifiers each type of indexed parameter takes besides `:missing` (and, for references, a target type and
 * chaining), as search-request.ts parses them.
 */
export const SEARCH_MODIFIERS: Readonly<Record<SearchParamType, readonly string[]>> = {
  string: ['exact', 'contains', 'text'],
  token: ['not', 'text', 'in', 'not-in', 'below', 'above'],
  reference: [],
  date: [],
  number: [],
  uri: [],
};

const SUPPORTED_TYPES = new Set<string>(['string', 'token', 'reference', 'date', 'number', 'uri']);

/** Resource-level parameters Medplum registers without a url; these are the HL7 ones we answer. */
const RESOURCE_LEVEL: Record<string, { url: string; documentation: string }> = {
  _id: { url: 'http://hl7.org/fhir/SearchParameter/Resource-id', documentation: 'Logical id of this artifact' },
  _lastUpdated: {
    url: 'http://hl7.org/fhir/SearchParameter/Resource-lastUpdated',
    documentation: 'When the resource version last changed',
  },
  _tag: { url: 'http://hl7.org/fhir/SearchParameter/Resource-tag', documentation: 'Tags applied to this resource' },
  _security: {
    url: 'http://hl7.org/fhir/SearchParameter/Resource-security',
    documentation: 'Security Labels applied to this resource',
  },
  _profile: {
    url: 'http://hl7.org/fhir/SearchParameter/Resource-profile',
    documentation: 'Profiles this resource claims to conform to',
  },
};

const cache = new Map<string, Map<string, SupportedSearchParameter>>();

/** The supported parameters of `resourceType`, keyed by code (empty for unsupported resource types). */
export function supportedSearchParameters(resourceType: string): ReadonlyMap<string, SupportedSearchParameter> {
  let result = cache.get(resourceType);
  if (!result) {
    result = buildSupportedParameters(resourceType);
    cache.set(resourceType, result);
  }
  return result;
}

/** One supported parameter, or undefined when `code` is unknown or unsupported for `resourceType`. */
export function findSearchParameter(resourceType: string, code: string): SupportedSearchParameter | undefined {
  return supportedSearchParameters(resourceType).get(code);
}

/** The resource types a reference parameter may point at, as its definition lists them. */
export function referenceTargets(param: SupportedSearchParameter): string[] {
  return [...(param.details?.referenceTargetTypes ?? param.definition?.target ?? [])];
}

/** A supported parameter as the CapabilityStatement describes it. */
export interface SearchParameterCapability {
  name: string;
  type: SearchParamType;
  definition: string;
  documentation?: string;
  /** The modifiers it takes (`missing` always; the target types of a reference as `:Type` are not listed). */
  modifiers: string[];
  /** For a reference parameter that can be chained: the supported types it may point at. */
  chainTargets?: string[];
}

/**
 * The search parameters of `resourceType` that really work, for the CapabilityStatement: `_id`, `_lastUpdated` and
 * every indexed parameter, with the modifiers the parser takes and, for references, where chains go.
 */
export function getSupportedSearchParameters(resourceType: string): SearchParameterCapability[] {
  return [...supportedSearchParameters(resourceType).values()].map((p) => {
    const chainTargets =
      p.type === 'reference' && p.source === 'indexed'
        ? referenceTargets(p).filter((t) => isSupportedResourceType(t)).sort()
        : [];
    return {
      name: p.code,
      type: p.type,
      definition: p.url,
      ...(p.documentation ? { documentation: p.documentation } : {}),
      // _id and _lastUpdated, answered from the version row, take only :missing and (_id) :not.
      modifiers: ['missing', ...(p.source === 'column' ? (p.type === 'token' ? ['not'] : []) : SEARCH_MODIFIERS[p.type])],
      ...(chainTargets.length > 0 ? { chainTargets } : {}),
    };
  });
}

function buildSupportedParameters(resourceType: string): Map<string, SupportedSearchParameter> {
  const result = new Map<string, SupportedSearchParameter>();
  if (!isSupportedResourceType(resourceType)) {
    return result;
  }
  loadFhirDefinitions();
  result.set('_id', { code: '_id', type: 'token', source: 'column', ...RESOURCE_LEVEL._id! });
  result.set('_lastUpdated', { code: '_lastUpdated', type: 'date', source: 'column', ...RESOURCE_LEVEL._lastUpdated! });
  const definitions = getSearchParameters(resourceType) ?? {};
  for (const [code, definition] of Object.entries(definitions).sort(([a], [b]) => a.localeCompare(b))) {
    if (result.has(code) || !SUPPORTED_TYPES.has(definition.type ?? '') || !definition.expression) {
      continue;
    }
    const resourceLevel = RESOURCE_LEVEL[code];
    const url = definition.url ?? resourceLevel?.url;
    // Parameters without an HL7 (or our own) definition are Medplum's private ones (_project, _compartment ...).
    if (!url || url.startsWith('https://medplum.com/')) {
      continue;
    }
    let details: SearchParameterDetails;
    try {
      details = getSearchParameterDetails(resourceType, definition);
    } catch {
      // An expression @medplum/core cannot type is one we cannot index reliably: leave it out rather than half-work.
      continue;
    }
    const documentation = resourceLevel?.documentation ?? definition.description;
    result.set(code, {
      code,
      type: definition.type as SearchParamType,
      url,
      ...(documentation ? { documentation: firstLine(documentation) } : {}),
      source: 'indexed',
      definition,
      details,
    });
  }
  return result;
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}

/** Forgets computed parameter sets: call after registering new SearchParameters (tests, profile loading). */
export function resetSearchParameterCache(): void {
  cache.clear();
}
