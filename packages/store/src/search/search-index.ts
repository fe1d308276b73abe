/**
 * The search index written with every stored version: one row per value of every supported search parameter, in the
 * table of the parameter's type. Values are extracted with the parameters' own FHIRPath expressions, so what is indexed
 * is exactly what the definitions say. Rows are never updated: a new version gets new rows, and searches "as of" an
 * older snapshot still find the rows of the versions they see.
 */
import { parseRelativeReference } from '@carecircle/fhir';
import { evalFhirPathTyped, toTypedValue, type TypedValue } from '@medplum/core';
import type { Address, CodeableConcept, Coding, ContactPoint, HumanName, Identifier, Period, Reference, Resource, Timing } from '@medplum/fhirtypes';
import { sql, type Sql } from '../sql';
import { parseDateRange, timestamptz, type DateRange } from './date-range';
import { compileMemberPaths, type MemberPaths } from './member-paths';
import { supportedSearchParameters, type SupportedSearchParameter } from './search-parameters';
import { normalizeForSearch } from './string-norm';

/**
 * The version of how this file turns a resource into rows, besides the parameters' definitions (which reindex.ts
 * fingerprints itself): bump it with every change to what a value becomes (a new kind of row, a normal form, a bound),
 * and the worker re-indexes the stored versions at its next start. 1: the releases before this constant (the last
 * change they made was token `:text` rows); 2: the first with it.
 */
export const SEARCH_INDEX_EXTRACTION = 2;

/** Index rows of one version, grouped by table. */
export interface SearchIndexRows {
  strings: Array<{ code: string; value: string; norm: string }>;
  tokens: Array<{ code: string; system: string | null; value: string | null }>;
  references: Array<{ code: string; reference: string; targetType: string | null; targetId: string | null }>;
  dates: Array<{ code: string } & DateRange>;
  numbers: Array<{ code: string; value: string }>;
  uris: Array<{ code: string; value: string }>;
}

// Bounds keep every value inside a btree index row (Postgres refuses rows beyond ~2.7 kB); longer values are cut.
// Searches cut their values the same way (indexedNorm, indexedKey ...), so a long value still finds itself.
const MAX_STRING_VALUE = 4000;
const MAX_NORM = 500;
const MAX_KEY = 600;

/** A string parameter's value as stored in search_string.value. */
export function indexedString(value: string): string {
  return value.slice(0, MAX_STRING_VALUE);
}

/** A string parameter's normal form as stored in search_string.norm. */
export function indexedNorm(value: string): string {
  return normalizeForSearch(value).slice(0, MAX_NORM);
}

/**
 * The code under which the text of a token parameter's values (CodeableConcept.text, Coding.display,
 * Identifier.type.text) is indexed in search_string, for `:text`: no parameter code holds a colon, so it is never
 * taken for a string parameter's rows.
 */
export function tokenTextCode(code: string): string {
  return `${code}:text`;
}

/** A token system or code, reference or uri as stored in its table. */
export function indexedKey(value: string): string {
  return value.slice(0, MAX_KEY);
}

/** Extracts the index rows of `resource` for every supported, indexed search parameter of its type. */
export function extractSearchIndex(resource: Resource): SearchIndexRows {
  const rows: SearchIndexRows = { strings: [], tokens: [], references: [], dates: [], numbers: [], uris: [] };
  const root = [toTypedValue(resource)];
  for (const param of supportedSearchParameters(resource.resourceType).values()) {
    if (param.source !== 'indexed' || !param.details) {
      continue;
    }
    const values = memberPathsOf(resource.resourceType, param)?.(resource as unknown as Record<string, unknown>) ?? evalFhirPathTyped(param.details.parsedExpression, root);
    addRows(rows, param, values);
  }
  return rows;
}

/** Evaluates one parameter's expression on `resource` (used for compartments). */
export function evaluateSearchParameter(resource: Resource, param: SupportedSearchParameter): TypedValue[] {
  if (!param.details) {
    return [];
  }
  return (
    memberPathsOf(resource.resourceType, param)?.(resource as unknown as Record<string, unknown>) ??
    evalFhirPathTyped(param.details.parsedExpression, [toTypedValue(resource)])
  );
}

/**
 * Each parameter's expression compiled for its resource type once (member-paths.ts), null when it cannot be: by the
 * parameter itself, which supportedSearchParameters makes for one type and makes anew once its cache is reset.
 */
