/**
 * The `note_record` table (migration 0013): which records (Provenance, AuditEvent) are psychotherapy notes themselves
 * or describe a resource that is, or has become, one, with the note's custodian stamp. When a row is written is
 * consent's rule (packages/consent note-records.ts); this module only writes the statements that insert the rows
 * (made with the version that calls for them, WriteFacts.alongside), reading note labels and stamps from the stored
 * versions, and the condition that tells a note version, which every statement asking it uses.
 */
import { PSYCHOTHERAPY_NOTE_LABEL, PSYCHOTHERAPY_NOTE_TAG } from '@carecircle/fhir';
import { raw, sql, type Sql } from '../sql';

/**
 * Condition over the resource_version row `row`: labelled PSYTHPN or tagged psychotherapy-notes, whatever else it
 * says (false for a deletion, which has no content). The one definition every statement uses. The codings are written
 * into the statement as constants, not parameters, so that it is the predicate of the index
 * resource_version_note_labelled (migration 0018): a prepared statement's generic plan can use a partial index only
 * for a condition it can prove from the text alone.
 */
export function labelledNote(row: Sql): Sql {
  return sql`(COALESCE(${row}.content #> '{meta,security}', '[]'::jsonb) @> ${jsonbConstant([PSYCHOTHERAPY_NOTE_LABEL])}
    OR COALESCE(${row}.content #> '{meta,tag}', '[]'::jsonb) @> ${jsonbConstant([PSYCHOTHERAPY_NOTE_TAG])})`;
}

/** A jsonb literal of `value`, a constant of our own code (never a caller's value). */
function jsonbConstant(value: unknown): Sql {
  return raw(`'${JSON.stringify(value).replaceAll("'", "''")}'::jsonb`);
}

/** The stamp (extension `custodianUrl`'s valueReference) of the version `d` as SQL ('' for none). */
function stampColumn(d: Sql, custodianUrl: string): Sql {
  return sql`COALESCE((SELECT e #>> '{valueReference,reference}'
      FROM jsonb_array_elements(COALESCE(${d}.content #> '{meta,extension}', '[]'::jsonb)) e WHERE e ->> 'url' = ${custodianUrl} LIMIT 1), '')`;
}

/**
 * The INSERT recording the describing record `record` once per custodian stamp in `ownStamps` (the record's own, when
 * it is a note itself) and once per stamp of every live version of a `targets` resource labelled or tagged a
 * psychotherapy note, the stamp read from the extension `custodianUrl`. Rows already there are kept.
 */
export function insertNotesDescribedBy(
  record: { resourceType: string; id: string },
  targets: ReadonlyArray<{ resourceType: string; id: string }>,
  ownStamps: readonly string[],
  custodianUrl: string,
): Sql {
  return sql`
      INSERT INTO note_record (resource_type, id, custodian)
      SELECT ${record.resourceType}, ${record.id}, custodian FROM (
        SELECT unnest(${ownStamps}::text[]) AS custodian
        UNION
        SELECT ${stampColumn(sql`d`, custodianUrl)} FROM resource_version d
          JOIN unnest(${targets.map((t) => t.resourceType)}::text[], ${targets.map((t) => t.id)}::text[]) AS t(resource_type, id)
            ON d.resource_type = t.resource_type AND d.id = t.id
        WHERE NOT d.deleted AND ${labelledNote(sql`d`)}) AS notes
      ON CONFLICT DO NOTHING`;
}

/**
 * The INSERT recording, with the note's stamp `stamp`, every record written earlier about the note `note`, found
 * through their search index (AuditEvent `entity`, Provenance `target`). Rows already there are kept.
 */
export function insertRecordsDescribingNote(note: { resourceType: string; id: string }, stamp: string): Sql {
  return sql`
      INSERT INTO note_record (resource_type, id, custodian)
      SELECT DISTINCT r.resource_type, r.id, ${stamp}::text FROM search_reference x
        JOIN resource_version r ON r.vid = x.vid
      WHERE x.code IN ('entity', 'target') AND x.target_type = ${note.resourceType} AND x.target_id = ${note.id}
        AND ((r.resource_type = 'AuditEvent' AND x.code = 'entity') OR (r.resource_type = 'Provenance' AND x.code = 'target'))
      ON CONFLICT DO NOTHING`;
}

/**
 * Over `row` (`rv` unless given), a version of the describing record type `resourceType`: the note_record index holds
 * it as a psychotherapy note, or as describing a resource some version of which is or has become one; with `heldBy`,
 * only notes stamped with another practice than `heldBy` count. One index probe per row.
 */
export function describesNoteRecord(resourceType: string, row: Sql = raw('rv'), heldBy?: string): Sql {
  const elsewhere = heldBy === undefined ? sql`` : sql` AND n.custodian <> '' AND n.custodian <> ${heldBy}`;
  return sql`EXISTS (SELECT 1 FROM note_record n WHERE n.resource_type = ${resourceType} AND n.id = ${row}.id${elsewhere})`;
}
