/**
 * Parses a search query string into a checked {@link SearchRequest}: every parameter known and supported for the
 * resource type, every modifier and prefix one we implement, every value well-formed. Anything else is a 400 naming
 * the parameter; values are never echoed (they may carry patient data). Comma-separated values are alternatives (OR),
 * repeated parameters all apply (AND). What a search may ask of the database is bounded (parameters, alternatives in
 * one parameter and in all, `:contains` alternatives: 400 too-costly beyond), and each search draws on its request's
 * budget (search-budget.ts).
 */
import { badRequest, OperationOutcomeError, splitSearchOnComma } from '@medplum/core';
import { FHIR_ID_PATTERN, hasUnstorableCharacters, isSupportedResourceType, parseRelativeReference, safeForMessage, tooCostly } from '@carecircle/fhir';
import { parseDateRange, type DateRange } from './date-range';
import { chargeSearchBudget, type SearchCost } from './search-budget';
import { findSearchParameter, referenceTargets, type SupportedSearchParameter } from './search-parameters';
import { subsumptionCodes, valueSetCodes, type SystemCode } from './search-terminology';

/** Date comparison prefixes (FHIR R4 search, "prefix"). */
export type DatePrefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb' | 'ap';
/** Number comparison prefixes; `sa`, `eb` and `ap` are not offered for numbers. */
export type NumberPrefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le';

/** A token value: `system` undefined matches any system, null matches values without one (`|code`). */
export interface TokenValue {
  system: string | null | undefined;
  code: string | undefined;
}

/**
 * A reference value: a resource of this server (any type when `resourceType` is undefined), or a raw URL.
 * `hiddenTypes`: types under which the id names a resource the caller may not see, which the value then does not
 * match (set by the store before it runs the search, never parsed).
 */
export type ReferenceValue =
  | { kind: 'target'; resourceType: string | undefined; id: string; hiddenTypes?: readonly string[] }
  | { kind: 'raw'; reference: string };

/** A number value and half a unit of its last significant digit: `100` with `5e-1` stands for [99.5, 100.5). */
export interface NumberValue {
  prefix: NumberPrefix;
  value: string;
  halfUnit: string;
}

/**
 * How a string value is compared with the normalised text (string-norm.ts): `prefix` (the default) the text starts
 * with it, `exact` equals it as written, `contains` holds it anywhere, `text` each of its words begins a word of the
 * text (in order or not), as a text search would.
 */
export type StringMode = 'prefix' | 'exact' | 'contains' | 'text';

/** A reference parameter followed to its target type, where `filter` must hold (`subject:Patient.name=x`). */
export interface ChainTarget {
  resourceType: string;
  filter: SearchFilter;
}

/** One parameter occurrence; its values are alternatives. */
export type SearchFilter =
  | { kind: 'string'; param: SupportedSearchParameter; mode: StringMode; values: string[] }
  | { kind: 'token'; param: SupportedSearchParameter; negate: boolean; values: TokenValue[] }
  /** `:text` on a token: the text of the coded value (CodeableConcept.text, Coding.display, Identifier.type.text). */
  | { kind: 'token-text'; param: SupportedSearchParameter; values: string[] }
  /**
   * `:in`, `:not-in`, `:below`, `:above`: the codes the given values stand for (search-terminology.ts), any of which
   * matches (none, when `negate`); `given` is what the request spelled, one per alternative.
   */
  | { kind: 'token-set'; param: SupportedSearchParameter; negate: boolean; codes: SystemCode[]; given: string[] }
  /** A chained parameter: `param` (a reference) points at a resource of one of `targets` where its filter holds. */
  | { kind: 'chain'; param: SupportedSearchParameter; targets: ChainTarget[] }
  /** `_has:Type:param:filter`: some `sourceType` whose reference `param` points at the match meets `filter`. */
  | { kind: 'has'; param: SupportedSearchParameter; sourceType: string; filter: SearchFilter }
  | { kind: 'reference'; param: SupportedSearchParameter; values: ReferenceValue[] }
  | { kind: 'date'; param: SupportedSearchParameter; values: Array<{ prefix: DatePrefix; range: DateRange }> }
  | { kind: 'number'; param: SupportedSearchParameter; values: NumberValue[] }
  | { kind: 'uri'; param: SupportedSearchParameter; values: string[] }
  | { kind: 'missing'; param: SupportedSearchParameter; missing: boolean };

