/**
 * Turns a parsed {@link SearchRequest}'s filters and sort rules into SQL over `resource_version rv` and the search
 * tables. Each filter becomes an EXISTS over the parameter's index rows of the version, so multi-valued parameters
 * match when any value does; values are always parameters, never SQL text. Values are compared as the index stores them
 * (search-index.ts cuts long ones), so a value longer than the stored prefix still matches on that prefix.
 */
import { join, raw, sql, type Sql } from '../sql';
import type { SupportedSearchParameter } from './search-parameters';
import type { DatePrefix, NumberValue, ReferenceValue, SearchFilter, SortRule, StringMode, TokenValue } from './search-request';
import { indexedKey, indexedNorm, indexedString, tokenTextCode } from './search-index';
import type { SystemCode } from './search-terminology';
import { escapeLike } from './string-norm';
import { timestamptz, type DateRange } from './date-range';

const TABLES: Record<SupportedSearchParameter['type'], string> = {
  string: 'search_string',
  token: 'search_token',
  reference: 'search_reference',
  date: 'search_date',
  number: 'search_number',
  uri: 'search_uri',
};

/** A filter on the version's own index rows: all but chains and `_has`, which chained-search.ts builds. */
export type PlainFilter = Exclude<SearchFilter, { kind: 'chain' | 'has' }>;

/** The SQL condition of one filter; `now` anchors `ap` (approximately) date comparisons. */
export function filterCondition(filter: PlainFilter, now: Date): Sql {
  switch (filter.kind) {
    case 'string': {
      const { mode } = filter;
      if (mode === 'text') {
        return anyOf(filter.values.map((v) => textMatch(TABLES.string, filter.param.code, v)));
      }
      return indexed(filter.param, anyOf(filter.values.map((v) => stringMatch(mode, v))));
    }
    case 'token-text':
      // The text of a coded value is indexed as a string under the parameter's text code (search-index.ts).
      return anyOf(filter.values.map((v) => textMatch(TABLES.string, tokenTextCode(filter.param.code), v)));
    case 'token-set': {
      const match = indexed(filter.param, codeIn(filter.codes));
      return filter.negate ? sql`NOT ${match}` : match;
    }
    case 'token':
      if (filter.param.source === 'column') {
        // _id: the logical id column itself.
        const ids = filter.values.filter((v) => v.system === undefined && v.code !== undefined).map((v) => v.code);
        const match = ids.length > 0 ? sql`rv.id = ANY(${ids}::text[])` : sql`FALSE`;
        return filter.negate ? sql`NOT (${match})` : match;
      }
      return filter.negate
        ? sql`NOT ${indexed(filter.param, anyOf(filter.values.map(tokenMatch)))}`
        : indexed(filter.param, anyOf(filter.values.map(tokenMatch)));
    case 'reference':
      return indexed(filter.param, anyOf(filter.values.map(referenceMatch)));
    case 'date':
      return anyOf(filter.values.map((v) => dateCondition(filter.param, v.prefix, v.range, now)));
    case 'number':
      return anyOf(filter.values.map((v) => numberCondition(filter.param, v)));
    case 'uri':
      return indexed(filter.param, sql`x.value = ANY(${filter.values.map(indexedKey)}::text[])`);
    case 'missing':
      if (filter.param.source === 'column') {
        return filter.missing ? sql`FALSE` : sql`TRUE`;
      }
      return filter.missing ? sql`NOT ${indexed(filter.param, sql`TRUE`)}` : indexed(filter.param, sql`TRUE`);
    default:
      return filter satisfies never;
  }
}

/** ORDER BY terms for `rules`, ending with the id so the order is total (one version per id in any view). */
export function orderBy(rules: SortRule[]): Sql {
  const terms = rules.map((rule) => {
    const direction = raw(rule.descending ? 'DESC NULLS LAST' : 'ASC NULLS LAST');
    return sql`${sortKey(rule)} ${direction}`;
  });
  if (!rules.some((r) => r.param.code === '_id')) {
    terms.push(sql`rv.id ASC`);
  }
  return join(terms, ', ');
}

/** Multi-valued parameters sort ascending by their least value and descending by their greatest. */
function sortKey(rule: SortRule): Sql {
  const { param, descending } = rule;
  if (param.code === '_id') {
    return sql`rv.id`;
  }
  if (param.code === '_lastUpdated') {
    return sql`rv.last_updated`;
  }
  const aggregate = raw(descending ? 'max' : 'min');
  const column = raw(sortColumn(param.type, descending));
  return sql`(SELECT ${aggregate}(x.${column}) FROM ${raw(TABLES[param.type])} x WHERE x.vid = rv.vid AND x.code = ${param.code})`;
}

