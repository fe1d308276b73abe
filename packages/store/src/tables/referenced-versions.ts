/**
 * Resources named by reference (type and id), looked up by the write rules that judge a resource by what it points
 * at: which of them exist now, and the labels they carry. What the answers mean is the rules' to say (packages/consent
 * consent-write-rule.ts, share-labels.ts); this module only reads the rows, one index probe per reference.
 */
import type { Meta } from '@medplum/fhirtypes';
import type { Queryable } from '../database';
import { sql, type Sql } from '../sql';

/** A resource named by type and id. */
export interface ResourceKey {
  readonly resourceType: string;
  readonly id: string;
}

/**
 * `Type/id` of each of `targets` whose current version is live, those versions locked FOR SHARE until the transaction
 * ends (so a write relying on them cannot race their deletion).
 */
export async function lockLiveResources(q: Queryable, targets: readonly ResourceKey[]): Promise<Set<string>> {
  const { rows } = await q.query<{ resource_type: string; id: string }>(sql`
    SELECT resource_type, id FROM resource_version
    WHERE (resource_type, id) IN (
        SELECT * FROM unnest(${targets.map((t) => t.resourceType)}::text[], ${targets.map((t) => t.id)}::text[]))
      AND superseded_xid IS NULL AND NOT deleted
    FOR SHARE`);
  return new Set(rows.map((row) => `${row.resource_type}/${row.id}`));
}

/** The `meta` of the latest version with content of each of `targets` (deleted or not), where it has one. */
export async function readLatestMeta(q: Queryable, targets: readonly ResourceKey[]): Promise<Meta[]> {
  const { rows } = await q.query<{ meta: Meta | null }>(sql`
    SELECT latest.meta FROM unnest(${targets.map((t) => t.resourceType)}::text[], ${targets.map((t) => t.id)}::text[]) AS target(type, id)
    CROSS JOIN LATERAL (
      SELECT rv.content -> 'meta' AS meta FROM resource_version rv
      WHERE rv.resource_type = target.type AND rv.id = target.id AND rv.content IS NOT NULL
      ORDER BY rv.version_id DESC LIMIT 1) latest`);
  return rows.flatMap((row) => (row.meta ? [row.meta] : []));
}

/**
 * An expression over `rv` (jsonb, an array of `{resourceType, id, meta}`): {@link readLatestMeta} of each of the
 * row's clients (`rv.compartments`), for a statement that reads rows to select beside them.
 */
export function latestClientVersionsColumn(): Sql {
  return sql`(SELECT COALESCE(jsonb_agg(jsonb_build_object('resourceType', 'Patient', 'id', substr(client.ref, 9), 'meta', latest.meta)), '[]'::jsonb)
      FROM unnest(rv.compartments) AS client(ref)
      CROSS JOIN LATERAL (
        SELECT p.content -> 'meta' AS meta FROM resource_version p
        WHERE p.resource_type = 'Patient' AND p.id = substr(client.ref, 9) AND p.content IS NOT NULL
        ORDER BY p.version_id DESC LIMIT 1) latest
      WHERE client.ref LIKE 'Patient/%')`;
}
