/**
 * Custody as stored: which rows (`rv`, a resource_version row, as an access policy's visibility is applied) belong to
 * a practice's clients or to one client, which Patients a practice manages now, and which of some clients a caller's
 * own policy shows (the disclosure audit's own clients, packages/consent disclosure-audit.ts). A client's custodian is
 * the `managingOrganization` of its current Patient version (a deleted client stays with its last one); a
 * psychotherapy note stays with the practice its custodian stamp names. Whom each condition applies to is the
 * policies' rule (packages/access caller-access-policy.ts); this module only writes the SQL, parameterised.
 */
import { PSYCHOTHERAPY_NOTE_TAG } from '@carecircle/fhir';
import type { AccessPolicy } from '../access-policy';
import type { Queryable } from '../database';
import { raw, sql, type Sql } from '../sql';
import { describesNoteRecord, labelledNote } from './note-records';

const NOTE_TAG = JSON.stringify([PSYCHOTHERAPY_NOTE_TAG]);

/**
 * "Patient p is a client of `organization`": its current version names it as managingOrganization, or, for a deleted
 * client, the version before the deletion did (a deleted client stays with its last practice).
 */
function managedBy(p: Sql, organization: string): Sql {
  return sql`(
    (NOT ${p}.deleted AND (${p}.content -> 'managingOrganization' ->> 'reference') = ${organization})
    OR (${p}.deleted AND EXISTS (SELECT 1 FROM resource_version prev
      WHERE prev.resource_type = 'Patient' AND prev.id = ${p}.id AND prev.version_id = ${p}.version_id - 1
        AND (prev.content -> 'managingOrganization' ->> 'reference') = ${organization})))`;
}

/** Over `rv`, a Patient version: the Patient is a client of `organization` (`Organization/{id}`). */
export function isClientOf(organization: string): Sql {
  const p = raw('p');
  return sql`EXISTS (SELECT 1 FROM resource_version p
      WHERE p.resource_type = 'Patient' AND p.id = rv.id AND p.superseded_xid IS NULL AND ${managedBy(p, organization)})`;
}

/**
 * Over `rv`: the row is in the compartment of a client of `organization`, and is no psychotherapy note held by another
 * practice (one stamped, in extension `noteCustodianUrl`, with another organization; a note stamped by nobody follows
 * the client's custodian). Correlated per candidate row through the current-version index, so the cost follows the
 * rows a query touches after its own filters, not the number of clients a practice has.
 */
export function inCompartmentOfClientOf(organization: string, noteCustodianUrl: string): Sql {
  const p = raw('p');
  return sql`(EXISTS (SELECT 1 FROM unnest(rv.compartments) AS c(ref)
    JOIN resource_version p ON p.resource_type = 'Patient' AND p.id = substr(c.ref, 9) AND p.superseded_xid IS NULL
    WHERE c.ref LIKE 'Patient/%' AND ${managedBy(p, organization)})
    AND ${noteHeldBy(raw('rv'), organization, noteCustodianUrl)})`;
}

/** Over `row`: not a psychotherapy note, or one stamped with `organization`, or one stamped by nobody. */
function noteHeldBy(row: Sql, organization: string, noteCustodianUrl: string): Sql {
  const stamp = JSON.stringify([{ url: noteCustodianUrl, valueReference: { reference: organization } }]);
  const stamped = JSON.stringify([{ url: noteCustodianUrl }]);
  return sql`(NOT ${labelledNote(row)}
      OR COALESCE(${row}.content #> '{meta,extension}', '[]'::jsonb) @> ${stamp}::jsonb
      OR NOT COALESCE(${row}.content #> '{meta,extension}', '[]'::jsonb) @> ${stamped}::jsonb)`;
}

/**
 * Over `rv`, a version of the describing record type `resourceType` (Provenance, AuditEvent), which accumulate by the
 * hundred thousand per client: it is in the compartment of a client of `organization`, and neither is nor describes a
 * psychotherapy note held by another practice. The clients are looked up once per statement, as the keys of one jsonb
 * object each row's compartments are looked up in (`?|`, a binary search), and the note is one probe of the
 * note_record index; neither is a subquery per row, so PostgreSQL may count a large trail in parallel, and no record's
 * content, nor what it describes, is read.
 */
