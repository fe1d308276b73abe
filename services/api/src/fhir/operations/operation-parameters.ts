/**
 * Reading the parameters of an operation invoked with GET, as strictly as a search reads its own (store
 * search-request.ts): a parameter the operation does not define is a 400 naming it, a parameter given twice is a 400
 * naming it (never silently read as its first value), and text the database could not hold is a 400. `_format` and
 * `_pretty` shape the response only and are left to the HTTP layer.
 */
import { badRequest, fail, hasUnstorableCharacters, safeForMessage } from '@carecircle/fhir';

const RESPONSE_FORMAT_PARAMETERS: ReadonlySet<string> = new Set(['_format', '_pretty']);

/**
 * The values of `operation`'s parameters `names` in `params`, each at most once; throws a 400 OperationOutcome for
 * any other parameter, a repeated one, or one holding NUL or an unpaired surrogate.
 */
export function readOperationParameters<N extends string>(
  operation: string,
  params: URLSearchParams,
  names: readonly N[],
): Partial<Record<N, string>> {
  const values: Partial<Record<N, string>> = {};
  for (const [name, value] of params) {
    if (RESPONSE_FORMAT_PARAMETERS.has(name)) {
      continue;
    }
    if (!(names as readonly string[]).includes(name)) {
      const defined = names.length > 0 ? `it takes ${names.join(', ')}` : 'it takes none';
      fail(badRequest(`Unknown parameter for $${operation}: ${safeForMessage(name)} (${defined})`, safeForMessage(name)));
    }
    const known = name as N;
    if (values[known] !== undefined) {
      fail(badRequest(`${name} may appear only once`, name));
    }
    if (hasUnstorableCharacters(value)) {
      fail(badRequest(`${name} may not contain NUL or unpaired surrogate characters`, name));
    }
    values[known] = value;
  }
  return values;
}
