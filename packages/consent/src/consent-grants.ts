/**
 * Grants: what a recipient may see right now, read fresh from the stored Consents on every request. No cache, so a
 * revocation (status -> inactive) takes effect on the very next request, on every replica.
 *
 * The rule itself is {@link permittedCategories} (consent-decision.ts): the same function the decision table tests,
 * applied to each consent that names the recipient.
 */
import type { Queryable } from '@carecircle/store';
import { sql } from '@carecircle/store';
import type { Consent } from '@medplum/fhirtypes';
import { permittedCategories, type Recipient } from './consent-decision';
import type { ShareCategory } from './share-category';

/** What one client's consents let a recipient see. */
export interface Grant {
  /** `Patient/{id}` */
  patient: string;
  categories: ShareCategory[];
  /** `Consent/{id}` of the consents behind it. */
  consents: string[];
}

/** The references that identify a recipient in `Consent.provision.actor`. */
export function recipientReferences(recipient: Recipient): string[] {
  return [recipient.organization, recipient.practitioner, recipient.practitionerRole].filter((r): r is string => r !== undefined);
}

/**
 * The grants `recipient` holds for `purpose` at `now`: one per client with at least one consent in force that names
 * the recipient. Reads current, active Consents through the search index on `actor`.
 */
export async function loadGrants(db: Queryable, recipient: Recipient, purpose: string, now: Date): Promise<Grant[]> {
  const references = recipientReferences(recipient);
  if (references.length === 0) {
    return [];
  }
  const { rows } = await db.query<{ content: Consent }>(sql`
    SELECT rv.content FROM resource_version rv
    WHERE rv.resource_type = 'Consent' AND rv.superseded_xid IS NULL AND NOT rv.deleted
      AND rv.content ->> 'status' = 'active'
      AND EXISTS (
        SELECT 1 FROM search_reference r
        WHERE r.vid = rv.vid AND r.code = 'actor'
          AND (r.reference = ANY(${references}::text[]) OR (r.target_type || '/' || r.target_id) = ANY(${references}::text[])))`);
  return grantsFrom(
    rows.map((r) => r.content),
    recipient,
    purpose,
    now,
  );
}

/** Folds consents into per-client grants (pure; exported for tests). */
export function grantsFrom(consents: readonly Consent[], recipient: Recipient, purpose: string, now: Date): Grant[] {
  const byPatient = new Map<string, Grant>();
  for (const consent of consents) {
    const patient = consent.patient?.reference;
    const categories = permittedCategories(consent, recipient, purpose, now);
    if (!patient || categories.length === 0) {
      continue;
    }
    const grant = byPatient.get(patient) ?? { patient, categories: [], consents: [] };
    grant.categories = [...new Set([...grant.categories, ...categories])];
    grant.consents.push(`Consent/${consent.id}`);
    byPatient.set(patient, grant);
  }
  return [...byPatient.values()];
}
