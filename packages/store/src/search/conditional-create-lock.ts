/**
 * What a conditional create (If-None-Exist) locks on while it searches and creates: a key for the search as parsed,
 * not as spelled, so every spelling of one search waits for the others (`identifier=http://x|ID`,
 * `identifier=http://x%7CID`, `identifier=http://x|ID&_format=json`), and the second one to run finds the first one's
 * resource instead of creating another. The key is coarser than the search on purpose: it only serialises conditional
 * creates that might find the same resource. Parameters and values are sorted and de-duplicated, what only shapes the
 * answer (`_format`, `_count`, `_sort`, `_summary`, `_include` ...) is left out, a token is keyed by its code whatever
 * its system (`identifier=ID` may find what `identifier=http://x|ID` creates), and a reference by its id whatever its
 * type.
 */
import type { SearchFilter, SearchRequest } from './search-request';
import { indexedNorm } from './search-index';

/** The lock key of a conditional create's parsed search. */
export function conditionalCreateLockKey(request: SearchRequest): string {
  const filters = [...new Set(request.filters.map(filterKey))].sort();
  return JSON.stringify([request.resourceType, filters]);
}

function filterKey(filter: SearchFilter): string {
  const code = filter.param.code;
  switch (filter.kind) {
    case 'token':
      return key(code, filter.negate ? 'not' : 'token', filter.values.map((v) => v.code ?? ''));
    case 'reference':
      return key(code, 'reference', filter.values.map((v) => (v.kind === 'target' ? v.id : v.reference)));
    case 'string':
      return key(code, filter.mode, filter.values.map((v) => (filter.mode === 'exact' ? v : indexedNorm(v))));
    case 'date':
      return key(code, 'date', filter.values.map((v) => `${v.prefix}${v.range.low}/${v.range.high}`));
    case 'number':
      return key(code, 'number', filter.values.map((v) => `${v.prefix}${v.value}`));
    case 'uri':
      return key(code, 'uri', filter.values);
    case 'missing':
      return key(code, 'missing', [String(filter.missing)]);
    case 'token-text':
      return key(code, 'text', filter.values.map(indexedNorm));
    case 'token-set':
      return key(code, filter.negate ? 'not-in' : 'in', filter.codes.map((c) => c.code));
    case 'chain':
      return key(code, 'chain', filter.targets.map((t) => `${t.resourceType}:${filterKey(t.filter)}`));
    case 'has':
      return key(code, `has:${filter.sourceType}`, [filterKey(filter.filter)]);
    default:
      return filter satisfies never;
  }
}

function key(code: string, kind: string, values: readonly string[]): string {
  return JSON.stringify([code, kind, [...new Set(values)].sort()]);
}