function sortColumn(type: SupportedSearchParameter['type'], descending: boolean): string {
  switch (type) {
    case 'string':
      return 'norm';
    case 'reference':
      return 'reference';
    case 'date':
      return descending ? 'high' : 'low';
    case 'token':
    case 'number':
    case 'uri':
      return 'value';
    default:
      return type satisfies never;
  }
}

/** EXISTS over the parameter's index rows of the version (alias `x`) satisfying `condition`. */
function indexed(param: SupportedSearchParameter, condition: Sql): Sql {
  return indexedIn(TABLES[param.type], param.code, condition);
}

/** EXISTS over the rows of `table` under `code` of the version (alias `x`) satisfying `condition`. */
function indexedIn(table: string, code: string, condition: Sql): Sql {
  return sql`EXISTS (SELECT 1 FROM ${raw(table)} x WHERE x.vid = rv.vid AND x.code = ${code} AND (${condition}))`;
}

/**
 * A token row (`x`) holding one of `codes`: one comparison against the whole set, however large. A value stored
 * without a system (an element of type `code`, such as `gender`, whose system its binding implies) is compared by code.
 */
function codeIn(codes: readonly SystemCode[]): Sql {
  if (codes.length === 0) {
    return sql`FALSE`;
  }
  const systems = codes.map((c) => indexedKey(c.system));
  const values = codes.map((c) => indexedKey(c.code));
  return sql`((x.system, x.value) IN (SELECT s, c FROM unnest(${systems}::text[], ${values}::text[]) AS codes(s, c))
    OR (x.system IS NULL AND x.value = ANY(${[...new Set(values)]}::text[])))`;
}

function anyOf(conditions: Sql[]): Sql {
  return sql`(${join(conditions, ' OR ', 'FALSE')})`;
}

/**
 * `:text`: every word of `value` begins a word of some value indexed under `code` (a name's family and given are
 * values of their own, so `ana smi` finds Ana Smith): the value starts with the word or holds it after a non-letter.
 */
function textMatch(table: string, code: string, value: string): Sql {
  const words = indexedNorm(value).split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 0);
  const wordStarts = words.map((w) => indexedIn(table, code, sql`x.norm ~ ${`(^|[^[:alnum:]])${escapeRegex(w)}`}`));
  return sql`(${join(wordStarts, ' AND ', 'FALSE')})`;
}

function stringMatch(mode: Exclude<StringMode, 'text'>, value: string): Sql {
  switch (mode) {
    case 'exact':
      return sql`x.value = ${indexedString(value)}`;
    case 'prefix':
      return prefixMatch(indexedNorm(value));
    case 'contains':
      return sql`x.norm LIKE ${`%${escapeLike(indexedNorm(value))}%`} ESCAPE '\\'`;
    default:
      return mode satisfies never;
  }
}

/**
 * `x.norm` starts with `prefix`. Besides the LIKE that says so, the same prefix as a range of the index's own
 * text_pattern_ops order (byte order, which is code-point order in UTF-8): the statement is prepared and planned once
 * for every value (database.ts), and a generic plan cannot turn a LIKE parameter into an index range, so without it a
 * name search read every indexed name of the code (O(clients), slower with every client added).
 */
function prefixMatch(prefix: string): Sql {
  const like = sql`x.norm LIKE ${`${escapeLike(prefix)}%`} ESCAPE '\\'`;
  const above = prefixUpperBound(prefix);
  if (prefix === '' || above === undefined) {
    return like;
  }
  return sql`x.norm ~>=~ ${prefix} AND x.norm ~<~ ${above} AND ${like}`;
}

/** The least string above every string starting with `prefix`: its last code point plus one (undefined past U+10FFFF). */
export function prefixUpperBound(prefix: string): string | undefined {
  const points = [...prefix];
  const last = points.pop();
  if (last === undefined) {
    return undefined;
  }
  let next = (last.codePointAt(0) as number) + 1;
  if (next >= 0xd800 && next <= 0xdfff) {
    next = 0xe000;
  }
  return next > 0x10ffff ? undefined : points.join('') + String.fromCodePoint(next);
}

/** Escapes what a POSIX regular expression would read as operators, so the text matches literally. */
function escapeRegex(value: string): string {
  return value.replace(/[\\^$.*+?()[\]{}|]/g, (c) => `\\${c}`);
}