const compiled = new WeakMap<SupportedSearchParameter, MemberPaths | null>();

function memberPathsOf(resourceType: string, param: SupportedSearchParameter): MemberPaths | undefined {
  let paths = compiled.get(param);
  if (paths === undefined) {
    const expression = param.details?.parsedExpression.toString();
    paths = (expression && compileMemberPaths(resourceType, expression)) || null;
    compiled.set(param, paths);
  }
  return paths ?? undefined;
}

function addRows(rows: SearchIndexRows, param: SupportedSearchParameter, values: TypedValue[]): void {
  const { code } = param;
  switch (param.type) {
    case 'string':
      for (const value of unique(values.flatMap(stringsOf))) {
        rows.strings.push({ code, value: indexedString(value), norm: indexedNorm(value) });
      }
      break;
    case 'token': {
      const seen = new Set<string>();
      for (const token of values.flatMap(tokensOf)) {
        const key = `${token.system ?? ''}|${token.value ?? ''}`;
        if (!seen.has(key)) {
          seen.add(key);
          rows.tokens.push({ code, system: cut(token.system), value: cut(token.value) });
        }
      }
      for (const text of unique(values.flatMap(tokenTextsOf))) {
        rows.strings.push({ code: tokenTextCode(code), value: indexedString(text), norm: indexedNorm(text) });
      }
      break;
    }
    case 'reference':
      for (const reference of unique(values.flatMap(referencesOf))) {
        const target = parseRelativeReference(reference);
        rows.references.push({
          code,
          reference: indexedKey(reference),
          targetType: target?.resourceType ?? null,
          targetId: target?.id ?? null,
        });
      }
      break;
    case 'date':
      for (const range of values.flatMap(datesOf)) {
        rows.dates.push({ code, ...range });
      }
      break;
    case 'number':
      for (const value of values) {
        if (typeof value.value === 'number' && Number.isFinite(value.value)) {
          rows.numbers.push({ code, value: String(value.value) });
        }
      }
      break;
    case 'uri':
      for (const value of unique(values.flatMap((v) => (typeof v.value === 'string' ? [v.value] : [])))) {
        rows.uris.push({ code, value: indexedKey(value) });
      }
      break;
    default:
      param.type satisfies never;
  }
}

function cut(value: string | null | undefined): string | null {
  return value === undefined || value === null ? null : indexedKey(value);
}

function unique(values: string[]): string[] {
  return [...new Set(values.filter((v) => v.length > 0))];
}

function stringsOf(typed: TypedValue): string[] {
  const { type, value } = typed;
  if (typeof value === 'string') {
    return [value];
  }
  switch (type) {
    case 'HumanName': {
      const name = value as HumanName;
      return [name.text, name.family, ...(name.given ?? []), ...(name.prefix ?? []), ...(name.suffix ?? [])].filter(isString);
    }
    case 'Address': {
      const address = value as Address;
      return [
        address.text,
        ...(address.line ?? []),
        address.city,
        address.district,
        address.state,
        address.postalCode,
        address.country,
      ].filter(isString);
    }
    case 'CodeableConcept': {
      const concept = value as CodeableConcept;
      return [concept.text, ...(concept.coding ?? []).map((c) => c.display)].filter(isString);
    }
    default:
      return [];
  }
}

function tokensOf(typed: TypedValue): Array<{ system: string | undefined; value: string | undefined }> {
  const { type, value } = typed;
  switch (type) {
    case 'Identifier': {
      const identifier = value as Identifier;
      return identifier.system || identifier.value ? [{ system: identifier.system, value: identifier.value }] : [];
    }
    case 'CodeableConcept':
      return ((value as CodeableConcept).coding ?? []).flatMap(codingToken);
    case 'Coding':
      return codingToken(value as Coding);
    case 'ContactPoint': {
      const contact = value as ContactPoint;
      return contact.value ? [{ system: contact.system, value: contact.value }] : [];
    }
    default:
      if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') {
        return [{ system: undefined, value: String(value) }];
      }
      return [];
  }
}

