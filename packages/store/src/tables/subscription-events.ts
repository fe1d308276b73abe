/**
 * A subscription's event log and its delivery (migration 0004): numbered events (`subscription_event`), the counter
 * that numbers them (`subscription_event_counter`), and the delivery cursor, lease and failure streak
 * (`subscription_delivery`); also what a replayed dead letter changes. The worker and the API's `$status` / `$events`
 * share this one set of statements. Timing decisions (leases, retry due times) use the database clock, so worker
 * replicas with skewed clocks still agree. When to retry, dead-letter or give up is notify's and the worker's rule;
 * this module only reads and writes the rows.
 */
import type { Database, Queryable } from '../database';
import { sql } from '../sql';
import { RECEIVING } from './subscriptions';

/** A change from the outbox, as matching sees it. */
export interface ChangeEvent {
  eventId: string;
  kind: 'create' | 'update' | 'delete';
  resourceType: string;
  resourceId: string;
  versionId: number;
  /** When the change was committed (epoch milliseconds). */
  occurredAt: number;
}

/**
 * Numbers `change` for each of `subscriptionIds`, in one transaction (one commit per change, however many
 * subscriptions it concerns). Per subscription: locks its counter (in id order, so concurrent matchers cannot
 * deadlock), and unless this outbox event already has a number there, inserts the event with the next number and
 * advances the counter (no gaps, no duplicates). Returns each subscription's event number, or undefined when that
 * subscription already has an event for a later version of the same resource: a change overtaken while being matched
 * is folded into the later one, so one subscription never hears of a resource's versions out of order.
 */
export async function recordSubscriptionEvents(
  db: Database,
  subscriptionIds: readonly string[],
  change: ChangeEvent,
): Promise<Map<string, number | undefined>> {
  const numbers = new Map<string, number | undefined>();
  if (subscriptionIds.length === 0) {
    return numbers;
  }
  await db.transaction(async (tx) => {
    for (const subscriptionId of [...new Set(subscriptionIds)].sort()) {
      numbers.set(subscriptionId, await numberEvent(tx, subscriptionId, change));
    }
  }, 'read committed');
  return numbers;
}

async function numberEvent(tx: Queryable, subscriptionId: string, change: ChangeEvent): Promise<number | undefined> {
  // Creates or locks the counter (the no-op update takes the row lock), in one round trip.
  const counter = await tx.query<{ last_event_number: number }>(sql`
    INSERT INTO subscription_event_counter (subscription_id) VALUES (${subscriptionId})
    ON CONFLICT (subscription_id) DO UPDATE SET last_event_number = subscription_event_counter.last_event_number
    RETURNING last_event_number`);
  const last = Number(counter.rows[0]?.last_event_number ?? 0);
  const earlier = await tx.query<{ event_number: number; same: boolean }>(sql`
    SELECT event_number, outbox_event_id = ${change.eventId} AS same FROM subscription_event
    WHERE subscription_id = ${subscriptionId}
      AND (outbox_event_id = ${change.eventId}
           OR (resource_type = ${change.resourceType} AND resource_id = ${change.resourceId}
               AND version_id > ${change.versionId}))
    ORDER BY same DESC LIMIT 1`);
  const found = earlier.rows[0];
  if (found) {
    return found.same ? Number(found.event_number) : undefined;
  }
  const eventNumber = last + 1;
  await tx.query(sql`
    WITH inserted AS (
      INSERT INTO subscription_event
        (subscription_id, event_number, outbox_event_id, kind, resource_type, resource_id, version_id, occurred_at)
      VALUES (${subscriptionId}, ${eventNumber}, ${change.eventId}, ${change.kind}, ${change.resourceType},
              ${change.resourceId}, ${change.versionId}, to_timestamp(${change.occurredAt / 1000}))
      RETURNING event_number)
    UPDATE subscription_event_counter SET last_event_number = (SELECT event_number FROM inserted)
    WHERE subscription_id = ${subscriptionId}`);
  if (last === 0) {
    await tx.query(sql`INSERT INTO subscription_delivery (subscription_id) VALUES (${subscriptionId}) ON CONFLICT DO NOTHING`);
  }
  return eventNumber;
}

export interface DeliveryState {
  lastEventNumber: number;
  deliveredThrough: number;
  consecutiveFailures: number;
}

