/**
 * The note_record index (migration 0013): which records (Provenance, AuditEvent) are psychotherapy notes themselves or
 * describe a resource that is, or has become, one, with the note's custodian stamp. The access policies hide such a
 * record like the note by one index probe per row (auth's described-records.ts) instead of reading every record's
 * references and every version of what they name, which made a client's accounting of disclosures unlistable once a
 * partner had filled it with denials (issue 17, finding 5).
 *
 * Written by a store write rule with the version of whichever comes second, by the statement that writes it: a record
 * about an existing note, or a note version (a resource filed as a note, or moved up to one) that existing records
 * describe. Runs after applyShareLabels and stampNoteCustodian, so it reads the labels and the stamp the version will
 * carry.
 */
import { describedReferences, DESCRIBING_RECORD_TYPES } from '@carecircle/auth';
import { NOTE_CUSTODIAN_URL, parseRelativeReference } from '@carecircle/fhir';
import { insertNotesDescribedBy, insertRecordsDescribingNote, type WriteRuleFor } from '@carecircle/store';
import type { Resource } from '@medplum/fhirtypes';
import { isPsychotherapyNoteResource } from './share-category';

/** The note-custodian stamp a version carries ('' for none), as the index keeps it. */
function stampOf(resource: Resource): string {
  return resource.meta?.extension?.find((e) => e.url === NOTE_CUSTODIAN_URL)?.valueReference?.reference ?? '';
}

/** Write rule: keeps note_record in step with the version being written (see the module comment). */
export const indexNoteRecords: WriteRuleFor<unknown> = (next, _current, _tx, write) => {
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
    write.alongside(insertNotesDescribedBy({ resourceType: next.resourceType, id }, targets, own, NOTE_CUSTODIAN_URL));
  }
  if (isPsychotherapyNoteResource(next)) {
    // Records written earlier about this resource, found through their search index (AuditEvent `entity`, Provenance
    // `target`), now describe a note.
    write.alongside(insertRecordsDescribingNote({ resourceType: next.resourceType, id }, stampOf(next)));
  }
};