export interface SortRule {
  param: SupportedSearchParameter;
  descending: boolean;
}

/**
 * `_include` (`Type:param[:Target]` from the searched type) or `_revinclude` (from `Type` pointing back); with
 * `:iterate` also from (or back to) what was included, level by level (includes.ts bounds the depth).
 */
export interface IncludeRequest {
  resourceType: string;
  param: SupportedSearchParameter;
  targetType: string | undefined;
  iterate: boolean;
}

export interface SearchRequest {
  resourceType: string;
  filters: SearchFilter[];
  sort: SortRule[];
  count: number;
  total: 'none' | 'estimate' | 'accurate';
  include: IncludeRequest[];
  revinclude: IncludeRequest[];
  /** The `_page` token as given; run-search checks its signature and decodes it. */
  page: string | undefined;
}

export const DEFAULT_COUNT = 20;
export const MAX_COUNT = 1000;
const MAX_VALUE_LENGTH = 2048;
const MAX_ALTERNATIVES = 100;
const MAX_PARAMETERS = 64;
/**
 * Alternatives (comma-separated values) in one search, all parameters together. Each is one more condition tested
 * against every candidate version, so they, not the parameters, are what a search costs.
 */
export const MAX_SEARCH_ALTERNATIVES = 200;
/** `:contains` alternatives in one search: a pattern matched inside every value of the parameter, with no index. */
export const MAX_SEARCH_CONTAINS = 20;
/**
 * Links in one chain or `_has` (`subject:Patient.organization.name` is two): each is one more join over the versions
 * of a type, judged under the caller's visibility of that type.
 */
export const MAX_CHAIN_DEPTH = 3;
/** Accepted for compatibility and ignored: they shape the response, which is the API's business. */
const IGNORED = new Set(['_format', '_pretty']);
const SINGLE = new Set(['_count', '_sort', '_total', '_summary', '_elements', '_page']);
const DATE_PREFIXES = new Set<string>(['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap']);
const NUMBER_PREFIXES = new Set<string>(['eq', 'ne', 'gt', 'lt', 'ge', 'le']);
const NUMBER_PATTERN = /^[+-]?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d{1,3}))?$/;

/** Parses `params` as a search of `resourceType`; throws a 400 OperationOutcomeError on anything unsupported. */
export function parseSearchRequest(resourceType: string, params: URLSearchParams): SearchRequest {
  const request: SearchRequest = {
    resourceType,
    filters: [],
    sort: [],
    count: DEFAULT_COUNT,
    total: 'accurate',
    include: [],
    revinclude: [],
    page: undefined,
  };
  const seen = new Set<string>();
  let parameterCount = 0;
  for (const [key, value] of params) {
    if (++parameterCount > MAX_PARAMETERS) {
      throw new OperationOutcomeError(badRequest('Too many search parameters'));
    }
    if (value.length > MAX_VALUE_LENGTH) {
      throw invalid(key, 'value too long');
    }
    assertStorableText(key, value);
    if (SINGLE.has(key)) {
      if (seen.has(key)) {
        throw invalid(key, 'may appear only once');
      }
      seen.add(key);
    }
    parseEntry(request, key, value);
  }
  const cost = searchCost(request);
  if (cost.alternatives > MAX_SEARCH_ALTERNATIVES) {
    throw new OperationOutcomeError(tooCostly(`A search may hold at most ${MAX_SEARCH_ALTERNATIVES} alternative values in all parameters together`));
  }
  if (cost.contains > MAX_SEARCH_CONTAINS) {
    throw new OperationOutcomeError(tooCostly(`A search may hold at most ${MAX_SEARCH_CONTAINS} :contains values in all parameters together`));
  }
  chargeSearchBudget(cost);
  return request;
}

