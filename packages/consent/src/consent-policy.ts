/**
 * Consent in the access policy: for a recipient (a partner organization, its practitioners and systems), widens what
 * the caller's own policy shows by exactly what the grants permit, as SQL inside every read, so searches are limited
 * before paging and counting. Scopes stay the caller's; writes stay the caller's policy's.
 *
 * Disclosed: a client's Patient resource when the recipient holds any grant for that client; any other resource of the
 * client's compartment whose share category (meta.tag, indexed as `_tag`) the grant lists. Never: Consent, AuditEvent,
 * psychotherapy notes (no grant ever lists them), untagged resources.
 */
import { SHARED_RESOURCE_TYPES } from '@carecircle/auth';
import { forbidden, OperationOutcomeError } from '@carecircle/fhir';
import type { AccessPolicy, AccessRecorder } from '@carecircle/store';
import { sql, type Sql } from '@carecircle/store';
import { NEVER_DISCLOSED_TYPES } from './consent-decision';
import type { Grant } from './consent-grants';
import { SHARE_CATEGORY_SYSTEM } from './share-category';

/** The SQL condition over `rv` (resource_version) that the grants disclose; FALSE when there are none. */
export function grantedVisibility(resourceType: string, grants: readonly Grant[]): Sql {
  if (grants.length === 0 || NEVER_DISCLOSED_TYPES.has(resourceType)) {
    return sql`FALSE`;
  }
  if (resourceType === 'Patient') {
    return sql`('Patient/' || rv.id) = ANY(${grants.map((g) => g.patient)}::text[])`;
  }
  const patients = grants.flatMap((g) => g.categories.map(() => g.patient));
  const categories = grants.flatMap((g) => g.categories);
  return sql`EXISTS (
    SELECT 1 FROM search_token t
    JOIN unnest(${patients}::text[], ${categories}::text[]) AS g(patient, category) ON g.category = t.value
    WHERE t.vid = rv.vid AND t.code = '_tag' AND t.system = ${SHARE_CATEGORY_SYSTEM} AND g.patient = ANY(rv.compartments))`;
}

/**
 * `base` widened by the grants: visible is what `base` shows OR what the grants disclose. `recorder` is told of every
 * disclosure and denial (the audit trail).
 */
export function withConsentGrants(base: AccessPolicy, grants: readonly Grant[], recorder: AccessRecorder): AccessPolicy {
  return {
    recorder,
    assertInteraction: (interaction, resourceType) => base.assertInteraction(interaction, resourceType),
    visibility(resourceType) {
      const own = base.visibility(resourceType);
      if (own === undefined) {
        return undefined;
      }
      return sql`((${own}) OR (${grantedVisibility(resourceType, grants)}))`;
    },
    assertWrite: (interaction, next, current, tx) => base.assertWrite(interaction, next, current, tx),
  };
}

/**
 * The policy of a recipient as such (no custodianship, read-only): for previews (`$summary?recipient=`) and for
 * checking at delivery time what a subscriber may receive.
 */
export function recipientPolicy(grants: readonly Grant[]): AccessPolicy {
  return {
    assertInteraction(interaction) {
      if (!['read', 'vread', 'search', 'history'].includes(interaction)) {
        throw new OperationOutcomeError(forbidden);
      }
    },
    visibility: (resourceType) => (SHARED_RESOURCE_TYPES.has(resourceType) ? undefined : grantedVisibility(resourceType, grants)),
    assertWrite() {
      throw new OperationOutcomeError(forbidden);
    },
  };
}
