/**
 * The `consent_grant` table (migration 0006): one row per (client, recipient, purpose, category) a Consent version in
 * force may permit, with the consent's period. Which rows a Consent contributes, and what they grant, is consent's
 * rule (packages/consent consent-grant-index.ts and consent-policy.ts); this module only writes the rows.
 */
import type { Queryable } from '../database';
import { sql } from '../sql';

/** One row of the index, as consent computes it from a Consent version. */
export interface ConsentGrantRow {
  /** `Patient/{id}` */
  readonly patient: string;
  /** `Organization/…`, `Practitioner/…` or `PractitionerRole/…`. */
  readonly actor: string;
  /** v3-ActReason code. */
  readonly purpose: string;
  /** Share category. */
  readonly category: string;
  /** ISO instants; undefined for an open end. */
  readonly periodStart: string | undefined;
  readonly periodEnd: string | undefined;
}

/**
 * Replaces the rows of the Consent `consentId` with `rows`, written for its version `version` (no rows written when
 * `rows` is empty or the version is not an integer). Call it inside the write's transaction.
 */
export async function replaceConsentGrants(
  q: Queryable,
  consentId: string,
  version: number,
  rows: readonly ConsentGrantRow[],
): Promise<void> {
  await q.query(sql`DELETE FROM consent_grant WHERE consent_id = ${consentId}`);
  if (rows.length === 0 || !Number.isInteger(version)) {
    return;
  }
  await q.query(sql`
    INSERT INTO consent_grant (consent_id, consent_version, patient, actor, purpose, category, period_start, period_end)
    SELECT ${consentId}, ${version}, g.patient, g.actor, g.purpose, g.category, g.period_start, g.period_end
    FROM unnest(${rows.map((r) => r.patient)}::text[], ${rows.map((r) => r.actor)}::text[], ${rows.map((r) => r.purpose)}::text[],
                ${rows.map((r) => r.category)}::text[], ${rows.map((r) => r.periodStart ?? null)}::timestamptz[],
                ${rows.map((r) => r.periodEnd ?? null)}::timestamptz[])
      AS g(patient, actor, purpose, category, period_start, period_end)`);
}
