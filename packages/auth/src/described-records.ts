/**
 * Records that describe other resources: a Provenance (`target`) and an AuditEvent (`entity.what`). They take the labels
 * of what they describe (consent's share-labels.ts), so who may see or write one depends on what it describes; this is
 * where both the policies and the labelling read those references.
 */
import type { Resource } from '@medplum/fhirtypes';
import { raw, sql, type Sql } from '@carecircle/store';

/** Per record type, the JSON path of the references to what it describes. */
const DESCRIBED_REFERENCE_PATHS: Readonly<Record<string, string>> = {
  Provenance: '$.target[*].reference',
  AuditEvent: '$.entity[*].what.reference',
};

/** The record types that describe other resources. */
export const DESCRIBING_RECORD_TYPES: ReadonlySet<string> = new Set(Object.keys(DESCRIBED_REFERENCE_PATHS));

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
 * Over `row`, a version of a `resourceType` record: "some version of a resource it describes, aliased `d`, satisfies
 * `condition(d)`". Undefined for a type that describes nothing.
 */
export function describesWhere(resourceType: string, row: Sql, condition: (d: Sql) => Sql): Sql | undefined {
  const path = DESCRIBED_REFERENCE_PATHS[resourceType];
  if (!path) {
    return undefined;
  }
  return sql`EXISTS (SELECT 1 FROM jsonb_path_query(COALESCE(${row}.content, '{}'::jsonb), ${path}::jsonpath) AS r(reference)
      JOIN resource_version d ON d.resource_type = split_part(r.reference #>> '{}', '/', 1)
        AND d.id = split_part(r.reference #>> '{}', '/', 2)
      WHERE ${condition(raw('d'))})`;
}