/** The alternatives a search's filters hold, and how many of them are `:contains` patterns. */
function searchCost(request: SearchRequest): SearchCost {
  const cost: SearchCost = { alternatives: 0, contains: 0 };
  for (const filter of request.filters) {
    const one = filterCost(filter);
    cost.alternatives += one.alternatives;
    cost.contains += one.contains;
  }
  return cost;
}

/**
 * What one filter costs: its alternatives as spelled (a ValueSet is one, whatever its size), the costliest target of
 * a chain, and a pattern matched inside every value (`:contains`, `:text`) as a `:contains` too.
 */
function filterCost(filter: SearchFilter): SearchCost {
  switch (filter.kind) {
    case 'missing':
      return { alternatives: 1, contains: 0 };
    case 'chain':
      return filter.targets.map((t) => filterCost(t.filter)).reduce(
        (max, c) => ({ alternatives: Math.max(max.alternatives, c.alternatives), contains: Math.max(max.contains, c.contains) }),
        { alternatives: 0, contains: 0 },
      );
    case 'has':
      return filterCost(filter.filter);
    case 'token-set':
      return { alternatives: filter.given.length, contains: 0 };
    case 'token-text':
      return { alternatives: filter.values.length, contains: filter.values.length };
    case 'string':
      return { alternatives: filter.values.length, contains: filter.mode === 'contains' || filter.mode === 'text' ? filter.values.length : 0 };
    default:
      return { alternatives: filter.values.length, contains: 0 };
  }
}

function parseEntry(request: SearchRequest, key: string, value: string): void {
  if (IGNORED.has(key)) {
    return;
  }
  switch (key) {
    case '_count':
      request.count = parseCount(value);
      return;
    case '_sort':
      request.sort = parseSort(request.resourceType, value);
      return;
    case '_total':
      if (value !== 'none' && value !== 'estimate' && value !== 'accurate') {
        throw invalid(key, 'expected none, estimate or accurate');
      }
      request.total = value;
      return;
    case '_summary':
      // true, text and data are views of each resource the API makes (subsetting.ts); count is the search's.
      if (value === 'count') {
        request.count = 0;
        request.total = 'accurate';
      } else if (value !== 'false' && value !== 'true' && value !== 'text' && value !== 'data') {
        throw invalid(key, 'expected true, text, data, count or false');
      }
      return;
    case '_elements':
      // A view of each match the API makes (subsetting.ts, which checks the names); it never changes what matches.
      return;
    case '_include':
    case '_include:iterate':
      request.include.push(parseInclude(request.resourceType, key, value, 'include'));
      return;
    case '_revinclude':
    case '_revinclude:iterate':
      request.revinclude.push(parseInclude(request.resourceType, key, value, 'revinclude'));
      return;
    case '_page':
      request.page = value;
      return;
    default: {
      const filter = parseFilter(request.resourceType, key, value);
      if (filter) {
        request.filters.push(filter);
      }
    }
  }
}

/** 400 for NUL or unpaired surrogates in a parameter: FHIR text never holds them, and the database refuses them. */
export function assertStorableText(key: string, value: string): void {
  if (hasUnstorableCharacters(key) || hasUnstorableCharacters(value)) {
    throw new OperationOutcomeError(badRequest('Search parameters may not contain NUL or unpaired surrogate characters'));
  }
}

/** Parses `_count`: a non-negative integer, capped at {@link MAX_COUNT}. */
export function parseCount(value: string): number {
  if (!/^\d{1,9}$/.test(value)) {
    throw invalid('_count', 'expected a non-negative integer');
  }
  return Math.min(Number(value), MAX_COUNT);
}