/** The subscription's counters; zeros before its first event. */
export async function readDeliveryState(q: Queryable, subscriptionId: string): Promise<DeliveryState> {
  const { rows } = await q.query<{ last_event_number: number; delivered_through: number; consecutive_failures: number }>(sql`
    SELECT c.last_event_number, d.delivered_through, d.consecutive_failures
    FROM subscription_event_counter c LEFT JOIN subscription_delivery d USING (subscription_id)
    WHERE c.subscription_id = ${subscriptionId}`);
  const row = rows[0];
  return {
    lastEventNumber: Number(row?.last_event_number ?? 0),
    deliveredThrough: Number(row?.delivered_through ?? 0),
    consecutiveFailures: row?.consecutive_failures ?? 0,
  };
}

/**
 * Takes (or renews) the delivery lease of a subscription for `ttlMs`; undefined when another worker holds a live lease
 * or the subscription has no events yet. Only the holder delivers, so one subscription's events go out one at a time.
 */
export async function acquireDeliveryLease(
  q: Queryable,
  subscriptionId: string,
  owner: string,
  ttlMs: number,
): Promise<DeliveryState | undefined> {
  const { rows } = await q.query<{ last_event_number: number; delivered_through: number; consecutive_failures: number }>(sql`
    UPDATE subscription_delivery
    SET lease_owner = ${owner}, lease_until = clock_timestamp() + make_interval(secs => ${ttlMs / 1000})
    WHERE subscription_id = ${subscriptionId}
      AND (lease_owner IS NULL OR lease_owner = ${owner} OR lease_until < clock_timestamp())
    RETURNING delivered_through, consecutive_failures,
      (SELECT c.last_event_number FROM subscription_event_counter c WHERE c.subscription_id = ${subscriptionId})
        AS last_event_number`);
  const row = rows[0];
  return row
    ? {
        lastEventNumber: Number(row.last_event_number),
        deliveredThrough: Number(row.delivered_through),
        consecutiveFailures: row.consecutive_failures,
      }
    : undefined;
}

/** A subscription whose delivery is due but that nothing seems to be working on (see {@link lockIdleDeliveries}). */
export interface IdleDelivery {
  subscriptionId: string;
  /** The first event not settled yet: the one its delivery job is named after. */
  eventNumber: number;
}

/**
 * Subscriptions (ids after `afterId`, in id order, at most `limit`) that should be delivering and show no sign of it:
 * still receiving (see {@link RECEIVING}), an unsettled event numbered more than `idleForMs` ago and due now, and no live
 * lease. Their delivery rows are locked FOR UPDATE SKIP LOCKED until the caller's transaction ends, so replicas
 * sweeping at the same time never look at the same subscription.
 */
export async function lockIdleDeliveries(
  tx: Queryable,
  afterId: string,
  idleForMs: number,
  limit: number,
): Promise<IdleDelivery[]> {
  const { rows } = await tx.query<{ subscription_id: string; event_number: number | string }>(sql`
    SELECT d.subscription_id, e.event_number
    FROM subscription_delivery d
    JOIN subscription_event e ON e.subscription_id = d.subscription_id AND e.event_number = d.delivered_through + 1
    WHERE d.subscription_id > ${afterId}
      AND (d.lease_owner IS NULL OR d.lease_until < clock_timestamp())
      AND e.outcome IS NULL
      AND e.numbered_at < clock_timestamp() - make_interval(secs => ${idleForMs / 1000})
      AND e.next_attempt_at <= clock_timestamp()
      AND EXISTS (
        SELECT 1 FROM resource_version rv
        WHERE rv.resource_type = 'Subscription' AND rv.id = d.subscription_id AND rv.superseded_xid IS NULL
          AND NOT rv.deleted AND ${RECEIVING})
    ORDER BY d.subscription_id LIMIT ${limit}
    FOR UPDATE OF d SKIP LOCKED`);
  return rows.map((r) => ({ subscriptionId: r.subscription_id, eventNumber: Number(r.event_number) }));
}

/** Milliseconds until another holder's lease on the subscription runs out (0 when there is none). */
export async function leaseRemainingMs(q: Queryable, subscriptionId: string): Promise<number> {
  const { rows } = await q.query<{ remaining_ms: number | string | null }>(sql`
    SELECT GREATEST(0, EXTRACT(EPOCH FROM (lease_until - clock_timestamp())) * 1000)::float8 AS remaining_ms
    FROM subscription_delivery WHERE subscription_id = ${subscriptionId} AND lease_owner IS NOT NULL`);
  return Math.ceil(Number(rows[0]?.remaining_ms ?? 0));
}

