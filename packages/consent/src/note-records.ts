/**
 * The note_record index (migration 0013): which records (Provenance, AuditEvent) are psychotherapy notes themselves or
 * describe a resource that is, or has become, one, with the note's custodian stamp. The access policies hide such a
 * record like the note by one index probe per row (auth's described-records.ts) instead of reading every record's
 * references and every version of what they name, which made a client's accounting of disclosures unlistable once a
 * partner had filled it with denials (issue 17, finding 5).
 *
 * Written by a store write rule in the transaction of whichever comes second: a record about an existing note, or a
 * note version (a resource filed as a note, or moved up to one) that existing records describe. Runs after
 * applyShareLabels and stampNoteCustodian, so it reads the labels and the stamp the version will carry.
 */
import { NOTE_CUSTODIAN_URL, describedReferences, DESCRIBING_RECORD_TYPES } from '@carecircle/auth';
import { parseRelativeReference, PSYCHOTHERAPY_NOTE_LABEL, PSYCHOTHERAPY_NOTE_TAG } from '@carecircle/fhir';
import { sql, type Sql, type WriteRule } from '@carecircle/store';
import type { Resource } from '@medplum/fhirtypes';
import { isPsychotherapyNoteResource } from './share-category';

const NOTE_LABEL = JSON.stringify([PSYCHOTHERAPY_NOTE_LABEL]);
const NOTE_TAG = JSON.stringify([PSYCHOTHERAPY_NOTE_TAG]);

/** The note-custodian stamp a version carries ('' for none), as the index keeps it. */
function stampOf(resource: Resource): string {
  return resource.meta?.extension?.find((e) => e.url === NOTE_CUSTODIAN_URL)?.valueReference?.reference ?? '';
}

/** The stamp of the version `d` as SQL ('' for none). */
function stampColumn(d: Sql): Sql {
  return sql`COALESCE((SELECT e #>> '{valueReference,reference}'
      FROM jsonb_array_elements(COALESCE(${d}.content #> '{meta,extension}', '[]'::jsonb)) e WHERE e ->> 'url' = ${NOTE_CUSTODIAN_URL} LIMIT 1), '')`;
}

/** Write rule: keeps note_record in step with the version being written (see the module comment). */
export const indexNoteRecords: WriteRule = async (next, _current, tx) => {
  const id = next.id;
  if (id === undefined) {
    return;
  }
  if (DESCRIBING_RECORD_TYPES.has(next.resourceType)) {
    const targets = describedReferences(next).flatMap((reference) => {
      const target = parseRelativeReference(reference);
      return target ? [target] : [];
    });
    const own = isPsychotherapyNoteResource(next) ? [stampOf(next)] : [];
    // Every version of every described resource that is labelled a note, with its stamp.
    await tx.query(sql`
      INSERT INTO note_record (resource_type, id, custodian)
      SELECT ${next.resourceType}, ${id}, custodian FROM (
        SELECT unnest(${own}::text[]) AS custodian
        UNION
        SELECT ${stampColumn(sql`d`)} FROM resource_version d
          JOIN unnest(${targets.map((t) => t.resourceType)}::text[], ${targets.map((t) => t.id)}::text[]) AS t(resource_type, id)
            ON d.resource_type = t.resource_type AND d.id = t.id
        WHERE NOT d.deleted
          AND (COALESCE(d.content #> '{meta,security}', '[]'::jsonb) @> ${NOTE_LABEL}::jsonb
            OR COALESCE(d.content #> '{meta,tag}', '[]'::jsonb) @> ${NOTE_TAG}::jsonb)) AS notes
      ON CONFLICT DO NOTHING`);
  }
  if (isPsychotherapyNoteResource(next)) {
    // Records written earlier about this resource, found through their search index (AuditEvent `entity`, Provenance
    // `target`), now describe a note.
    await tx.query(sql`
      INSERT INTO note_record (resource_type, id, custodian)
      SELECT DISTINCT r.resource_type, r.id, ${stampOf(next)}::text FROM search_reference x
        JOIN resource_version r ON r.vid = x.vid
      WHERE x.code IN ('entity', 'target') AND x.target_type = ${next.resourceType} AND x.target_id = ${id}
        AND ((r.resource_type = 'AuditEvent' AND x.code = 'entity') OR (r.resource_type = 'Provenance' AND x.code = 'target'))
      ON CONFLICT DO NOTHING`);
  }
};
