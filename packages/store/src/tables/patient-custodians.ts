/**
 * A client's custodian as stored: the `managingOrganization` of the current, live version of a Patient. What a
 * custodian may do is the policies' rule (packages/consent, packages/access); this module only reads the row.
 */
import type { Queryable } from '../database';
import { sql } from '../sql';

/** The custodian reference (`Organization/{id}`) of the live Patient `patientId`; undefined when it has none or is gone. */
export async function readPatientCustodian(q: Queryable, patientId: string): Promise<string | undefined> {
  const { rows } = await q.query<{ organization: string | null }>(sql`
    SELECT content -> 'managingOrganization' ->> 'reference' AS organization FROM resource_version
    WHERE resource_type = 'Patient' AND id = ${patientId} AND superseded_xid IS NULL AND NOT deleted`);
  return rows[0]?.organization ?? undefined;
}

/**
 * The live Patient `patientId`, locked FOR SHARE until the transaction ends (so it cannot change or go under a write
 * that relies on it), with its custodian reference; undefined when there is no such Patient.
 */
export async function lockPatientCustodian(q: Queryable, patientId: string): Promise<{ custodian: string | undefined } | undefined> {
  const { rows } = await q.query<{ custodian: string | null }>(sql`
    SELECT content -> 'managingOrganization' ->> 'reference' AS custodian FROM resource_version
    WHERE resource_type = 'Patient' AND id = ${patientId} AND superseded_xid IS NULL AND NOT deleted
    FOR SHARE`);
  const row = rows[0];
  return row ? { custodian: row.custodian ?? undefined } : undefined;
}
