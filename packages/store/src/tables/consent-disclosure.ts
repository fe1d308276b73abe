/**
 * What a recipient's consents disclose of a resource_version row `rv`, as conditions read from the consent_grant index
 * (consent-grants.ts, one indexed lookup per client and category a row calls for) and the row's own labels, so a
 * read is limited before paging and counting. Who is a recipient, which types are never disclosed, which labels call
 * for which share category and what a coordinated update is are consent's rules (packages/consent consent-policy.ts,
 * handed here as {@link DisclosureTerms}); this module only writes the SQL, parameterised, reading each type's content
 * where that type keeps it.
 */
import { raw, sql, type Sql } from '../sql';
import { grantInForce, type GrantLookup } from './consent-grants';
import { labelledNote } from './note-records';

const RV = raw('rv');

/** How a coordinated update (a Composition) and its lifecycle are marked. */
export interface UpdateTerms {
  /** The profile a coordinated update claims (`meta.profile`). */
  readonly profile: string;
  /** The extension holding its state, and the state (valueCode) in which it reaches its recipients. */
  readonly stateUrl: string;
  readonly releasedState: string;
  /** The extension naming a recipient it is for (valueReference). */
  readonly recipientUrl: string;
  /** The extension marking it submitted for the client's approval. */
  readonly submittedUrl: string;
  /** The code system of its lifecycle's events: a Communication's category, a Provenance's activity. */
  readonly eventSystem: string;
}

/** What consent's rules say a version calls for, and what else hides it. */
export interface DisclosureTerms {
  /** The tag system of share categories (`meta.tag`; a coordinated update's section codes too). */
  readonly shareCategorySystem: string;
  /** The security-label system of sensitivity codes (`meta.security`), and the share category each code calls for. */
  readonly sensitivitySystem: string;
  readonly sensitivityCategories: Readonly<Record<string, string>>;
  readonly update: UpdateTerms;
  /**
   * Over `rv`: the version is, or describes, a psychotherapy note by the note_record index (describing record types
   * only; undefined for the others).
   */
  readonly describedNote: Sql | undefined;
}

/**
 * A Patient reference, relative or on any base, optionally versioned (as @carecircle/fhir's patientReferences,
 * references.ts, reads it): the id is group 1, the version group 2. Their 64-character limit is checked apart
 * ({@link otherClientsNamedBy}): PostgreSQL runs a bounded repeat (`{1,64}`) ten times slower, per reference of every
 * row a partner's search reads (0.23 against 0.025 ms a row, measured on the bench's Observations).
 */
const PATIENT_REFERENCE_PATTERN = '(?:^|/)Patient/([A-Za-z0-9.-]+)(?:/_history/([A-Za-z0-9.-]+))?$';

/**
 * Over `rv`: the version is labelled PSYTHPN or categorised psychotherapy-notes, whatever else it says. False for a
 * deletion (no content): the store shows a deletion only with the version it deleted (store-context.ts).
 */
export function labelledPsychotherapyNote(): Sql {
  return labelledNote(RV);
}

/**
 * Over `rv`, a version of `resourceType`: what the grants in force to `lookup`'s actors disclose of it under `terms`.
 * A Patient, when a grant names it and it is no psychotherapy note. Any other version, when it is in some client's
 * compartment, carries a share category, is no psychotherapy note nor (`terms.describedNote`) describes one, and for
 * EVERY client whose compartment it is in and every other Patient it references anywhere, a grant gives each category
 * it calls for: its share category and the one behind each sensitivity label. Besides, a coordinated update
 * (Composition) only once released to one of the actors with every section's category granted for every client it
 * is about, and never a Communication or Provenance of an update's lifecycle.
 */
export function grantedVersion(resourceType: string, lookup: GrantLookup, terms: DisclosureTerms): Sql {
  const granted = grantedRow(resourceType, RV, lookup, terms);
  switch (resourceType) {
    case 'Composition':
      return sql`(${granted} AND ${releasedUpdateOrNone(RV, lookup, terms)})`;
    case 'Communication':
      return sql`(${granted} AND NOT ${aboutAnUpdate(RV, terms.update)})`;
    case 'Provenance':
      return sql`(${granted} AND NOT ${stepOfAnUpdate(RV, terms.update)})`;
    default:
      return granted;
  }
}

/** What the grants give of the resource_version row `row` (a version of `resourceType`), by its labels. */
function grantedRow(resourceType: string, row: Sql, lookup: GrantLookup, terms: DisclosureTerms): Sql {
  if (resourceType === 'Patient') {
    return sql`(NOT ${labelledNote(row)} AND ${grantInForce(sql`'Patient/' || ${row}.id`, lookup)})`;
  }
  // The categories a version calls for: its share category and the one behind each sensitivity label it carries.
  const required = sql`(
      SELECT t ->> 'code' AS category FROM jsonb_array_elements(COALESCE(${row}.content #> '{meta,tag}', '[]'::jsonb)) t
      WHERE t ->> 'system' = ${terms.shareCategorySystem}
      UNION
      SELECT m.category FROM jsonb_array_elements(COALESCE(${row}.content #> '{meta,security}', '[]'::jsonb)) s
        JOIN unnest(${Object.keys(terms.sensitivityCategories)}::text[], ${Object.values(terms.sensitivityCategories)}::text[]) AS m(code, category) ON m.code = s ->> 'code'
      WHERE s ->> 'system' = ${terms.sensitivitySystem})`;
  const describedNote = terms.describedNote;
  return sql`(cardinality(${row}.compartments) > 0
    AND NOT ${labelledNote(row)}${describedNote ? sql` AND NOT ${describedNote}` : sql``}
    AND EXISTS (SELECT 1 FROM jsonb_array_elements(COALESCE(${row}.content #> '{meta,tag}', '[]'::jsonb)) t WHERE t ->> 'system' = ${terms.shareCategorySystem})
    AND NOT EXISTS (
      SELECT 1 FROM unnest(${row}.compartments) AS client(patient) CROSS JOIN ${required} AS k
      WHERE NOT ${grantInForce(raw('client.patient'), lookup, raw('k.category'))})
    AND NOT EXISTS (
      SELECT 1 FROM ${otherClientsNamedBy(row)} AS client(patient) CROSS JOIN ${required} AS k
      WHERE NOT ${grantInForce(raw('client.patient'), lookup, raw('k.category'))}))`;
}

