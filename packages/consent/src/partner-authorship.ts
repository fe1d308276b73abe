/**
 * A partner reads back what it wrote (DESIGN.md, "Partner writes"): a consult note, reply or progress report a partner
 * organization creates about a client it does not manage is filed by the client's labels, which its consent may not
 * cover (a note under `sexual-history` for a clinic consented `care-plan` only); it holds the content already, and it
 * must be able to read it back and complete its referral with it.
 *
 * So the version a partner created through a partner workflow is recorded as its own (table `partner_authorship`,
 * written in the write's transaction), and the partner's policy also shows a version so recorded, as SQL inside every
 * read like the consent grants, to the systems and practitioners of the organization that wrote it, while:
 * - every client whose compartment the version is in has a consent in force naming the recipient for the purpose
 *   (whatever its categories): a revocation ends it as it ends everything else the partner sees of the client;
 * - it is not, and does not describe, a psychotherapy note.
 * Only versions the partner itself wrote are recorded (never the custodian's, nor a Task the partner merely moved),
 * and the store shows an older version only while the current one is visible too: once the practice re-files the
 * resource (as a psychotherapy note, or into a category the consent does not grant), its current version is the
 * practice's and hidden, and the partner's own version with it.
 */
import type { AccessPolicy, Queryable } from '@carecircle/store';
import { anyOf, authoredBy, insertPartnerAuthorship, never, type Sql } from '@carecircle/store';
import type { Resource } from '@medplum/fhirtypes';
import { NEVER_DISCLOSED_TYPES } from './consent-decision';
import { consentInForce, describesPsychotherapyNote, isPsychotherapyNote, type GrantQuery } from './consent-policy';

/**
 * Records, in the write's transaction `tx`, that `organization` (`Organization/{id}`, the one the writer's token is
 * for) wrote the version `resource` is being stored as (its id and `meta.versionId`, set by the store). Call it only
 * for a write admitted as a partner workflow.
 */
export async function recordPartnerAuthorship(tx: Queryable, organization: string, resource: Resource): Promise<void> {
  const version = Number(resource.meta?.versionId);
  if (!resource.id || !Number.isInteger(version)) {
    throw new Error('recordPartnerAuthorship needs the version being stored (id and meta.versionId)');
  }
  await insertPartnerAuthorship(tx, { resourceType: resource.resourceType, id: resource.id, versionId: version, organization });
}

/**
 * Condition over `rv`, a version of `resourceType`: the recipient's organization wrote it through a partner workflow,
 * it is not (and does not describe) a psychotherapy note, and every client whose compartment it is in has a consent in
 * force naming the recipient for the purpose. FALSE for a recipient without an organization, and for Consents and
 * AuditEvents, which partners never write.
 */
export function authoredVisibility(resourceType: string, query: GrantQuery): Sql {
  const organization = query.recipient.organization;
  if (organization === undefined || NEVER_DISCLOSED_TYPES.has(resourceType)) {
    return never();
  }
  const describedNote = describesPsychotherapyNote(resourceType);
  return authoredBy(resourceType, organization, {
    unless: describedNote ? [isPsychotherapyNote(), describedNote] : [isPsychotherapyNote()],
    everyClient: (patient) => consentInForce(patient, query),
  });
}

/** `policy` (a recipient's, widened by its consents) showing besides what the recipient's organization wrote. */
export function withPartnerAuthorship(policy: AccessPolicy, query: GrantQuery): AccessPolicy {
  return {
    ...policy,
    visibility(resourceType) {
      const own = policy.visibility(resourceType);
      if (own === undefined || NEVER_DISCLOSED_TYPES.has(resourceType)) {
        return own;
      }
      return anyOf(own, authoredVisibility(resourceType, query));
    },
  };
}
