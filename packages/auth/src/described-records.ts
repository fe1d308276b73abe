/**
 * Records that describe other resources: a Provenance (`target`) and an AuditEvent (`entity.what`). They take the labels
 * of what they describe (consent's share-labels.ts), so who may see or write one depends on what it describes; this is
 * where both the policies and the labelling read those references (the policies through the note_record index).
 */
import type { Resource } from '@medplum/fhirtypes';
import { describesNoteRecord, type Sql } from '@carecircle/store';

/** The record types that describe other resources: Provenance (`target`) and AuditEvent (`entity.what`). */
export const DESCRIBING_RECORD_TYPES: ReadonlySet<string> = new Set(['Provenance', 'AuditEvent']);

/** The references `record` names as what it describes; none for a type that describes nothing. */
export function describedReferences(record: Resource): string[] {
  const references =
    record.resourceType === 'Provenance'
      ? (record.target ?? []).map((t) => t.reference)
      : record.resourceType === 'AuditEvent'
        ? (record.entity ?? []).map((e) => e.what?.reference)
        : [];
  return references.filter((r): r is string => typeof r === 'string');
}

/**
 * Over `row` (`rv` unless given), a version of a `resourceType` record: "it is labelled a psychotherapy note, or
 * describes a resource some version of which is or has become one", as the note_record index (migration 0013, written
 * by consent's note-records.ts) says; with `heldBy`, only notes stamped with another practice than `heldBy` count. One
 * index probe per row: the record's content and what it names are not read again on every listing (a client's
 * accounting of disclosures holds hundreds of thousands of records); the condition is store's (tables/note-records.ts).
 * Undefined for a type that describes nothing.
 */
export function describesNoteWhere(resourceType: string, row?: Sql, heldBy?: string): Sql | undefined {
  return DESCRIBING_RECORD_TYPES.has(resourceType) ? describesNoteRecord(resourceType, row, heldBy) : undefined;
}
