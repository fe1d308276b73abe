/**
 * The `partner_authorship` table: which organization wrote a resource version through a partner workflow. Which
 * writes are recorded, and what the record lets a partner read back, is consent's rule (packages/consent
 * partner-authorship.ts); this module only writes the rows and the condition that reads them.
 */
import type { Queryable } from '../database';
import { join, raw, sql, type Sql } from '../sql';

/** Records that `organization` (`Organization/{id}`) wrote version `versionId` of `resourceType/id`. */
export async function insertPartnerAuthorship(
  q: Queryable,
  authored: { resourceType: string; id: string; versionId: number; organization: string },
): Promise<void> {
  await q.query(sql`
    INSERT INTO partner_authorship (resource_type, id, version_id, organization)
    VALUES (${authored.resourceType}, ${authored.id}, ${authored.versionId}, ${authored.organization})`);
}

/**
 * Over `rv`, a version of `resourceType`: `organization` wrote it (a row of this table), it is in some client's
 * compartment, none of `unless` holds of it, and `everyClient` holds for every client whose compartment it is in
 * (handed the client, `Patient/{id}`, as SQL). What the conditions are is consent's rule (partner-authorship.ts).
 */
export function authoredBy(
  resourceType: string,
  organization: string,
  conditions: { unless: readonly Sql[]; everyClient: (patient: Sql) => Sql },
): Sql {
  const unless = join(
    conditions.unless.map((condition) => sql`NOT ${condition}`),
    ' AND ',
    'TRUE',
  );
  return sql`(EXISTS (SELECT 1 FROM partner_authorship a
      WHERE a.resource_type = ${resourceType} AND a.id = rv.id AND a.version_id = rv.version_id AND a.organization = ${organization})
    AND cardinality(rv.compartments) > 0
    AND ${unless}
    AND NOT EXISTS (SELECT 1 FROM unnest(rv.compartments) AS client(patient) WHERE NOT ${conditions.everyClient(raw('client.patient'))}))`;
}
