/**
 * What the care write rules look up inside the write's own transaction: the current, non-deleted version of a resource,
 * read by store's current-versions table module.
 *
 * Why not the caller's repository: a rule runs for every writer and must judge the write against the facts (the
 * Task's patient and custodian, the ServiceRequest a Task was created for), also where the writer may not read them.
 * Nothing read here is returned to the caller, and the rules answer with outcomes that do not tell "absent" from
 * "hidden". A resource the writer names as evidence (a consult note's referral, the note a Task is completed with)
 * is read through visible-resources.ts instead: it counts only when the writer may see it.
 */
import type { Resource, ResourceType } from '@medplum/fhirtypes';
import { parseRelativeReference, type ReferenceTarget } from '@carecircle/fhir';
import { readCurrentVersions, type AccessPolicy, type Queryable } from '@carecircle/store';

/** A resource of type `K`. */
export type ResourceOfType<K extends ResourceType> = Extract<Resource, { resourceType: K }>;

/** The target of `reference` when it is a relative reference to a resource of `resourceType`. */
export function referenceTo(reference: string | undefined, resourceType: ResourceType): ReferenceTarget | undefined {
  const target = parseRelativeReference(reference);
  return target?.resourceType === resourceType ? target : undefined;
}

/** The current version of `resourceType/id`, or undefined when it does not exist or is deleted. */
export async function readCurrent<K extends ResourceType>(tx: Queryable, resourceType: K, id: string): Promise<ResourceOfType<K> | undefined> {
  const [first] = await readCurrentMany(tx, resourceType, [id]);
  return first;
}

/**
 * The current versions of those of `ids` that exist and are not deleted (any order), and that `visibleTo` (a policy,
 * see visible-resources.ts) lets its caller see, when one is given.
 */
export function readCurrentMany<K extends ResourceType>(
  tx: Queryable,
  resourceType: K,
  ids: readonly string[],
  visibleTo?: AccessPolicy,
): Promise<ResourceOfType<K>[]> {
  return readCurrentVersions<ResourceOfType<K>>(tx, resourceType, ids, visibleTo ? { visibleTo } : {});
}
