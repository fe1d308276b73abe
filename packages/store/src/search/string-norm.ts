/**
 * The normal form string search compares: lower case with accents removed, so `Zoë` is found by `zoe` and `ZOE`.
 * The indexer stores it in search_string.norm and the query builder applies it to the search value: both sides must
 * use this one function.
 */

/** Lower-cases `value` and strips combining marks (accents) after Unicode decomposition. */
export function normalizeForSearch(value: string): string {
  return value.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/** Escapes LIKE wildcards (`%`, `_`) and the escape character itself so the text matches literally. */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}