function parseSort(resourceType: string, value: string): SortRule[] {
  const rules: SortRule[] = [];
  const codes = new Set<string>();
  for (const field of value.split(',')) {
    const descending = field.startsWith('-');
    const code = descending ? field.slice(1) : field;
    const param = findSearchParameter(resourceType, code);
    if (!param) {
      throw invalid('_sort', 'unknown or unsupported parameter');
    }
    if (codes.has(code)) {
      throw invalid('_sort', 'a parameter may appear only once');
    }
    codes.add(code);
    rules.push({ param, descending });
  }
  return rules;
}

function parseInclude(resourceType: string, key: string, value: string, kind: 'include' | 'revinclude'): IncludeRequest {
  const parts = value.split(':');
  if (parts.length < 2 || parts.length > 3) {
    throw invalid(key, 'expected Type:parameter or Type:parameter:TargetType');
  }
  const [sourceType, code, targetType] = parts as [string, string, string | undefined];
  const iterate = key.endsWith(':iterate');
  // An iterating _include may start from any type (what earlier levels included); a plain one from the matches.
  if (!isSupportedResourceType(sourceType) || (kind === 'include' && !iterate && sourceType !== resourceType)) {
    throw invalid(key, kind === 'include' ? `source type must be ${resourceType}` : 'unsupported source type');
  }
  const param = findSearchParameter(sourceType, code);
  if (param?.type !== 'reference' || param.source !== 'indexed') {
    throw invalid(key, 'unknown reference parameter');
  }
  if (targetType !== undefined) {
    if (!isSupportedResourceType(targetType) || (kind === 'revinclude' && !iterate && targetType !== resourceType)) {
      throw invalid(key, 'unsupported target type');
    }
  }
  return { resourceType: sourceType, param, targetType, iterate };
}

/**
 * Parses one `code[:modifier]=value` filter, a chained one (`code[:Type].rest=value`) or a reverse chain
 * (`_has:Type:param:rest=value`); undefined when the value is empty (empty parameters are ignored).
 */
export function parseFilter(resourceType: string, key: string, value: string, depth = 0): SearchFilter | undefined {
  if (key.startsWith('_has:')) {
    return parseHas(resourceType, key, value, depth);
  }
  const dot = key.indexOf('.');
  if (dot >= 0) {
    return parseChain(resourceType, key.slice(0, dot), key.slice(dot + 1), value, depth);
  }
  const colon = key.indexOf(':');
  const code = colon >= 0 ? key.slice(0, colon) : key;
  const modifier = colon >= 0 ? key.slice(colon + 1) : '';
  const param = findSearchParameter(resourceType, code);
  if (!param) {
    throw new OperationOutcomeError(badRequest(`Unknown or unsupported search parameter: ${safeForMessage(code)}`, safeForMessage(code)));
  }
  if (modifier === 'missing') {
    if (value !== 'true' && value !== 'false') {
      throw invalid(code, ':missing expects true or false');
    }
    return { kind: 'missing', param, missing: value === 'true' };
  }
  const values = splitSearchOnComma(value).filter((v) => v.length > 0);
  if (values.length === 0) {
    return undefined;
  }
  if (values.length > MAX_ALTERNATIVES) {
    throw invalid(code, 'too many alternatives');
  }
  switch (param.type) {
    case 'string':
      if (modifier !== '' && modifier !== 'exact' && modifier !== 'contains' && modifier !== 'text') {
        throw unsupportedModifier(code);
      }
      return { kind: 'string', param, mode: modifier === '' ? 'prefix' : modifier, values };
    case 'token':
      return parseTokenFilter(param, modifier, values);
    case 'reference':
      return { kind: 'reference', param, values: values.map((v) => parseReference(param, modifier, v)) };
    case 'date':
      if (modifier !== '') {
        throw unsupportedModifier(code);
      }
      return { kind: 'date', param, values: values.map((v) => parseDateValue(code, v)) };
    case 'number':
      if (modifier !== '') {
        throw unsupportedModifier(code);
      }
      return { kind: 'number', param, values: values.map((v) => parseNumberValue(code, v)) };
    case 'uri':
      if (modifier !== '') {
        throw unsupportedModifier(code);
      }
      return { kind: 'uri', param, values };
    default:
      return param.type satisfies never;
  }
}