/**
 * The clients (`Patient/{id}`) a version of `row` names outside its compartments: every Patient it references
 * anywhere (a `focus`, a Goal's `expressedBy`, a Provenance `agent`, a contained resource's subject ...), which the
 * compartment definition leaves out. Checked after the compartments (a cheaper test that refuses most rows), and reads
 * the content only for references that mention a Patient. A reference written exactly as one of the compartments
 * (`Patient/{id}`, as nearly every `subject` is) names no other client, so it is passed over before the regular
 * expression, the costliest condition on a row: the page statement of a partner's search of 100 Observations took
 * 2.0 ms instead of 2.6-3.7 (pgbench, prepared).
 */
function otherClientsNamedBy(row: Sql): Sql {
  return sql`(SELECT 'Patient/' || m.match[1]
      FROM jsonb_path_query(${row}.content, 'lax $.**.reference ? (@.type() == "string" && @ like_regex "Patient/")') AS named(value)
        CROSS JOIN LATERAL regexp_match(named.value #>> '{}', ${PATIENT_REFERENCE_PATTERN}) AS m(match)
      WHERE NOT (named.value #>> '{}') = ANY(${row}.compartments)
        AND m.match IS NOT NULL AND length(m.match[1]) <= 64 AND length(COALESCE(m.match[2], '')) <= 64
        AND NOT ('Patient/' || m.match[1]) = ANY(${row}.compartments))`;
}

/** Condition over `row`, a Composition version: it claims the coordinated-update profile. */
function isCoordinatedUpdate(row: Sql, update: UpdateTerms): Sql {
  return sql`(COALESCE(${row}.content #> '{meta,profile}', '[]'::jsonb) @> ${JSON.stringify([update.profile])}::jsonb)`;
}

/**
 * Condition over `row`, a Composition version the grants give by its own labels: it is no coordinated update, or one
 * released to one of the actors (its update-recipient names one of them) of which a grant in force gives every
 * section's share category, for every client it is about. Reads only the row and the grant index.
 */
function releasedUpdateOrNone(row: Sql, lookup: GrantLookup, terms: DisclosureTerms): Sql {
  const { update } = terms;
  const released = JSON.stringify([{ url: update.stateUrl, valueCode: update.releasedState }]);
  const sectionCategories = sql`(SELECT c ->> 'code' AS category
      FROM jsonb_array_elements(COALESCE(${row}.content -> 'section', '[]'::jsonb)) s
        CROSS JOIN jsonb_array_elements(COALESCE(s #> '{code,coding}', '[]'::jsonb)) c
      WHERE c ->> 'system' = ${terms.shareCategorySystem})`;
  return sql`(NOT ${isCoordinatedUpdate(row, update)} OR (
    COALESCE(${row}.content -> 'extension', '[]'::jsonb) @> ${released}::jsonb
    AND EXISTS (SELECT 1 FROM jsonb_array_elements(COALESCE(${row}.content -> 'extension', '[]'::jsonb)) e
      WHERE e ->> 'url' = ${update.recipientUrl} AND (e #>> '{valueReference,reference}') = ANY(${[...lookup.actors]}::text[]))
    AND NOT EXISTS (
      SELECT 1 FROM unnest(${row}.compartments) AS client(patient) CROSS JOIN ${sectionCategories} AS k
      WHERE NOT ${grantInForce(raw('client.patient'), lookup, raw('k.category'))})))`;
}

/** Condition over `row`, a Communication: one of an update's lifecycle (a client's reason for declining it). */
function aboutAnUpdate(row: Sql, update: UpdateTerms): Sql {
  const category = JSON.stringify([{ coding: [{ system: update.eventSystem }] }]);
  return sql`(COALESCE(${row}.content -> 'category', '[]'::jsonb) @> ${category}::jsonb)`;
}

/** Condition over `row`, a Provenance: the record of a step of an update's lifecycle. */
function stepOfAnUpdate(row: Sql, update: UpdateTerms): Sql {
  const activity = JSON.stringify([{ system: update.eventSystem }]);
  return sql`(COALESCE(${row}.content #> '{activity,coding}', '[]'::jsonb) @> ${activity}::jsonb)`;
}

/** Over `rv`, a Composition version: it is no coordinated update, or one marked submitted for the client's approval. */
export function submittedUpdateOrNone(update: UpdateTerms): Sql {
  const submitted = JSON.stringify([{ url: update.submittedUrl }]);
  return sql`(NOT ${isCoordinatedUpdate(RV, update)} OR COALESCE(${RV}.content -> 'extension', '[]'::jsonb) @> ${submitted}::jsonb)`;
}
