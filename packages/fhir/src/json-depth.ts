/**
 * How deeply JSON may nest. FHIR resources nest a few dozen levels at most, while the code that walks them (the
 * validators, JSON Patch, the search indexer) recurses once per level: input nested thousands deep would exhaust the
 * stack and become a server error. Input is measured first, without recursion, and refused beyond the limit.
 */

/** Deepest nesting of objects and arrays accepted anywhere in a request body or resource. */
export const MAX_JSON_DEPTH = 128;

/** True when `value` nests objects or arrays more than `maxDepth` levels deep (measured iteratively). */
export function exceedsJsonDepth(value: unknown, maxDepth = MAX_JSON_DEPTH): boolean {
  const pending: Array<[unknown, number]> = [[value, 0]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop() as [unknown, number];
    if (typeof current !== 'object' || current === null) {
      continue;
    }
    if (depth >= maxDepth) {
      return true;
    }
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (typeof child === 'object' && child !== null) {
        pending.push([child, depth + 1]);
      }
    }
  }
  return false;
}