function parseTokenFilter(param: SupportedSearchParameter, modifier: string, values: string[]): SearchFilter {
  if (param.source === 'column' && modifier !== '' && modifier !== 'not') {
    // _id is the logical id, not a code: it has no text and belongs to no code system.
    throw unsupportedModifier(param.code);
  }
  switch (modifier) {
    case '':
    case 'not':
      return { kind: 'token', param, negate: modifier === 'not', values: values.map(parseToken) };
    case 'text':
      return { kind: 'token-text', param, values };
    case 'in':
    case 'not-in':
      return { kind: 'token-set', param, negate: modifier === 'not-in', codes: values.flatMap((url) => valueSetCodes(param.code, url)), given: values };
    case 'below':
    case 'above':
      return { kind: 'token-set', param, negate: false, codes: values.flatMap((v) => subsumptionCodes(param.code, modifier, v)), given: values };
    default:
      throw unsupportedModifier(param.code);
  }
}

/**
 * `code[:Type].rest=value`: the reference parameter `code` of `resourceType` followed to `Type` (or, without one, to
 * each of its target types that has the parameter `rest` starts with), where `rest=value` holds.
 */
function parseChain(resourceType: string, head: string, rest: string, value: string, depth: number): SearchFilter | undefined {
  const colon = head.indexOf(':');
  const code = colon >= 0 ? head.slice(0, colon) : head;
  const named = colon >= 0 ? head.slice(colon + 1) : undefined;
  const param = findSearchParameter(resourceType, code);
  if (!param) {
    throw new OperationOutcomeError(badRequest(`Unknown or unsupported search parameter: ${safeForMessage(code)}`, safeForMessage(code)));
  }
  if (param.type !== 'reference' || param.source !== 'indexed') {
    throw invalid(code, 'only a reference parameter can be chained');
  }
  if (depth + 1 > MAX_CHAIN_DEPTH) {
    throw invalid(code, `a chain may hold at most ${MAX_CHAIN_DEPTH} links`);
  }
  const targets: string[] = referenceTargets(param).filter((t) => isSupportedResourceType(t));
  if (named !== undefined && !targets.includes(named)) {
    throw unsupportedModifier(code);
  }
  const candidates = named !== undefined ? [named] : targets;
  const chained: ChainTarget[] = [];
  let refusal: unknown;
  for (const targetType of candidates) {
    try {
      const filter = parseFilter(targetType, rest, value, depth + 1);
      if (!filter) {
        return undefined;
      }
      chained.push({ resourceType: targetType, filter });
    } catch (err) {
      // Without a named type, the chain follows the target types that have the chained parameter.
      if (named !== undefined || !(err instanceof OperationOutcomeError)) {
        throw err;
      }
      refusal ??= err;
    }
  }
  if (chained.length === 0) {
    throw refusal ?? invalid(code, 'no target type to chain to');
  }
  return { kind: 'chain', param, targets: chained };
}

