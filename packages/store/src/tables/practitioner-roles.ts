/**
 * PractitionerRoles and the organizations they are at, as recipient resolution reads them (packages/consent
 * recipient-directory.ts says when a role is in force and who it stands for; this module only reads the rows).
 */
import type { Period, PractitionerRole } from '@medplum/fhirtypes';
import type { Queryable } from '../database';
import { sql, type Sql } from '../sql';

/** A PractitionerRole as recipient resolution needs it. */
export interface PractitionerRoleRow {
  /** The role's id. */
  readonly id: string;
  /** `Organization/{id}` the role is at, if any. */
  readonly organization: string | undefined;
  readonly period: Period | undefined;
}

/**
 * SQL condition: the current version of the Organization `reference` (an SQL text value `Organization/{id}`) is
 * marked inactive or deleted.
 */
export function organizationWithdrawn(reference: Sql): Sql {
  return sql`EXISTS (SELECT 1 FROM resource_version org
      WHERE org.resource_type = 'Organization' AND ${reference} LIKE 'Organization/%' AND org.id = substr(${reference}, 14)
        AND org.superseded_xid IS NULL AND (org.deleted OR (org.content ->> 'active') = 'false'))`;
}

/**
 * The live PractitionerRoles of the Practitioner `practitionerId` not marked inactive and not at a withdrawn
 * organization, at `organization` when given, in id order; read through the search index on `practitioner`. Their
 * periods are the caller's to judge.
 */
export async function findPractitionerRoles(
  q: Queryable,
  practitionerId: string,
  organization?: string,
): Promise<PractitionerRoleRow[]> {
  const { rows } = await q.query<{ id: string; organization: string | null; period: Period | null }>(sql`
    SELECT rv.id, rv.content #>> '{organization,reference}' AS organization, rv.content -> 'period' AS period
    FROM search_reference r JOIN resource_version rv ON rv.vid = r.vid
    WHERE r.code = 'practitioner' AND r.target_type = 'Practitioner' AND r.target_id = ${practitionerId}
      AND rv.resource_type = 'PractitionerRole' AND rv.superseded_xid IS NULL AND NOT rv.deleted
      AND COALESCE(rv.content ->> 'active', 'true') <> 'false'
      AND NOT ${organizationWithdrawn(sql`COALESCE(rv.content #>> '{organization,reference}', '')`)}
      ${organization === undefined ? sql`` : sql`AND rv.content #>> '{organization,reference}' = ${organization}`}
    ORDER BY rv.id`);
  return rows.map((row) => ({ id: row.id, organization: row.organization ?? undefined, period: row.period ?? undefined }));
}

/** The current, live version of the PractitionerRole `id`. */
export async function readPractitionerRole(q: Queryable, id: string): Promise<PractitionerRole | undefined> {
  const { rows } = await q.query<{ content: PractitionerRole }>(sql`
    SELECT rv.content FROM resource_version rv
    WHERE rv.resource_type = 'PractitionerRole' AND rv.id = ${id} AND rv.superseded_xid IS NULL AND NOT rv.deleted`);
  return rows[0]?.content;
}

/** Those of `organizations` (`Organization/{id}`) marked inactive or deleted. */
export async function findWithdrawnOrganizations(q: Queryable, organizations: readonly string[]): Promise<Set<string>> {
  const { rows } = await q.query<{ organization: string }>(sql`
    SELECT named.organization FROM unnest(${organizations}::text[]) AS named(organization) WHERE ${organizationWithdrawn(sql`named.organization`)}`);
  return new Set(rows.map((row) => row.organization));
}
