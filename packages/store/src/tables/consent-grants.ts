/**
 * The `consent_grant` table (migration 0006): one row per (client, recipient, purpose, category) a Consent version in
 * force may permit, with the consent's period. Which rows a Consent contributes, and what they grant, is consent's
 * rule (packages/consent consent-grant-index.ts and consent-policy.ts); this module only writes the rows and looks
 * them up: "a grant in force", as a condition other statements embed and as the queries asking it of several clients
 * or categories at once.
 */
import type { Queryable } from '../database';
import { raw, sql, type Sql } from '../sql';
import { organizationWithdrawn } from './practitioner-roles';

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

/** What a grant is looked up for: who receives it (its references), why, and when. */
export interface GrantLookup {
  /** The recipient's references (`Organization/…`, `Practitioner/…`, `PractitionerRole/…`): a grant to any counts. */
  readonly actors: readonly string[];
  /** v3-ActReason code. */
  readonly purpose: string;
  readonly now: Date;
}

/** A grant in force, with the Consent version it comes from. */
export interface GrantInForce {
  /** `Patient/{id}` */
  readonly patient: string;
  readonly category: string;
  readonly consentId: string;
  readonly consentVersion: number;
}

/**
 * Condition: a grant in force gives `patient` (an SQL text value `Patient/{id}`) to one of `lookup`'s actors for its
 * purpose (and `category`, an SQL text value, when given): an indexed lookup in consent_grant, joined to the Consent's
 * current version so a deleted or superseded consent counts for nothing, within the consent's period, not to an
 * Organization marked inactive, and recorded with the client's current custodian.
 */
export function grantInForce(patient: Sql, lookup: GrantLookup, category?: Sql): Sql {
  const now = lookup.now.toISOString();
  return sql`EXISTS (SELECT 1 FROM consent_grant g
      JOIN resource_version c ON c.resource_type = 'Consent' AND c.id = g.consent_id AND c.superseded_xid IS NULL
    WHERE g.patient = ${patient} AND g.purpose = ${lookup.purpose} AND g.actor = ANY(${[...lookup.actors]}::text[])
      ${category ? sql`AND g.category = ${category}` : sql``}
      AND (g.period_start IS NULL OR g.period_start <= ${now}::timestamptz)
      AND (g.period_end IS NULL OR g.period_end > ${now}::timestamptz)
      AND NOT ${organizationWithdrawn(raw('g.actor'))}
      AND c.version_id = g.consent_version AND NOT c.deleted
      AND ${recordedWithCurrentCustodian(raw('g.patient'), raw('c'))})`;
}

/**
 * A consent is an agreement between the client and the practice that recorded it (`Consent.organization`), about what
 * that practice holds: it grants nothing while the client is with another practice (moved, or deleted), and counts
 * again if the client comes back. Over `consent`, a Consent version, for `patient` (`Patient/{id}` as SQL).
 */
function recordedWithCurrentCustodian(patient: Sql, consent: Sql): Sql {
  // A scalar subquery (the client's current version is unique), not EXISTS: as a semi-join the planner may drive it
  // from the custodian index and read every client of the practice per grant. No current version, or a deleted one,
  // gives NULL, and NULL = … is not true.
  return sql`(SELECT p.content -> 'managingOrganization' ->> 'reference' FROM resource_version p
      WHERE p.resource_type = 'Patient' AND p.id = substr(${patient}, 9) AND p.superseded_xid IS NULL AND NOT p.deleted)
    = (${consent}.content -> 'organization' -> 0 ->> 'reference')`;
}

/**
 * The grants in force of `patients` (`Patient/{id}`) to `lookup`'s actors for its purpose, any category, with the
 * Consent version each comes from: one indexed query for all of them, with exactly the conditions of
 * {@link grantInForce}.
 */
export async function findGrantsInForce(q: Queryable, patients: readonly string[], lookup: GrantLookup): Promise<GrantInForce[]> {
  const { rows } = await q.query<{ patient: string; category: string; consent_id: string; consent_version: number }>(sql`
    SELECT DISTINCT g.patient, g.category, g.consent_id, g.consent_version ${grantsInForceOf(sql`${[...patients]}::text[]`, lookup)}`);
  return rows.map((row) => ({ patient: row.patient, category: row.category, consentId: row.consent_id, consentVersion: Number(row.consent_version) }));
}

/**
 * {@link findGrantsInForce} as a column of the statement that reads `rv`: the grants in force of the row's clients (its
 * Patient compartments), as a JSON array of {@link GrantInForce}, found with the row instead of in a statement of
 * their own. Empty for a lookup with no actors.
 */
export function grantsInForceColumn(lookup: GrantLookup): Sql {
  if (lookup.actors.length === 0) {
    return sql`'[]'::jsonb`;
  }
  const patients = raw('rv.compartments');
  return sql`(SELECT COALESCE(jsonb_agg(DISTINCT jsonb_build_object('patient', g.patient, 'category', g.category,
      'consentId', g.consent_id, 'consentVersion', g.consent_version)), '[]'::jsonb) ${grantsInForceOf(patients, lookup)})`;
}

/** FROM and WHERE of the grants in force of `patients` (SQL text[]): exactly the conditions of {@link grantInForce}. */
function grantsInForceOf(patients: Sql, lookup: GrantLookup): Sql {
  const now = lookup.now.toISOString();
  return sql`FROM consent_grant g
      JOIN resource_version c ON c.resource_type = 'Consent' AND c.id = g.consent_id AND c.superseded_xid IS NULL
    WHERE g.patient = ANY(${patients}) AND g.purpose = ${lookup.purpose} AND g.actor = ANY(${[...lookup.actors]}::text[])
      AND (g.period_start IS NULL OR g.period_start <= ${now}::timestamptz)
      AND (g.period_end IS NULL OR g.period_end > ${now}::timestamptz)
      AND NOT ${organizationWithdrawn(raw('g.actor'))}
      AND c.version_id = g.consent_version AND NOT c.deleted
      AND ${recordedWithCurrentCustodian(raw('g.patient'), raw('c'))}`;
}

/** Of `categories`, those that no grant in force ({@link grantInForce}) gives `patient` (`Patient/{id}`) in. */
export async function findUngrantedCategories(
  q: Queryable,
  patient: string,
  categories: readonly string[],
  lookup: GrantLookup,
): Promise<string[]> {
  const { rows } = await q.query<{ category: string }>(sql`
    SELECT k.category FROM unnest(${[...categories]}::text[]) AS k(category)
    WHERE NOT ${grantInForce(sql`${patient}::text`, lookup, raw('k.category'))}`);
  return rows.map((row) => row.category);
}