function tokenMatch(token: TokenValue): Sql {
  const conditions: Sql[] = [];
  if (token.system === null) {
    conditions.push(sql`x.system IS NULL`);
  } else if (token.system !== undefined) {
    conditions.push(sql`x.system = ${indexedKey(token.system)}`);
  }
  if (token.code !== undefined) {
    conditions.push(sql`x.value = ${indexedKey(token.code)}`);
  }
  return sql`(${join(conditions, ' AND ', 'TRUE')})`;
}

function referenceMatch(value: ReferenceValue): Sql {
  switch (value.kind) {
    case 'raw':
      // Only a row whose own reference names no resource here can equal a value that names none (migration 0019, whose
      // partial index this condition proves usable).
      return sql`(x.reference = ${indexedKey(value.reference)} AND x.target_type IS NULL)`;
    case 'target': {
      const match =
        value.resourceType === undefined
          ? sql`x.target_id = ${value.id}`
          : sql`(x.target_type = ${value.resourceType} AND x.target_id = ${value.id})`;
      // A target the caller may not see is matched by nothing (withheld-references.ts).
      return value.hiddenTypes?.length ? sql`(${match} AND NOT (x.target_type = ANY(${[...value.hiddenTypes]}::text[])))` : match;
    }
    default:
      return value satisfies never;
  }
}

/**
 * FHIR R4 date comparison of a stored range [lo, hi) with the searched range [low, high): `eq` the stored range lies
 * within the searched one; `gt`/`lt` some of it lies after/before; `ge`/`le` either; `sa`/`eb` it starts after /
 * ends before; `ap` it overlaps the searched range widened by 10% of its distance from now; `ne` not `eq`.
 */
function dateCondition(param: SupportedSearchParameter, prefix: DatePrefix, range: DateRange, now: Date): Sql {
  const comparison = (lo: Sql, hi: Sql): Sql => dateComparison(prefix === 'ne' ? 'eq' : prefix, range, lo, hi, now);
  if (param.source === 'column') {
    // _lastUpdated: an instant stored with millisecond precision.
    const condition = comparison(sql`rv.last_updated`, sql`(rv.last_updated + interval '1 millisecond')`);
    return prefix === 'ne' ? sql`NOT ${condition}` : condition;
  }
  const condition = indexed(param, comparison(sql`x.low`, sql`x.high`));
  return prefix === 'ne' ? sql`NOT ${condition}` : condition;
}

function dateComparison(prefix: Exclude<DatePrefix, 'ne'>, range: DateRange, lo: Sql, hi: Sql, now: Date): Sql {
  const low = sql`${timestamptz(range.low)}::timestamptz`;
  const high = sql`${timestamptz(range.high)}::timestamptz`;
  const eq = sql`(${lo} >= ${low} AND ${hi} <= ${high})`;
  switch (prefix) {
    case 'eq':
      return eq;
    case 'gt':
      return sql`(${hi} > ${high})`;
    case 'lt':
      return sql`(${lo} < ${low})`;
    case 'ge':
      return sql`(${hi} > ${high} OR ${eq})`;
    case 'le':
      return sql`(${lo} < ${low} OR ${eq})`;
    case 'sa':
      return sql`(${lo} >= ${high})`;
    case 'eb':
      return sql`(${hi} <= ${low})`;
    case 'ap': {
      const widened = widen(range, now);
      return sql`(${lo} < ${timestamptz(widened.high)}::timestamptz AND ${hi} > ${timestamptz(widened.low)}::timestamptz)`;
    }
    default:
      return prefix satisfies never;
  }
}

/** A searched range (always finite) widened by 10% of its start's distance from now; beyond 4714 BC it is open. */
function widen(range: DateRange, now: Date): DateRange {
  const margin = Math.abs(now.getTime() - range.low) * 0.1;
  return { low: range.low - margin, high: range.high + margin };
}

function numberCondition(param: SupportedSearchParameter, value: NumberValue): Sql {
  const n = sql`${value.value}::numeric`;
  const inRange = sql`(x.value >= ${n} - ${value.halfUnit}::numeric AND x.value < ${n} + ${value.halfUnit}::numeric)`;
  switch (value.prefix) {
    case 'eq':
      return indexed(param, inRange);
    case 'ne':
      return sql`NOT ${indexed(param, inRange)}`;
    case 'gt':
      return indexed(param, sql`x.value > ${n}`);
    case 'lt':
      return indexed(param, sql`x.value < ${n}`);
    case 'ge':
      return indexed(param, sql`x.value >= ${n}`);
    case 'le':
      return indexed(param, sql`x.value <= ${n}`);
    default:
      return value.prefix satisfies never;
  }
}
