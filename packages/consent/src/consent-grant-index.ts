/**
 * The consent-grant index (table `consent_grant`, migration 0006): one row per (client, recipient, purpose, category)
 * that a Consent in force may permit, with the consent's period, written by a store {@link WriteRule} in the same
 * transaction as the Consent itself. The access policy asks it, per candidate row and inside the SQL of every read,
 * whether a grant covers that row (consent-policy.ts), so the cost of a request follows the rows it touches, not the
 * number of clients who consented to the caller; and a revocation commits together with the removal of its rows, so it
 * takes effect on the very next request on every replica.
 *
 * A row counts only while the Consent version that wrote it is the current, live version (the policy joins it): a
 * deleted or superseded Consent grants nothing even before its rows are gone. Rows carry the period as instants
 * (start inclusive, end exclusive, partial dates widened as {@link isConsentInForce} reads them), so "in force now" is
 * a comparison.
 */
import { replaceConsentGrants, type WriteRule } from '@carecircle/store';
import type { Consent, Resource } from '@medplum/fhirtypes';
import { consentRecipients, periodEnd, periodStart, provisionCategories, PURPOSE_OF_USE_SYSTEM, PURPOSES_OF_USE } from './consent-decision';
import { PSYCHOTHERAPY_NOTES } from './share-category';

/** One row of the index. */
export interface GrantRow {
  /** `Patient/{id}` */
  patient: string;
  /** `Organization/…`, `Practitioner/…` or `PractitionerRole/…`: an IRCP actor of the consent. */
  actor: string;
  /** v3-ActReason code. */
  purpose: string;
  /** Share category (never psychotherapy notes). */
  category: string;
  /** ISO instants; undefined for an open end. */
  periodStart: string | undefined;
  periodEnd: string | undefined;
}

/**
 * The rows a Consent version contributes: none unless it is an active permit of a patient with a readable period;
 * otherwise every IRCP actor x supported purpose x category it lists (psychotherapy notes never). Pure.
 */
export function grantRowsOf(consent: Consent): GrantRow[] {
  const provision = consent.provision;
  const patient = consent.patient?.reference;
  if (consent.status !== 'active' || provision?.type !== 'permit' || !patient) {
    return [];
  }
  const start = provision.period?.start ? periodStart(provision.period.start) : undefined;
  const end = provision.period?.end ? periodEnd(provision.period.end) : undefined;
  if (Number.isNaN(start) || Number.isNaN(end)) {
    return [];
  }
  const actors = [...new Set(consentRecipients(provision))];
  const purposes = [
    ...new Set(
      (provision.purpose ?? [])
        .filter((p) => p.system === PURPOSE_OF_USE_SYSTEM && p.code !== undefined && PURPOSES_OF_USE.has(p.code))
        .map((p) => p.code as string),
    ),
  ];
  const categories = [...new Set(provisionCategories(provision))].filter((c) => c !== PSYCHOTHERAPY_NOTES);
  const rows: GrantRow[] = [];
  for (const actor of actors) {
    for (const purpose of purposes) {
      for (const category of categories) {
        rows.push({
          patient,
          actor,
          purpose,
          category,
          periodStart: start === undefined ? undefined : new Date(start).toISOString(),
          periodEnd: end === undefined ? undefined : new Date(end).toISOString(),
        });
      }
    }
  }
  return rows;
}

/**
 * Write rule: replaces the index rows of a Consent with those of the version being written, inside the write's
 * transaction (so they commit or roll back with it). Register it after the consent well-formedness rule.
 */
export const indexConsentGrants: WriteRule = async (next, _current, tx) => {
  if (!isConsent(next) || !next.id) {
    return;
  }
  await replaceConsentGrants(tx, next.id, Number(next.meta?.versionId), grantRowsOf(next));
};

function isConsent(resource: Resource): resource is Consent {
  return resource.resourceType === 'Consent';
}
