/**
 * Consent in the access policy: for a recipient (a partner organization, its practitioners and systems), widens what
 * the caller's own policy shows by exactly what the consents in force grant right now, as SQL inside every read, so
 * searches are limited before paging and counting. Scopes stay the caller's; writes stay the caller's policy's.
 *
 * Each candidate row is checked against the consent-grant index (consent-grant-index.ts) with indexed lookups, so the
 * cost follows the rows a read touches, not the number of clients who consented to the recipient. Disclosed:
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
import { forbidden, OperationOutcomeError, PSYCHOTHERAPY_NOTE_LABEL, PSYCHOTHERAPY_NOTE_TAG } from '@carecircle/fhir';
import type { AccessPolicy, AccessRecorder, Queryable } from '@carecircle/store';
import { join, raw, sql, type Sql } from '@carecircle/store';
import type { PermittingGrant } from './audit-event-shape';
import { NEVER_DISCLOSED_TYPES, recipientReferences, type Recipient } from './consent-decision';
import { namedConsentPresentation, namesAsRecipient } from './named-consent-view';
import { organizationWithdrawn } from './recipient-directory';
import { COORDINATED_UPDATE_PROFILE, UPDATE_EVENT_SYSTEM, UPDATE_RECIPIENT_URL, UPDATE_STATE_URL, UPDATE_SUBMITTED_URL } from './coordinated-update-terms';
import { ACT_CODE_SYSTEM, CATEGORY_OF_SENSITIVITY, SHARE_CATEGORY_SYSTEM } from './share-category';

/** What a grant is asked about: who receives, why, and when. */
export interface GrantQuery {
  recipient: Recipient;
  /** v3-ActReason code. */
  purpose: string;
  now: Date;
}

const SENSITIVITY_CODES = Object.keys(CATEGORY_OF_SENSITIVITY);
const SENSITIVITY_CATEGORIES = Object.values(CATEGORY_OF_SENSITIVITY);
const PSYCHOTHERAPY_NOTES_LABEL = JSON.stringify([PSYCHOTHERAPY_NOTE_LABEL]);
const PSYCHOTHERAPY_NOTES_TAG = JSON.stringify([PSYCHOTHERAPY_NOTE_TAG]);

const RV = raw('rv');

/** Condition over the resource_version row `row`: labelled or categorised as a psychotherapy note. */
function labelledPsychotherapyNote(row: Sql): Sql {
  return sql`(COALESCE(${row}.content #> '{meta,security}', '[]'::jsonb) @> ${PSYCHOTHERAPY_NOTES_LABEL}::jsonb
    OR COALESCE(${row}.content #> '{meta,tag}', '[]'::jsonb) @> ${PSYCHOTHERAPY_NOTES_TAG}::jsonb)`;
}

/**
 * Condition over `rv`: the version is labelled PSYTHPN or categorised psychotherapy-notes, whatever else it says. False
 * for a deletion (no content): the store shows a deletion only with the version it deleted (store-context.ts).
 */
export function isPsychotherapyNote(): Sql {
  return labelledPsychotherapyNote(RV);
}

/**
 * "A consent in force grants `patient` to the recipient for the purpose" (and `category`, when given): an indexed
 * lookup in consent_grant, joined to the Consent's current version so a deleted or superseded consent counts for
 * nothing. A grant to an Organization marked inactive counts for nothing either (it acts for nobody); roles outside
 * their period never reach the recipient's references (recipient-directory.ts).
 */
function grantExists(patient: Sql, category: Sql | undefined, query: GrantQuery): Sql {
  const now = query.now.toISOString();
  return sql`EXISTS (SELECT 1 FROM consent_grant g
      JOIN resource_version c ON c.resource_type = 'Consent' AND c.id = g.consent_id AND c.superseded_xid IS NULL
    WHERE g.patient = ${patient} AND g.purpose = ${query.purpose} AND g.actor = ANY(${recipientReferences(query.recipient)}::text[])
      ${category ? sql`AND g.category = ${category}` : sql``}
      AND (g.period_start IS NULL OR g.period_start <= ${now}::timestamptz)
      AND (g.period_end IS NULL OR g.period_end > ${now}::timestamptz)
      AND NOT ${organizationWithdrawn(sql`g.actor`)}
      AND c.version_id = g.consent_version AND NOT c.deleted
      AND ${recordedWithCurrentCustodian(sql`g.patient`, sql`c`)})`;
}

