/**
 * Conditions on the extensions a stored resource carries, over the `resource_version` row aliased `rv` (as an access
 * policy's visibility is applied): e.g. "the subscriptions whose owner extension names this organization". Which
 * extension means what is the policy's to say; this module only writes the SQL, parameterised.
 */
import { sql, type Sql } from '../sql';

/** The versions (`rv`) carrying a top-level extension `url` whose valueReference is exactly `reference`. */
export function hasExtensionReference(url: string, reference: string): Sql {
  const extension = JSON.stringify([{ url, valueReference: { reference } }]);
  return sql`COALESCE((rv.content -> 'extension') @> ${extension}::jsonb, false)`;
}
