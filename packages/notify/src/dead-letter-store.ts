/**
 * What a replayed dead letter changes in Postgres. A dead-lettered event is settled (the delivery cursor went past it),
 * so a replay does not move the cursor: it sends that one event again, out of order, and records what came of it on
 * the event alone. Each update applies only while the event is still `dead-lettered`, so a replay that runs twice
 * (a retried job, two operators) settles it once.
 */
import { sql, type Queryable } from '@carecircle/store';

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
