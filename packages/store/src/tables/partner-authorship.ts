/**
 * The `partner_authorship` table: which organization wrote a resource version through a partner workflow. Which
 * writes are recorded, and what the record lets a partner read back, is consent's rule (packages/consent
 * partner-authorship.ts); this module only writes the rows.
 */
import type { Queryable } from '../database';
import { sql } from '../sql';

/** Records that `organization` (`Organization/{id}`) wrote version `versionId` of `resourceType/id`. */
export async function insertPartnerAuthorship(
  q: Queryable,
  authored: { resourceType: string; id: string; versionId: number; organization: string },
): Promise<void> {
  await q.query(sql`
    INSERT INTO partner_authorship (resource_type, id, version_id, organization)
    VALUES (${authored.resourceType}, ${authored.id}, ${authored.versionId}, ${authored.organization})`);
}
