/**
 * Consent in the access policy: for a recipient (a partner organization, its practitioners and systems), widens what
 * the caller's own policy shows by exactly what the consents in force grant right now, as conditions the store puts
 * inside every read, so searches are limited before paging and counting. Scopes stay the caller's; writes stay the
 * caller's policy's.
 *
 * Each candidate row is checked against the consent-grant index (consent-grant-index.ts) with indexed lookups, so the
 * cost follows the rows a read touches, not the number of clients who consented to the recipient. This module says
 * what is disclosed and by which terms; the conditions are store's (tables/consent-grants.ts, consent-disclosure.ts).
 * Disclosed:
 * - a client's Patient resource, when some consent in force names the recipient for the purpose;
 * - any other version in clients' compartments when, for EVERY client whose compartment it is in and every Patient
 *   it references anywhere, a consent of that client grants its share category and the category each of its
 *   sensitivity labels stands for (a resource about two clients, or about one and naming another, needs both clients'
 *   consent; a resource labelled SDV needs trauma-history too, whatever its category);
 * - the Consents that name the recipient as IRCP actor (any status), so it knows what it may see and learns of a
 *   revocation: shown without the other recipients and the signed form (named-consent-view.ts).
 * (That an earlier version shows only while the current one does is the store's rule, for every policy.)
 * Never: AuditEvents, Consents that do not name it, untagged resources, and anything labelled or categorised as
 * psychotherapy notes (no grant ever lists them, and the PSYTHPN label is refused outright).
 */
import { describesNoteWhere, SHARED_RESOURCE_TYPES } from '@carecircle/auth';
import { forbidden, OperationOutcomeError } from '@carecircle/fhir';
import {
  anyOf,
  anyOfTerms,
  findGrantsInForce,
  findUngrantedCategories,
  grantedVersion,
  grantInForce,
  grantsInForceColumn,
  labelledPsychotherapyNote,
  never,
  notTrue,
  submittedUpdateOrNone,
  type AccessPolicy,
  type AccessRecorder,
  type DisclosureTerms,
  type GrantLookup,
  type Queryable,
  type Sql,
  type UpdateTerms,
} from '@carecircle/store';
import type { PermittingGrant } from './audit-event-shape';
import { NEVER_DISCLOSED_TYPES, recipientReferences, type Recipient } from './consent-decision';
import { namedConsentPresentation, namesAnyAsRecipient } from './named-consent-view';
import {
  COORDINATED_UPDATE_PROFILE,
  UPDATE_EVENT_SYSTEM,
  UPDATE_RECIPIENT_URL,
  UPDATE_STATE_URL,
  UPDATE_SUBMITTED_URL,
  type UpdateState,
} from './coordinated-update-terms';
import { ACT_CODE_SYSTEM, CATEGORY_OF_SENSITIVITY, SHARE_CATEGORY_SYSTEM } from './share-category';

/** What a grant is asked about: who receives, why, and when. */
export interface GrantQuery {
  recipient: Recipient;
  /** v3-ActReason code. */
  purpose: string;
  now: Date;
}

/** A coordinated update and its lifecycle as the disclosure rules read them (coordinated-update-terms.ts). */
const UPDATE: UpdateTerms = {
  profile: COORDINATED_UPDATE_PROFILE,
  stateUrl: UPDATE_STATE_URL,
  releasedState: 'released' satisfies UpdateState,
  recipientUrl: UPDATE_RECIPIENT_URL,
  submittedUrl: UPDATE_SUBMITTED_URL,
  eventSystem: UPDATE_EVENT_SYSTEM,
};

/**
 * What the store looks a grant up for: a grant to any of the recipient's references (recipient-directory.ts: roles
 * outside their period never reach them) counts; one to an Organization marked inactive counts for nothing (it acts
 * for nobody), nor does a deleted or superseded consent, nor one recorded by a practice the client has left.
 */
function lookupOf(query: GrantQuery): GrantLookup {
  return { actors: recipientReferences(query.recipient), purpose: query.purpose, now: query.now };
}

/**
 * Condition over `rv`: the version is labelled PSYTHPN or categorised psychotherapy-notes, whatever else it says. False
 * for a deletion (no content): the store shows a deletion only with the version it deleted (store-context.ts).
 */
export function isPsychotherapyNote(): Sql {
  return labelledPsychotherapyNote();
}

/**
 * The grants in force of `patients` (`Patient/x`) to the recipient for the purpose, any category, with the Consent
 * version each comes from: which consents permitted what a disclosure showed, for its AuditEvent. One indexed query
 * for all of an interaction's clients, with exactly the conditions every read checks ({@link consentInForce}).
 */
export async function grantsInForce(q: Queryable, patients: readonly string[], query: GrantQuery): Promise<PermittingGrant[]> {
  if (patients.length === 0 || recipientReferences(query.recipient).length === 0) {
    return [];
  }
  return findGrantsInForce(q, patients, lookupOf(query));
}

/**
 * {@link grantsInForce} as a column of the statement that reads `rv`: the grants in force of the row's clients (its
 * Patient compartments) as a JSON array, so an audited read needs no statement of its own to find them.
 */
