/**
 * Subscriptions as stored: their signing secrets (`subscription_secret`, migration 0004) and the questions the worker
 * and the API ask of the current Subscription versions (which receive events, how many are in each status, which have
 * a heartbeat, which have ended). What a Subscription may contain and what its settings mean are notify's rules
 * (packages/notify subscription-settings.ts); this module only reads and writes the rows.
 */
import type { Subscription } from '@medplum/fhirtypes';
import type { Queryable } from '../database';
import { sql } from '../sql';

export type SubscriptionStatus = NonNullable<Subscription['status']>;

/** Stores (or replaces) a subscription's signing secret. */
export async function storeSubscriptionSecret(tx: Queryable, subscriptionId: string, secret: string): Promise<void> {
  await tx.query(sql`
    INSERT INTO subscription_secret (subscription_id, secret) VALUES (${subscriptionId}, ${secret})
    ON CONFLICT (subscription_id) DO UPDATE SET secret = EXCLUDED.secret, updated_at = now()`);
}

/** True when the subscription has a signing secret stored. */
export async function hasSubscriptionSecret(tx: Queryable, subscriptionId: string): Promise<boolean> {
  const { rows } = await tx.query(sql`SELECT 1 FROM subscription_secret WHERE subscription_id = ${subscriptionId}`);
  return rows.length > 0;
}

/** The signing secret, or undefined when the subscription has none (deleted). */
export async function readSubscriptionSecret(q: Queryable, subscriptionId: string): Promise<string | undefined> {
  const { rows } = await q.query<{ secret: string }>(
    sql`SELECT secret FROM subscription_secret WHERE subscription_id = ${subscriptionId}`,
  );
  return rows[0]?.secret;
}

/** Forgets a deleted subscription's secret (its events stay, for the record). */
export async function deleteSubscriptionSecret(q: Queryable, subscriptionId: string): Promise<void> {
  await q.query(sql`DELETE FROM subscription_secret WHERE subscription_id = ${subscriptionId}`);
}

/**
 * The condition over `rv` (a Subscription's current version) for "receives events": `active`, or `error` reached from
 * `active` (deliveries failed; it is still retried so that it can recover). An `error` reached otherwise is a failed
 * handshake: nothing is numbered or delivered for it until the subscriber sets it `requested` again and a handshake
 * succeeds. (A client's edit that keeps the status adds another `error` version: the last status before the run of
 * `error` versions decides.) Shared with subscription-events.ts, not exported from the package.
 */
export const RECEIVING = sql`(rv.content ->> 'status' = 'active' OR (rv.content ->> 'status' = 'error' AND (
  SELECT prev.content ->> 'status' FROM resource_version prev
  WHERE prev.resource_type = 'Subscription' AND prev.id = rv.id AND prev.version_id < rv.version_id
    AND NOT prev.deleted AND prev.content ->> 'status' <> 'error'
  ORDER BY prev.version_id DESC LIMIT 1) = 'active'))`;

/** The current Subscriptions on `topicUrl` that receive events (see {@link RECEIVING}). */
export async function findReceivingSubscriptions(q: Queryable, topicUrl: string): Promise<Subscription[]> {
  const { rows } = await q.query<{ content: Subscription }>(sql`
    SELECT rv.content FROM resource_version rv
    WHERE rv.resource_type = 'Subscription' AND rv.superseded_xid IS NULL AND NOT rv.deleted
      AND rv.content ->> 'criteria' = ${topicUrl} AND ${RECEIVING}`);
  return rows.map((r) => r.content);
}

/**
 * How many current Subscriptions are in each status (`requested`, `active`, `error`, `off`; every status counted, zero
 * included), for metrics. One index scan of the current Subscription versions.
 */
export async function countSubscriptionsByStatus(q: Queryable): Promise<Record<SubscriptionStatus, number>> {
  const { rows } = await q.query<{ status: string | null; count: number }>(sql`
    SELECT rv.content ->> 'status' AS status, count(*)::int AS count FROM resource_version rv
    WHERE rv.resource_type = 'Subscription' AND rv.superseded_xid IS NULL AND NOT rv.deleted
    GROUP BY 1`);
  const counts: Record<SubscriptionStatus, number> = { requested: 0, active: 0, error: 0, off: 0 };
  for (const row of rows) {
    if (row.status !== null && Object.hasOwn(counts, row.status)) {
      counts[row.status as SubscriptionStatus] = row.count;
    }
  }
  return counts;
}

/** True when Subscription `subscriptionId` (current version) receives events. */
export async function isSubscriptionReceiving(q: Queryable, subscriptionId: string): Promise<boolean> {
  const { rows } = await q.query(sql`
    SELECT 1 FROM resource_version rv
    WHERE rv.resource_type = 'Subscription' AND rv.id = ${subscriptionId} AND rv.superseded_xid IS NULL
      AND NOT rv.deleted AND ${RECEIVING}`);
  return rows.length > 0;
}

/**
 * Receiving Subscriptions (see {@link RECEIVING}) with ids after `afterId`, in id order, at most `limit`, whose
 * channel carries an extension with url `extensionUrl` (notify asks for the heartbeat period's).
 */
export async function findReceivingSubscriptionsWithChannelExtension(
  q: Queryable,
  extensionUrl: string,
  afterId: string,
  limit: number,
): Promise<Subscription[]> {
  const heartbeat = JSON.stringify([{ url: extensionUrl }]);
  const { rows } = await q.query<{ content: Subscription }>(sql`
    SELECT rv.content FROM resource_version rv
    WHERE rv.resource_type = 'Subscription' AND rv.superseded_xid IS NULL AND NOT rv.deleted
      AND ${RECEIVING} AND rv.id > ${afterId}
      AND COALESCE(rv.content -> 'channel' -> 'extension' @> ${heartbeat}::jsonb, false)
    ORDER BY rv.id LIMIT ${limit}`);
  return rows.map((r) => r.content);
}

/**
 * Current Subscriptions still `requested`, `active` or `error` whose `end` (a full dateTime with a zone) has passed,
 * at most `limit`: the ones to turn `off`.
 */
export async function findEndedSubscriptions(q: Queryable, limit: number): Promise<Subscription[]> {
  const { rows } = await q.query<{ content: Subscription }>(sql`
    SELECT rv.content FROM resource_version rv
    WHERE rv.resource_type = 'Subscription' AND rv.superseded_xid IS NULL AND NOT rv.deleted
      AND rv.content ->> 'status' IN ('requested', 'active', 'error')
      AND CASE WHEN rv.content ->> 'end' ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2})$'
               THEN (rv.content ->> 'end')::timestamptz <= now() ELSE false END
    LIMIT ${limit}`);
  return rows.map((r) => r.content);
}
