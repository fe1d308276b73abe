/**
 * What the care write rules look up inside the write's own transaction: the current, non-deleted version of a resource
 * straight from resource_version (through the store's `sql` tag, always parameterised).
 *
 * Why not the caller's repository: a rule runs for every writer and must judge the write against the facts (the
 * Task's patient and custodian, the ServiceRequest a Task was created for), also where the writer may not read them.
 * Nothing read here is returned to the caller, and the rules answer with outcomes that do not tell "absent" from
 * "hidden". A resource the writer names as evidence (a consult note's referral, the note a Task is completed with)
 * is read through visible-resources.ts instead: it counts only when the writer may see it.
 */
import type { Resource, ResourceType } from '@medplum/fhirtypes';
import { parseRelativeReference, type ReferenceTarget } from '@carecircle/fhir';
import { sql, type Queryable, type Sql } from '@carecircle/store';

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
 * The current versions of those of `ids` that exist and are not deleted (any order), and that meet `condition` over
 * the row `rv` when one is given (a policy's visibility, see visible-resources.ts).
 */
export async function readCurrentMany<K extends ResourceType>(
  tx: Queryable,
  resourceType: K,
  ids: readonly string[],
  condition: Sql = sql`TRUE`,
): Promise<ResourceOfType<K>[]> {
  if (ids.length === 0) {
    return [];
  }
  const { rows } = await tx.query<{ content: ResourceOfType<K> }>(sql`
    SELECT rv.content FROM resource_version rv
    WHERE rv.resource_type = ${resourceType} AND rv.id = ANY(${[...ids]}::text[])
      AND rv.superseded_xid IS NULL AND NOT rv.deleted AND (${condition})`);
  return rows.map((row) => row.content);
}