/** Gives the lease back (only if still ours). */
export async function releaseDeliveryLease(q: Queryable, subscriptionId: string, owner: string): Promise<void> {
  await q.query(sql`
    UPDATE subscription_delivery SET lease_owner = NULL, lease_until = NULL
    WHERE subscription_id = ${subscriptionId} AND lease_owner = ${owner}`);
}

export type EventOutcome = 'delivered' | 'withheld' | 'dead-lettered';

export interface StoredEvent {
  subscriptionId: string;
  eventNumber: number;
  deliveryId: string;
  kind: ChangeEvent['kind'];
  resourceType: string;
  resourceId: string;
  versionId: number;
  occurredAt: Date;
  attempts: number;
  outcome: EventOutcome | undefined;
  /** Milliseconds until the next attempt is due (0 when due now). */
  dueInMs: number;
  /** The id of the HTTP request whose write caused the event (for logs); undefined for the server's own writes. */
  requestId: string | undefined;
}

interface EventRow {
  subscription_id: string;
  event_number: number;
  delivery_id: string;
  kind: ChangeEvent['kind'];
  resource_type: string;
  resource_id: string;
  version_id: number;
  occurred_at: Date | string;
  attempts: number;
  outcome: EventOutcome | null;
  due_in_ms: number | string;
  request_id: string | null;
}

const EVENT_COLUMNS = sql`subscription_id, event_number, delivery_id, kind, resource_type, resource_id, version_id,
  occurred_at, attempts, outcome,
  GREATEST(0, EXTRACT(EPOCH FROM (next_attempt_at - clock_timestamp())) * 1000)::float8 AS due_in_ms,
  (SELECT o.request_id FROM outbox o WHERE o.event_id = subscription_event.outbox_event_id) AS request_id`;

function toStoredEvent(row: EventRow): StoredEvent {
  return {
    subscriptionId: row.subscription_id,
    eventNumber: Number(row.event_number),
    deliveryId: row.delivery_id,
    kind: row.kind,
    resourceType: row.resource_type,
    resourceId: row.resource_id,
    versionId: row.version_id,
    occurredAt: new Date(row.occurred_at),
    attempts: row.attempts,
    outcome: row.outcome ?? undefined,
    dueInMs: Math.ceil(Number(row.due_in_ms)),
    requestId: row.request_id ?? undefined,
  };
}

/** One event by number, or undefined. */
export async function readSubscriptionEvent(q: Queryable, subscriptionId: string, eventNumber: number): Promise<StoredEvent | undefined> {
  const { rows } = await q.query<EventRow>(sql`
    SELECT ${EVENT_COLUMNS} FROM subscription_event
    WHERE subscription_id = ${subscriptionId} AND event_number = ${eventNumber}`);
  return rows[0] ? toStoredEvent(rows[0]) : undefined;
}

/** Events `since`..`until` (inclusive) in number order, at most `limit`. */
export async function listSubscriptionEvents(
  q: Queryable,
  subscriptionId: string,
  since: number,
  until: number,
  limit: number,
): Promise<StoredEvent[]> {
  const { rows } = await q.query<EventRow>(sql`
    SELECT ${EVENT_COLUMNS} FROM subscription_event
    WHERE subscription_id = ${subscriptionId} AND event_number BETWEEN ${since} AND ${until}
    ORDER BY event_number LIMIT ${limit}`);
  return rows.map(toStoredEvent);
}

/**
 * Settles event `eventNumber` as the lease holder: records its outcome and moves the cursor past it. False when the
 * lease was lost or the cursor is elsewhere (another worker took over): the caller stops.
 */