/** `_has:Type:param:rest=value`: some `Type` whose reference `param` points at the match, where `rest=value` holds. */
function parseHas(resourceType: string, key: string, value: string, depth: number): SearchFilter | undefined {
  const [, sourceType = '', code = '', ...restParts] = key.split(':');
  const rest = restParts.join(':');
  if (!isSupportedResourceType(sourceType) || !code || !rest) {
    throw invalid('_has', 'expected _has:Type:parameter:parameter');
  }
  if (depth + 1 > MAX_CHAIN_DEPTH) {
    throw invalid('_has', `a chain may hold at most ${MAX_CHAIN_DEPTH} links`);
  }
  const param = findSearchParameter(sourceType, code);
  if (param?.type !== 'reference' || param.source !== 'indexed' || !referenceTargets(param).includes(resourceType)) {
    throw invalid('_has', `${safeForMessage(sourceType)}:${safeForMessage(code)} is not a reference parameter that can point at ${resourceType}`);
  }
  const filter = parseFilter(sourceType, rest, value, depth + 1);
  return filter && { kind: 'has', param, sourceType, filter };
}

function parseToken(value: string): TokenValue {
  const bar = value.indexOf('|');
  if (bar < 0) {
    return { system: undefined, code: value };
  }
  const system = value.slice(0, bar);
  const code = value.slice(bar + 1);
  return { system: system === '' ? null : system, code: code === '' ? undefined : code };
}

function parseReference(param: SupportedSearchParameter, modifier: string, value: string): ReferenceValue {
  const targets = param.details?.referenceTargetTypes;
  if (modifier !== '') {
    // `subject:Patient=123`: the modifier names the target type.
    if (!isSupportedResourceType(modifier) || (targets && !targets.includes(modifier as never))) {
      throw unsupportedModifier(param.code);
    }
    const target = parseRelativeReference(value);
    if (target) {
      if (target.resourceType !== modifier) {
        throw invalid(param.code, 'the reference type does not match the modifier');
      }
      return { kind: 'target', resourceType: modifier, id: target.id };
    }
    if (!FHIR_ID_PATTERN.test(value)) {
      throw invalid(param.code, 'expected an id');
    }
    return { kind: 'target', resourceType: modifier, id: value };
  }
  const target = parseRelativeReference(value);
  if (target) {
    return { kind: 'target', resourceType: target.resourceType, id: target.id };
  }
  if (FHIR_ID_PATTERN.test(value)) {
    // A bare id: the target type is implied when the parameter has exactly one, otherwise any type matches.
    return { kind: 'target', resourceType: targets?.length === 1 ? targets[0] : undefined, id: value };
  }
  return { kind: 'raw', reference: value };
}

function parseDateValue(code: string, value: string): { prefix: DatePrefix; range: DateRange } {
  let prefix: DatePrefix = 'eq';
  let text = value;
  const head = value.slice(0, 2);
  if (/^[a-z]{2}/.test(head)) {
    if (!DATE_PREFIXES.has(head)) {
      throw invalid(code, 'unsupported prefix');
    }
    prefix = head as DatePrefix;
    text = value.slice(2);
  }
  const range = parseDateRange(text);
  if (!range) {
    throw invalid(code, 'expected a FHIR date, dateTime or instant');
  }
  return { prefix, range };
}

function parseNumberValue(code: string, value: string): NumberValue {
  let prefix: NumberPrefix = 'eq';
  let text = value;
  const head = value.slice(0, 2);
  if (/^[a-z]{2}/.test(head)) {
    if (!NUMBER_PREFIXES.has(head)) {
      throw invalid(code, 'unsupported prefix');
    }
    prefix = head as NumberPrefix;
    text = value.slice(2);
  }
  const m = NUMBER_PATTERN.exec(text);
  if (!m) {
    throw invalid(code, 'expected a number');
  }
  // Implicit precision: half a unit of the last significant digit on either side (`100` is [99.5, 100.5)).
  const decimals = m[2]?.length ?? 0;
  const exponent = Number(m[3] ?? '0');
  return { prefix, value: text, halfUnit: `5e${exponent - decimals - 1}` };
}

function unsupportedModifier(code: string): OperationOutcomeError {
  return invalid(code, 'unsupported modifier');
}

function invalid(code: string, reason: string): OperationOutcomeError {
  const name = safeForMessage(code);
  return new OperationOutcomeError(badRequest(`Invalid search parameter ${name}: ${reason}`, name));
}
