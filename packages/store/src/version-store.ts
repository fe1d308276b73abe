/**
 * The write path of one resource: lock its current version, append the next version (or a deletion), mark the
 * previous one superseded, write the new version's search index and an outbox event (naming the request that made the
 * change, write-origin.ts) unless no outbox consumer reads changes of its type. Callers run these inside one
 * transaction; together they make a write atomic and serialise concurrent writes to the same resource.
 */
import { conflict, OperationOutcomeError } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable, Transaction } from './database';
import { extractSearchIndex, searchIndexInserts } from './search/search-index';
import { join, raw, sql, type Sql } from './sql';
import { currentOriginRequestId } from './write-origin';

/** The current version of a resource as the write path sees it. */
export interface CurrentVersion {
  vid: number;
  versionId: number;
  deleted: boolean;
  content: Resource | undefined;
  compartments: string[];
  /** Whether the caller's visibility admits this version. */
  visible: boolean;
  /** Whether the caller is shown this version only in part (the policy's presentation); such a version is not its to change. */
  partial: boolean;
}

/** The outbox event kinds, one per kind of write. */
export type ChangeKind = 'create' | 'update' | 'delete';

/**
 * The resource types whose changes get no outbox event: AuditEvents, the server's append-only record of disclosures
 * and denials (one per audited read). No subscription topic or other outbox consumer reads them (the worker's tests
 * hold this against its topics), and their row, its NOTIFY and the relay's transaction to mark it were most of what an
 * audited read cost the worker.
 */
const TYPES_WITHOUT_OUTBOX_EVENTS: ReadonlySet<string> = new Set(['AuditEvent']);

/** Whether a change to a resource of `resourceType` is recorded in the outbox for the worker to relay. */
export function hasOutboxEvents(resourceType: string): boolean {
  return !TYPES_WITHOUT_OUTBOX_EVENTS.has(resourceType);
}

/**
 * Locks the resource `resourceType/id` for this transaction and returns its current version, if any. The advisory
 * lock also covers ids that do not exist yet, so two concurrent creates with one client-chosen id serialise too.
 */
export async function lockCurrentVersion(
  tx: Queryable,
  resourceType: string,
  id: string,
  visibility: Sql,
  partial: Sql = sql`FALSE`,
): Promise<CurrentVersion | undefined> {
  await tx.query(sql`SELECT pg_advisory_xact_lock(hashtext(${`${resourceType}/${id}`}))`);
  const { rows } = await tx.query<{
    vid: number | string;
    version_id: number;
    deleted: boolean;
    content: Resource | null;
    compartments: string[];
    visible: boolean;
    partial: boolean;
  }>(sql`
    SELECT rv.vid, rv.version_id, rv.deleted, rv.content, rv.compartments, (${visibility}) AS visible,
      ((${partial}) IS TRUE) AS partial
    FROM resource_version rv
    WHERE rv.resource_type = ${resourceType} AND rv.id = ${id} AND rv.superseded_xid IS NULL
    FOR UPDATE`);
  const row = rows[0];
  if (!row) {
    return undefined;
  }
  return {
    vid: Number(row.vid),
    versionId: row.version_id,
    deleted: row.deleted,
    content: row.content ?? undefined,
    compartments: row.compartments,
    visible: row.visible === true,
    partial: row.partial === true,
  };
}

export interface NewVersion {
  resourceType: string;
  id: string;
  versionId: number;
  lastUpdated: string;
  /** The content to store; undefined records a deletion. */
  resource: Resource | undefined;
  compartments: string[];
  kind: ChangeKind;
  /** Inserts the write rules asked to be made with the version (WriteFacts.alongside), by its statement. */
  alongside?: readonly Sql[];
}

/**
 * Appends `next` after `previous` (superseding it), indexes it and records the outbox event (when its type has them).
 * The version, its index rows, the outbox row and the rules' inserts (`next.alongside`) are written by one statement
 * (data-modifying CTEs), so a write costs one round trip, not eight. With `last`, that statement is the transaction's
 * last (Transaction.queryLast): a create whose rules read nothing is then that one statement, without BEGIN or COMMIT.
 */
export async function appendVersion(tx: Transaction, previous: CurrentVersion | undefined, next: NewVersion, last = false): Promise<void> {
  if (previous) {
    await tx.query(sql`UPDATE resource_version SET superseded_xid = pg_current_xact_id() WHERE vid = ${previous.vid}`);
  }
  const index = next.resource ? searchIndexInserts(raw('(SELECT vid FROM version)'), extractSearchIndex(next.resource)) : [];
  const outboxEvent = hasOutboxEvents(next.resourceType)
    ? [sql`INSERT INTO outbox (kind, resource_type, resource_id, version_id, request_id)
      VALUES (${next.kind}, ${next.resourceType}, ${next.id}, ${next.versionId}, ${currentOriginRequestId() ?? null})`]
    : [];
  const dependents = [...index, ...outboxEvent, ...(next.alongside ?? [])].map((insert, i) => sql`${raw(`w${i}`)} AS (${insert})`);
  const version = sql`version AS (
      INSERT INTO resource_version (resource_type, id, version_id, last_updated, deleted, content, compartments)
      VALUES (${next.resourceType}, ${next.id}, ${next.versionId}, ${next.lastUpdated}::timestamptz, ${!next.resource},
              ${next.resource ? JSON.stringify(next.resource) : null}::jsonb, ${next.compartments}::text[])
      RETURNING vid)`;
  try {
    const statement = sql`
      WITH ${join([version, ...dependents], ',\n      ')}
      SELECT vid FROM version`;
    await (last ? tx.queryLast(statement) : tx.query(statement));
  } catch (err) {
    if (isUniqueViolation(err)) {
      // Only reachable when another writer slipped past the lock (e.g. a caller's own SERIALIZABLE transaction).
      throw new OperationOutcomeError(conflict('The resource was changed concurrently; retry'), { cause: err });
    }
    throw err;
  }
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}