/**
 * The grants in force of `patients` (`Patient/x`) to the recipient for the purpose, any category, with the Consent
 * version each comes from: which consents permitted what a disclosure showed, for its AuditEvent. One indexed query
 * for all of an interaction's clients, with exactly the conditions every read checks ({@link grantExists}).
 */
export async function grantsInForce(q: Queryable, patients: readonly string[], query: GrantQuery): Promise<PermittingGrant[]> {
  if (patients.length === 0 || recipientReferences(query.recipient).length === 0) {
    return [];
  }
  const now = query.now.toISOString();
  const { rows } = await q.query<{ patient: string; category: string; consent_id: string; consent_version: number }>(sql`
    SELECT DISTINCT g.patient, g.category, g.consent_id, g.consent_version FROM consent_grant g
      JOIN resource_version c ON c.resource_type = 'Consent' AND c.id = g.consent_id AND c.superseded_xid IS NULL
    WHERE g.patient = ANY(${[...patients]}::text[]) AND g.purpose = ${query.purpose} AND g.actor = ANY(${recipientReferences(query.recipient)}::text[])
      AND (g.period_start IS NULL OR g.period_start <= ${now}::timestamptz)
      AND (g.period_end IS NULL OR g.period_end > ${now}::timestamptz)
      AND NOT ${organizationWithdrawn(sql`g.actor`)}
      AND c.version_id = g.consent_version AND NOT c.deleted
      AND ${recordedWithCurrentCustodian(sql`g.patient`, sql`c`)}`);
  return rows.map((row) => ({ patient: row.patient, category: row.category, consentId: row.consent_id, consentVersion: Number(row.consent_version) }));
}

/**
 * Condition: a consent in force names the recipient for the purpose, for `patient` (any category): what discloses a
 * client's Patient resource, and bounds what a partner reads of its own writing (partner-authorship.ts).
 */
export function consentInForce(patient: Sql, query: GrantQuery): Sql {
  return grantExists(patient, undefined, query);
}

/**
 * A consent is an agreement between the client and the practice that recorded it (`Consent.organization`), about what
 * that practice holds: it grants nothing while the client is with another practice (moved, or deleted), and counts
 * again if the client comes back.
 */
function recordedWithCurrentCustodian(patient: Sql, consent: Sql): Sql {
  return sql`EXISTS (SELECT 1 FROM resource_version p
      WHERE p.resource_type = 'Patient' AND p.id = substr(${patient}, 9) AND p.superseded_xid IS NULL AND NOT p.deleted
        AND (p.content -> 'managingOrganization' ->> 'reference') = (${consent}.content -> 'organization' -> 0 ->> 'reference'))`;
}

/**
 * Condition over `row`, a Provenance or AuditEvent version: it is labelled a psychotherapy note or describes a
 * resource that is, or has become, one (categories only go up, so any version of it so labelled), by the note_record
 * index (note-records.ts). Such a record is as hidden as the note even when it was written before the note was filed
 * as one. Undefined for other types.
 */
export function describesPsychotherapyNote(resourceType: string, row: Sql = RV): Sql | undefined {
  return describesNoteWhere(resourceType, row);
}