export function isRecordOfClientOf(organization: string, resourceType: string): Sql {
  const clients = sql`(SELECT jsonb_object_agg('Patient/' || v.id, true) FROM resource_version v
      JOIN resource_version p ON p.resource_type = 'Patient' AND p.id = v.id AND p.superseded_xid IS NULL
    WHERE v.resource_type = 'Patient' AND (v.content -> 'managingOrganization' ->> 'reference') = ${organization}
      AND (p.vid = v.vid OR (p.deleted AND p.version_id = v.version_id + 1)))`;
  // No clients: the object is NULL, and nothing is shown.
  return sql`(COALESCE(${clients} ?| rv.compartments, FALSE)
    AND NOT ${describesNoteRecord(resourceType, raw('rv'), organization)})`;
}

/** Over `rv`: the row is the Patient version of `patientId` itself (a client's own Patient). */
export function isPatient(patientId: string): Sql {
  return sql`rv.id = ${patientId}`;
}

/**
 * Over `rv`: the row is in the compartment of `patient` (`Patient/{id}`) and is no psychotherapy note, judged for a
 * describing record type (Provenance, AuditEvent) by the note_record index (so a client's accounting of disclosures
 * lists at the cost of its rows, not of re-reading each), for every other type by its share category tag. A deletion
 * has no content and passes the tag check; the store shows it only with the version it deleted (store-context.ts).
 */
export function inOwnCompartmentWithoutNotes(patient: string, describingRecordType?: string): Sql {
  if (describingRecordType !== undefined) {
    return sql`(rv.compartments @> ARRAY[${patient}::text] AND NOT ${describesNoteRecord(describingRecordType, raw('rv'))})`;
  }
  return sql`(rv.compartments @> ARRAY[${patient}::text]
        AND NOT COALESCE((rv.content -> 'meta' -> 'tag') @> ${NOTE_TAG}::jsonb, false))`;
}

/**
 * Of the Patients `patientIds`, the ids of those whose current version is live and managed by `organization`. Read in
 * `q`, so a write's own transaction sees the Patients it has just created.
 */
export async function findPatientsManagedBy(q: Queryable, patientIds: readonly string[], organization: string): Promise<string[]> {
  const { rows } = await q.query<{ id: string }>(sql`
      SELECT p.id FROM resource_version p
      WHERE p.resource_type = 'Patient' AND p.id = ANY(${patientIds}::text[]) AND p.superseded_xid IS NULL AND NOT p.deleted
        AND (p.content -> 'managingOrganization' ->> 'reference') = ${organization}`);
  return rows.map((row) => row.id);
}

/**
 * Of the Patients `patientIds`, the ids of those whose current version (a deletion included) `policy` shows: the
 * clients a caller holds in its own right, when `policy` is its own (scopes and custodianship, before any consent).
 * Read in `q`, the transaction a read ran in or the database.
 */
export async function findPatientsVisibleTo(q: Queryable, patientIds: readonly string[], policy: AccessPolicy): Promise<string[]> {
  const { rows } = await q.query<{ id: string }>(sql`
      SELECT rv.id FROM resource_version rv
      WHERE rv.resource_type = 'Patient' AND rv.id = ANY(${patientIds}::text[]) AND rv.superseded_xid IS NULL
        AND (${policy.visibility('Patient') ?? sql`TRUE`})`);
  return rows.map((row) => row.id);
}

/**
 * The same judgement as {@link findPatientsVisibleTo}, as a column of the statement that reads `rv`: of the row's
 * Patient compartments (`Patient/x`), those whose current Patient version `policy` shows, as a text[]. The read and the
 * question of whose information it is are then one statement and one snapshot (access-policy.ts, AccessRecorder).
 */
export function patientsVisibleAmongCompartments(policy: AccessPolicy): Sql {
  return sql`ARRAY(SELECT client.ref FROM unnest(rv.compartments) AS client(ref)
      WHERE client.ref LIKE 'Patient/%' AND EXISTS (SELECT 1 FROM resource_version rv
        WHERE rv.resource_type = 'Patient' AND rv.id = substr(client.ref, 9) AND rv.superseded_xid IS NULL
          AND (${policy.visibility('Patient') ?? sql`TRUE`})))`;
}
