/**
 * The `outbox` table (migrations 0001, 0005, 0011) as the worker uses it: rows appended by every write in its own
 * transaction (version-store.ts), claimed by the relay, marked relayed and then matched, and handed back to the relay
 * by the sweeper when their job was lost. Which rows become jobs, and when work counts as lost, are the worker's
 * rules; this module only reads and writes the rows.
 */
import type { Queryable } from '../database';
import { sql } from '../sql';
import type { ChangeKind } from '../version-store';

/** An outbox row not relayed yet, as the relay claims it. */
export interface PendingOutboxEvent {
  /** The row's place in the outbox, handed back as read to {@link markOutboxEventsRelayed}. */
  readonly seq: number;
  readonly eventId: string;
  readonly kind: ChangeKind;
  readonly resourceType: string;
  readonly resourceId: string;
  readonly versionId: number;
  /** When the change was committed (epoch milliseconds, with a fraction). */
  readonly createdMs: number;
  /** The id of the HTTP request whose write made the change; undefined for the server's own writes. */
  readonly requestId: string | undefined;
}

interface OutboxRow {
  seq: number;
  event_id: string;
  kind: ChangeKind;
  resource_type: string;
  resource_id: string;
  version_id: number;
  created_ms: number;
  request_id: string | null;
}

/**
 * Claims up to `limit` rows not relayed yet, oldest first, FOR UPDATE SKIP LOCKED: they stay locked (and other relays
 * skip them) until `tx` ends, which must mark them with {@link markOutboxEventsRelayed}.
 */
export async function claimPendingOutboxEvents(tx: Queryable, limit: number): Promise<PendingOutboxEvent[]> {
  const { rows } = await tx.query<OutboxRow>(sql`
      SELECT seq, event_id, kind, resource_type, resource_id, version_id,
             (EXTRACT(EPOCH FROM created_at) * 1000)::float8 AS created_ms, request_id
      FROM outbox WHERE relayed_at IS NULL ORDER BY seq LIMIT ${limit}
      FOR UPDATE SKIP LOCKED`);
  return rows.map((row) => ({
    seq: row.seq,
    eventId: row.event_id,
    kind: row.kind,
    resourceType: row.resource_type,
    resourceId: row.resource_id,
    versionId: row.version_id,
    createdMs: Number(row.created_ms),
    requestId: row.request_id ?? undefined,
  }));
}

/**
 * Marks the claimed rows `seqs` relayed; those among `matchedSeqs` (rows that became no job, so need no matching) are
 * marked matched at once too, so the sweeper never hands them back.
 */
export async function markOutboxEventsRelayed(tx: Queryable, seqs: readonly number[], matchedSeqs: readonly number[]): Promise<void> {
  await tx.query(sql`
      UPDATE outbox SET relayed_at = now(), matched_at = CASE WHEN seq = ANY(${matchedSeqs}::bigint[]) THEN now() ELSE matched_at END
      WHERE seq = ANY(${seqs}::bigint[])`);
}

/**
 * Clears relayed_at on up to `limit` rows relayed more than `afterMs` ago and not matched since (oldest first, FOR
 * UPDATE SKIP LOCKED), so the relay enqueues them again. Returns how many.
 */
export async function handBackUnmatchedOutboxEvents(q: Queryable, afterMs: number, limit: number): Promise<number> {
  const { rowCount } = await q.query(sql`
    UPDATE outbox SET relayed_at = NULL
    WHERE seq IN (
      SELECT seq FROM outbox
      WHERE relayed_at IS NOT NULL AND matched_at IS NULL
        AND relayed_at < now() - make_interval(secs => ${afterMs / 1000})
      ORDER BY relayed_at LIMIT ${limit}
      FOR UPDATE SKIP LOCKED)`);
  return rowCount ?? 0;
}

/** Marks outbox event `eventId` matched (once: a second call changes nothing). */
export async function markOutboxEventMatched(q: Queryable, eventId: string): Promise<void> {
  await q.query(sql`UPDATE outbox SET matched_at = now() WHERE event_id = ${eventId} AND matched_at IS NULL`);
}