export async function settleSubscriptionEvent(
  db: Database,
  subscriptionId: string,
  owner: string,
  eventNumber: number,
  outcome: EventOutcome,
  ttlMs: number,
): Promise<boolean> {
  const delivered = outcome === 'delivered';
  return db.transaction(async (tx) => {
    const cursor = await tx.query(sql`
      UPDATE subscription_delivery
      SET delivered_through = ${eventNumber},
          lease_until = clock_timestamp() + make_interval(secs => ${ttlMs / 1000}),
          consecutive_failures = CASE WHEN ${delivered} THEN 0 ELSE consecutive_failures END,
          last_delivered_at = CASE WHEN ${delivered} THEN now() ELSE last_delivered_at END
      WHERE subscription_id = ${subscriptionId} AND lease_owner = ${owner} AND delivered_through = ${eventNumber - 1}
      RETURNING subscription_id`);
    if (cursor.rowCount === 0) {
      return false;
    }
    await tx.query(sql`
      UPDATE subscription_event SET outcome = ${outcome}, settled_at = now(),
        attempts = attempts + CASE WHEN ${delivered} THEN 1 ELSE 0 END
      WHERE subscription_id = ${subscriptionId} AND event_number = ${eventNumber}`);
    return true;
  }, 'read committed');
}

/**
 * Records a failed attempt at event `eventNumber` and when the next is due; returns the event's attempts so far and
 * the subscription's failures in a row.
 */
export async function recordFailedAttempt(
  db: Database,
  subscriptionId: string,
  owner: string,
  eventNumber: number,
  httpStatus: number | undefined,
  retryInMs: number,
): Promise<{ attempts: number; consecutiveFailures: number }> {
  return db.transaction(async (tx) => {
    const event = await tx.query<{ attempts: number }>(sql`
      UPDATE subscription_event
      SET attempts = attempts + 1, last_status = ${httpStatus ?? null}::integer,
          next_attempt_at = clock_timestamp() + make_interval(secs => ${retryInMs / 1000})
      WHERE subscription_id = ${subscriptionId} AND event_number = ${eventNumber} AND outcome IS NULL
      RETURNING attempts`);
    const delivery = await tx.query<{ consecutive_failures: number }>(sql`
      UPDATE subscription_delivery SET consecutive_failures = consecutive_failures + 1
      WHERE subscription_id = ${subscriptionId} AND lease_owner = ${owner}
      RETURNING consecutive_failures`);
    return {
      attempts: event.rows[0]?.attempts ?? 0,
      consecutiveFailures: delivery.rows[0]?.consecutive_failures ?? 0,
    };
  }, 'read committed');
}

/*
 * Replayed dead letters. A dead-lettered event is settled (the delivery cursor went past it), so a replay does not move
 * the cursor: it sends that one event again, out of order, and records what came of it on the event alone. Each update
 * applies only while the event is still `dead-lettered`, so a replay that runs twice (a retried job, two operators)
 * settles it once.
 */

/**
 * Settles a replayed dead letter as `delivered` (one more attempt, and the subscription's failure streak ends) or
 * `withheld` (the delivery gate refused it now). False when the event is no longer dead-lettered.
 */
export async function settleReplayedEvent(
  q: Queryable,
  subscriptionId: string,
  eventNumber: number,
  outcome: 'delivered' | 'withheld',
): Promise<boolean> {
  const delivered = outcome === 'delivered';
  const { rowCount } = await q.query(sql`
    UPDATE subscription_event SET outcome = ${outcome}, settled_at = now(),
      attempts = attempts + CASE WHEN ${delivered} THEN 1 ELSE 0 END
    WHERE subscription_id = ${subscriptionId} AND event_number = ${eventNumber} AND outcome = 'dead-lettered'`);
  if (rowCount === 0) {
    return false;
  }
  if (delivered) {
    await q.query(sql`
      UPDATE subscription_delivery SET consecutive_failures = 0, last_delivered_at = now()
      WHERE subscription_id = ${subscriptionId}`);
  }
  return true;
}

/**
 * Counts a failed replay attempt on a dead letter (it stays dead-lettered); returns its attempts so far, or undefined
 * when the event is no longer dead-lettered.
 */
export async function recordFailedReplay(
  q: Queryable,
  subscriptionId: string,
  eventNumber: number,
  httpStatus: number | undefined,
): Promise<number | undefined> {
  const { rows } = await q.query<{ attempts: number }>(sql`
    UPDATE subscription_event SET attempts = attempts + 1, last_status = ${httpStatus ?? null}::integer
    WHERE subscription_id = ${subscriptionId} AND event_number = ${eventNumber} AND outcome = 'dead-lettered'
    RETURNING attempts`);
  return rows[0]?.attempts;
}