/** What the consents grant of the resource_version row `row` (a version of `resourceType`). */
function grantedRow(resourceType: string, row: Sql, query: GrantQuery): Sql {
  if (resourceType === 'Patient') {
    return sql`(NOT ${labelledPsychotherapyNote(row)} AND ${grantExists(sql`'Patient/' || ${row}.id`, undefined, query)})`;
  }
  // The categories a version calls for: its share category and the one behind each sensitivity label it carries.
  const required = sql`(
      SELECT t ->> 'code' AS category FROM jsonb_array_elements(COALESCE(${row}.content #> '{meta,tag}', '[]'::jsonb)) t
      WHERE t ->> 'system' = ${SHARE_CATEGORY_SYSTEM}
      UNION
      SELECT m.category FROM jsonb_array_elements(COALESCE(${row}.content #> '{meta,security}', '[]'::jsonb)) s
        JOIN unnest(${SENSITIVITY_CODES}::text[], ${SENSITIVITY_CATEGORIES}::text[]) AS m(code, category) ON m.code = s ->> 'code'
      WHERE s ->> 'system' = ${ACT_CODE_SYSTEM})`;
  const describedNote = describesPsychotherapyNote(resourceType, row);
  return sql`(cardinality(${row}.compartments) > 0
    AND NOT ${labelledPsychotherapyNote(row)}${describedNote ? sql` AND NOT ${describedNote}` : sql``}
    AND EXISTS (SELECT 1 FROM jsonb_array_elements(COALESCE(${row}.content #> '{meta,tag}', '[]'::jsonb)) t WHERE t ->> 'system' = ${SHARE_CATEGORY_SYSTEM})
    AND NOT EXISTS (
      SELECT 1 FROM unnest(${row}.compartments) AS client(patient) CROSS JOIN ${required} AS k
      WHERE NOT ${grantExists(sql`client.patient`, sql`k.category`, query)})
    AND NOT EXISTS (
      SELECT 1 FROM ${otherClientsNamedBy(row)} AS client(patient) CROSS JOIN ${required} AS k
      WHERE NOT ${grantExists(sql`client.patient`, sql`k.category`, query)}))`;
}

/** A Patient reference, relative or on any base, optionally versioned (as @carecircle/auth's patientReferences reads it). */
const PATIENT_REFERENCE_PATTERN = '(?:^|/)Patient/([A-Za-z0-9.-]{1,64})(?:/_history/[A-Za-z0-9.-]{1,64})?$';

/**
 * The clients (`Patient/{id}`) a version of `row` names outside its compartments: every Patient it references
 * anywhere (a `focus`, a Goal's `expressedBy`, a Provenance `agent`, a contained resource's subject ...), which the
 * compartment definition leaves out. Each of them must consent to the disclosure too, as partner writes already count
 * every Patient a write names. Checked after the compartments (a cheaper test that refuses most rows), and reads the
 * content only for references that mention a Patient.
 */
function otherClientsNamedBy(row: Sql): Sql {
  return sql`(SELECT 'Patient/' || m.match[1]
      FROM jsonb_path_query(${row}.content, 'lax $.**.reference ? (@.type() == "string" && @ like_regex "Patient/")') AS named(value)
        CROSS JOIN LATERAL regexp_match(named.value #>> '{}', ${PATIENT_REFERENCE_PATTERN}) AS m(match)
      WHERE m.match IS NOT NULL AND NOT ('Patient/' || m.match[1]) = ANY(${row}.compartments))`;
}

/** The SQL condition over `rv` (resource_version) that the consents grant; FALSE when nothing can be granted. */
export function grantedVisibility(resourceType: string, query: GrantQuery): Sql {
  if (NEVER_DISCLOSED_TYPES.has(resourceType) || recipientReferences(query.recipient).length === 0) {
    return sql`FALSE`;
  }
  const granted = grantedRow(resourceType, RV, query);
  switch (resourceType) {
    case 'Composition':
      return sql`(${granted} AND ${releasedUpdateOrNone(RV, query)})`;
    case 'Communication':
      return sql`(${granted} AND NOT ${aboutAnUpdate(RV)})`;
    case 'Provenance':
      return sql`(${granted} AND NOT ${stepOfAnUpdate(RV)})`;
    default:
      return granted;
  }
}

/** Condition over `rv`: a Consent version that names the recipient as IRCP actor (whatever its status). */
export function namedInConsent(recipient: Recipient): Sql {
  return sql`(${join(
    recipientReferences(recipient).map((reference) => namesAsRecipient(RV, reference)),
    ' OR ',
    'FALSE',
  )})`;
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
      return sql`((${own}) OR (${granted}))`;
    },
    presentation(resourceType) {
      const own = base.visibility(resourceType);
      if (resourceType !== 'Consent' || own === undefined) {
        return base.presentation?.(resourceType);
      }
      return namedConsentPresentation(sql`(${own}) IS NOT TRUE`, recipientReferences(query.recipient));
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
        : sql`(${join(
            recipients.map((recipient) => grantedVisibility(resourceType, { recipient, purpose, now })),
            ' OR ',
            'FALSE',
          )})`,
    assertWrite() {
      throw new OperationOutcomeError(forbidden);
    },
  };
}