export function grantsInForceAmongCompartments(query: GrantQuery): Sql {
  return grantsInForceColumn(lookupOf(query));
}

/**
 * Condition: a consent in force names the recipient for the purpose, for `patient` (any category): what discloses a
 * client's Patient resource, and bounds what a partner reads of its own writing (partner-authorship.ts).
 */
export function consentInForce(patient: Sql, query: GrantQuery): Sql {
  return grantInForce(patient, lookupOf(query));
}

/**
 * Condition over `rv`, a Provenance or AuditEvent version: it is labelled a psychotherapy note or describes a
 * resource that is, or has become, one (categories only go up, so any version of it so labelled), by the note_record
 * index (note-records.ts). Such a record is as hidden as the note even when it was written before the note was filed
 * as one. Undefined for other types.
 */
export function describesPsychotherapyNote(resourceType: string): Sql | undefined {
  return describesNoteWhere(resourceType);
}

/**
 * What a version of `resourceType` calls for and what hides it: its share category and the category each of its
 * sensitivity labels stands for (share-category.ts), being or describing a psychotherapy note, and the coordinated
 * update's terms.
 */
function disclosureTerms(resourceType: string): DisclosureTerms {
  return {
    shareCategorySystem: SHARE_CATEGORY_SYSTEM,
    sensitivitySystem: ACT_CODE_SYSTEM,
    sensitivityCategories: CATEGORY_OF_SENSITIVITY,
    update: UPDATE,
    describedNote: describesPsychotherapyNote(resourceType),
  };
}

/** The condition over `rv` (resource_version) that the consents grant; FALSE when nothing can be granted. */
export function grantedVisibility(resourceType: string, query: GrantQuery): Sql {
  if (NEVER_DISCLOSED_TYPES.has(resourceType) || recipientReferences(query.recipient).length === 0) {
    return never();
  }
  return grantedVersion(resourceType, lookupOf(query), disclosureTerms(resourceType));
}

/** Condition over `rv`: a Consent version that names the recipient as IRCP actor (whatever its status). */
export function namedInConsent(recipient: Recipient): Sql {
  return namesAnyAsRecipient(recipientReferences(recipient));
}

/**
 * `base` widened by the consents: visible is what `base` shows OR what the consents grant (and, for Consents, those
 * naming the recipient). A Consent the recipient sees only because it is named, not through `base` (as the client's
 * custodian), is shown as named-consent-view.ts makes it. `recorder` is told of every disclosure and denial (the
 * audit trail).
 */
export function withConsentGrants(base: AccessPolicy, query: GrantQuery, recorder: AccessRecorder): AccessPolicy {
  return {
    recorder,
    assertInteraction: (interaction, resourceType) => base.assertInteraction(interaction, resourceType),
    visibility(resourceType) {
      const own = base.visibility(resourceType);
      // Nothing to widen by (AuditEvents): the caller's own condition alone, which the planner can then flatten.
      if (own === undefined || (resourceType !== 'Consent' && NEVER_DISCLOSED_TYPES.has(resourceType))) {
        return own;
      }
      const granted = resourceType === 'Consent' ? namedInConsent(query.recipient) : grantedVisibility(resourceType, query);
      return anyOf(own, granted);
    },
    presentation(resourceType) {
      const own = base.visibility(resourceType);
      if (resourceType !== 'Consent' || own === undefined) {
        return base.presentation?.(resourceType);
      }
      return namedConsentPresentation(notTrue(own), recipientReferences(query.recipient));
    },
    assertWrite: (interaction, next, current, tx) => base.assertWrite(interaction, next, current, tx),
  };
}

/**
 * The policy of recipients as such (no custodianship, read-only): what any of `recipients` would be shown now, for
 * previews (`$summary?recipient=`).
 */
export function recipientPolicy(recipients: readonly Recipient[], purpose: string, now: Date): AccessPolicy {
  return {
    assertInteraction(interaction) {
      if (!['read', 'vread', 'search', 'history'].includes(interaction)) {
        throw new OperationOutcomeError(forbidden);
      }
    },
    visibility: (resourceType) =>
      SHARED_RESOURCE_TYPES.has(resourceType)
        ? undefined
        : anyOfTerms(recipients.map((recipient) => grantedVisibility(resourceType, { recipient, purpose, now }))),
    assertWrite() {
      throw new OperationOutcomeError(forbidden);
    },
  };
}

/**
 * Condition over `rv` for the client's own Compositions: no coordinated update, or one submitted for the client's
 * approval (a draft is the practice's until then).
 */
export function shownToTheClient(): Sql {
  return submittedUpdateOrNone(UPDATE);
}

/**
 * Of `categories`, those that no consent in force grants to the recipient for `patient` (`Patient/x`) and the purpose,
 * judged by the grant index exactly as reads are: what a coordinated update may carry for that recipient.
 */
export async function ungrantedCategories(q: Queryable, patient: string, categories: readonly string[], query: GrantQuery): Promise<string[]> {
  if (categories.length === 0) {
    return [];
  }
  if (recipientReferences(query.recipient).length === 0) {
    return [...categories];
  }
  return findUngrantedCategories(q, patient, categories, lookupOf(query));
}