/** The text a token's `:text` searches: what a person reads beside the code. */
function tokenTextsOf(typed: TypedValue): string[] {
  const { type, value } = typed;
  switch (type) {
    case 'CodeableConcept': {
      const concept = value as CodeableConcept;
      return [concept.text, ...(concept.coding ?? []).map((c) => c.display)].filter(isString);
    }
    case 'Coding':
      return [(value as Coding).display].filter(isString);
    case 'Identifier':
      return [(value as Identifier).type?.text].filter(isString);
    default:
      return [];
  }
}

function codingToken(coding: Coding): Array<{ system: string | undefined; value: string | undefined }> {
  return coding.system || coding.code ? [{ system: coding.system, value: coding.code }] : [];
}

function referencesOf(typed: TypedValue): string[] {
  const { value } = typed;
  if (typeof value === 'string') {
    // canonical / uri targets are kept as written
    return [value];
  }
  const reference = (value as Reference | undefined)?.reference;
  // Contained references (#id) point inside the resource itself: nothing to search for.
  return typeof reference === 'string' && !reference.startsWith('#') ? [reference] : [];
}

function datesOf(typed: TypedValue): DateRange[] {
  const { type, value } = typed;
  switch (type) {
    case 'date':
    case 'dateTime':
    case 'instant': {
      const range = typeof value === 'string' ? parseDateRange(value) : undefined;
      return range ? [range] : [];
    }
    case 'Period': {
      const period = value as Period;
      const start = period.start ? parseDateRange(period.start) : undefined;
      const end = period.end ? parseDateRange(period.end) : undefined;
      if (!start && !end) {
        return [];
      }
      return [{ low: start?.low ?? -Infinity, high: end?.high ?? Infinity }];
    }
    case 'Timing':
      return ((value as Timing).event ?? []).flatMap((event) => {
        const range = parseDateRange(event);
        return range ? [range] : [];
      });
    default:
      return [];
  }
}

function isString(value: string | undefined): value is string {
  return typeof value === 'string' && value.length > 0;
}

/**
 * The INSERT statements that write `rows` for the version whose vid `vid` evaluates to (a value, or a subquery over a
 * CTE of the statement that inserts the version), one per index table that has rows; the caller runs them, typically
 * as data-modifying CTEs of that one statement.
 */
export function searchIndexInserts(vid: Sql, rows: SearchIndexRows): Sql[] {
  const inserts: Sql[] = [];
  if (rows.strings.length > 0) {
    inserts.push(sql`INSERT INTO search_string (vid, code, value, norm)
      SELECT ${vid}, * FROM unnest(${rows.strings.map((r) => r.code)}::text[], ${rows.strings.map((r) => r.value)}::text[],
        ${rows.strings.map((r) => r.norm)}::text[])`);
  }
  if (rows.tokens.length > 0) {
    inserts.push(sql`INSERT INTO search_token (vid, code, system, value)
      SELECT ${vid}, * FROM unnest(${rows.tokens.map((r) => r.code)}::text[], ${rows.tokens.map((r) => r.system)}::text[],
        ${rows.tokens.map((r) => r.value)}::text[])`);
  }
  if (rows.references.length > 0) {
    inserts.push(sql`INSERT INTO search_reference (vid, code, reference, target_type, target_id)
      SELECT ${vid}, * FROM unnest(${rows.references.map((r) => r.code)}::text[],
        ${rows.references.map((r) => r.reference)}::text[], ${rows.references.map((r) => r.targetType)}::text[],
        ${rows.references.map((r) => r.targetId)}::text[])`);
  }
  if (rows.dates.length > 0) {
    inserts.push(sql`INSERT INTO search_date (vid, code, low, high)
      SELECT ${vid}, * FROM unnest(${rows.dates.map((r) => r.code)}::text[], ${rows.dates.map((r) => timestamptz(r.low))}::timestamptz[],
        ${rows.dates.map((r) => timestamptz(r.high))}::timestamptz[])`);
  }
  if (rows.numbers.length > 0) {
    inserts.push(sql`INSERT INTO search_number (vid, code, value)
      SELECT ${vid}, * FROM unnest(${rows.numbers.map((r) => r.code)}::text[], ${rows.numbers.map((r) => r.value)}::numeric[])`);
  }
  if (rows.uris.length > 0) {
    inserts.push(sql`INSERT INTO search_uri (vid, code, value)
      SELECT ${vid}, * FROM unnest(${rows.uris.map((r) => r.code)}::text[], ${rows.uris.map((r) => r.value)}::text[])`);
  }
  return inserts;
}
