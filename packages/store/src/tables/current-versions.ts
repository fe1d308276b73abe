/**
 * The current versions of resources as the write rules look them up inside a write's own transaction: by id, by what
 * they mention, and whether a resource's latest version is a deletion. What the answers mean is the rules' to say
 * (packages/care, packages/consent); this module only reads the rows. A rule that counts only what the writer may see
 * hands the writer's policy ({@link AccessPolicy}, whose visibility is the predicate); one that must single out some
 * versions hands a `matching` condition a policy module built over the row `rv` (consent's isPsychotherapyNote).
 */
import type { Resource } from '@medplum/fhirtypes';
import type { AccessPolicy } from '../access-policy';
import type { Queryable } from '../database';
import { sql, type Sql } from '../sql';
import type { ResourceKey } from './referenced-versions';

/** What a lookup is narrowed to: versions `visibleTo`'s caller may see, and that meet `matching` (over `rv`). */
export interface CurrentVersionFilter {
  readonly visibleTo?: AccessPolicy;
  readonly matching?: Sql;
}

/** The condition over `rv`, a version of `resourceType`, that `filter` stands for (TRUE for none). */
function filterCondition(resourceType: string, { visibleTo, matching }: CurrentVersionFilter): Sql {
  const visible = visibleTo?.visibility(resourceType);
  return sql`(${visible ?? sql`TRUE`}) AND (${matching ?? sql`TRUE`})`;
}

/**
 * The current versions of those of `ids` of `resourceType` that exist, are not deleted and pass `filter` (any
 * order). Read through `q`, the write's transaction.
 */
export async function readCurrentVersions<T extends Resource>(
  q: Queryable,
  resourceType: string,
  ids: readonly string[],
  filter: CurrentVersionFilter = {},
): Promise<T[]> {
  if (ids.length === 0) {
    return [];
  }
  const { rows } = await q.query<{ content: T }>(sql`
    SELECT rv.content FROM resource_version rv
    WHERE rv.resource_type = ${resourceType} AND rv.id = ANY(${[...ids]}::text[])
      AND rv.superseded_xid IS NULL AND NOT rv.deleted AND ${filterCondition(resourceType, filter)}`);
  return rows.map((row) => row.content);
}

/** `Type/id` of the first of `targets` whose current, live version passes `filter`, or undefined. */
export async function findFirstCurrentVersion(q: Queryable, targets: readonly ResourceKey[], filter: CurrentVersionFilter): Promise<string | undefined> {
  const byType = new Map<string, string[]>();
  for (const { resourceType, id } of targets) {
    byType.set(resourceType, [...(byType.get(resourceType) ?? []), id]);
  }
  for (const [resourceType, ids] of byType) {
    const { rows } = await q.query<{ id: string }>(sql`
      SELECT rv.id FROM resource_version rv
      WHERE rv.resource_type = ${resourceType} AND rv.id = ANY(${ids}::text[]) AND rv.superseded_xid IS NULL AND NOT rv.deleted
        AND ${filterCondition(resourceType, filter)}
      LIMIT 1`);
    if (rows[0]) {
      return `${resourceType}/${rows[0].id}`;
    }
  }
  return undefined;
}

/** Which current versions {@link findCurrentVersionsMentioning} looks at. */
export interface MentionQuery {
  /** In one of these Patient compartments (`Patient/{id}`). */
  readonly compartments: readonly string[];
  /** Whose JSON holds this text (candidates: the caller checks the references exactly). */
  readonly text: string;
  /** Not of these types. */
  readonly exceptTypes: readonly string[];
  /** Not this resource itself. */
  readonly except: ResourceKey;
  /** Not meeting this condition over `rv`. */
  readonly unless: Sql;
}

/** The current, live versions of `query`'s clients' records that mention its text (any order). */
export async function findCurrentVersionsMentioning(q: Queryable, query: MentionQuery): Promise<Resource[]> {
  const { rows } = await q.query<{ content: Resource }>(sql`
    SELECT rv.content FROM resource_version rv
    WHERE rv.compartments && ${[...query.compartments]}::text[] AND rv.superseded_xid IS NULL AND NOT rv.deleted
      AND rv.resource_type <> ALL(${[...query.exceptTypes]}::text[])
      AND NOT (rv.resource_type = ${query.except.resourceType} AND rv.id = ${query.except.id})
      AND strpos(rv.content::text, ${query.text}) > 0 AND NOT ${query.unless}`);
  return rows.map((row) => row.content);
}

/** True when the latest stored version of `resourceType/id` is a deletion (false when none is stored). */
export async function isLatestVersionDeleted(q: Queryable, resourceType: string, id: string): Promise<boolean> {
  const { rows } = await q.query<{ deleted: boolean }>(sql`
    SELECT deleted FROM resource_version WHERE resource_type = ${resourceType} AND id = ${id}
    ORDER BY version_id DESC LIMIT 1`);
  return rows[0]?.deleted === true;
}
