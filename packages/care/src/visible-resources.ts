/**
 * What a write rule may count on the writer's behalf: a resource the writer names (a consult note's referral, the
 * consult note a Task is completed with) counts only when the writer may see it now. One that exists but is hidden
 * from the writer is treated exactly as one that does not exist, so no refusal tells the two apart (DESIGN.md: a
 * resource the caller may not see answers as if absent).
 *
 * The writer's access is the policy the write pipeline hands each rule with the writer (auth's writer.ts), never
 * taken from the request context.
 */
import type { ResourceType } from '@medplum/fhirtypes';
import type { AccessPolicy, Queryable } from '@carecircle/store';
import { readCurrentMany, type ResourceOfType } from './current-resources';

/**
 * The current versions of those of `ids` that exist, are not deleted and `policy` (the writer's) lets its caller see
 * now; any order. Read in the write's transaction `tx`.
 */
export function readVisibleMany<K extends ResourceType>(
  tx: Queryable,
  resourceType: K,
  ids: readonly string[],
  policy: AccessPolicy,
): Promise<ResourceOfType<K>[]> {
  return readCurrentMany(tx, resourceType, ids, policy);
}