const COORDINATED_UPDATE_CLAIM = JSON.stringify([COORDINATED_UPDATE_PROFILE]);
const RELEASED_STATE = JSON.stringify([{ url: UPDATE_STATE_URL, valueCode: 'released' }]);
const SUBMITTED_MARK = JSON.stringify([{ url: UPDATE_SUBMITTED_URL }]);

/** Condition over `row`, a Composition version: it claims the coordinated-update profile. */
function isCoordinatedUpdate(row: Sql): Sql {
  return sql`(COALESCE(${row}.content #> '{meta,profile}', '[]'::jsonb) @> ${COORDINATED_UPDATE_CLAIM}::jsonb)`;
}

/**
 * Condition over `row`, a Composition version a recipient's consents grant by its own labels: it is no coordinated
 * update, or one released to this recipient (its update-recipient names the recipient's organization, practitioner or
 * one of its roles) of which a consent in force grants every section's share category, for every client it is about.
 * Drafts, updates awaiting approval, declined and withdrawn ones, and updates for someone else are as absent as
 * resources never stored; a revocation hides a released one on the next request. Reads only the row and the grant index.
 */
function releasedUpdateOrNone(row: Sql, query: GrantQuery): Sql {
  const sectionCategories = sql`(SELECT c ->> 'code' AS category
      FROM jsonb_array_elements(COALESCE(${row}.content -> 'section', '[]'::jsonb)) s
        CROSS JOIN jsonb_array_elements(COALESCE(s #> '{code,coding}', '[]'::jsonb)) c
      WHERE c ->> 'system' = ${SHARE_CATEGORY_SYSTEM})`;
  return sql`(NOT ${isCoordinatedUpdate(row)} OR (
    COALESCE(${row}.content -> 'extension', '[]'::jsonb) @> ${RELEASED_STATE}::jsonb
    AND EXISTS (SELECT 1 FROM jsonb_array_elements(COALESCE(${row}.content -> 'extension', '[]'::jsonb)) e
      WHERE e ->> 'url' = ${UPDATE_RECIPIENT_URL} AND (e #>> '{valueReference,reference}') = ANY(${recipientReferences(query.recipient)}::text[]))
    AND NOT EXISTS (
      SELECT 1 FROM unnest(${row}.compartments) AS client(patient) CROSS JOIN ${sectionCategories} AS k
      WHERE NOT ${grantExists(sql`client.patient`, sql`k.category`, query)})))`;
}

const UPDATE_EVENT_CATEGORY = JSON.stringify([{ coding: [{ system: UPDATE_EVENT_SYSTEM }] }]);

/** Condition over `row`, a Communication: one of an update's lifecycle (a client's reason for declining it). */
function aboutAnUpdate(row: Sql): Sql {
  return sql`(COALESCE(${row}.content -> 'category', '[]'::jsonb) @> ${UPDATE_EVENT_CATEGORY}::jsonb)`;
}

const UPDATE_EVENT_ACTIVITY = JSON.stringify([{ system: UPDATE_EVENT_SYSTEM }]);

/**
 * Condition over `row`, a Provenance: the record of a step of an update's lifecycle (drafted ... approved, with the
 * client's signature), which is the client's and the practice's, not the recipient's.
 */
function stepOfAnUpdate(row: Sql): Sql {
  return sql`(COALESCE(${row}.content #> '{activity,coding}', '[]'::jsonb) @> ${UPDATE_EVENT_ACTIVITY}::jsonb)`;
}

/**
 * Condition over `rv` for the client's own Compositions: no coordinated update, or one submitted for the client's
 * approval (a draft is the practice's until then).
 */
export function shownToTheClient(): Sql {
  return sql`(NOT ${isCoordinatedUpdate(RV)} OR COALESCE(${RV}.content -> 'extension', '[]'::jsonb) @> ${SUBMITTED_MARK}::jsonb)`;
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
  const { rows } = await q.query<{ category: string }>(sql`
    SELECT k.category FROM unnest(${[...categories]}::text[]) AS k(category)
    WHERE NOT ${grantExists(sql`${patient}::text`, sql`k.category`, query)}`);
  return rows.map((row) => row.category);
}
