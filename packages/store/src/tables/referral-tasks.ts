/**
 * Open referral Tasks as the worker's sweeper finds them in the current resource versions, to rebuild the reminder
 * jobs Redis lost. When a Task is due a reminder is the worker's rule (referral-reminders-queue.ts); this module only
 * reads the rows.
 */
import type { Task } from '@medplum/fhirtypes';
import type { Queryable } from '../database';
import { sql } from '../sql';

/**
 * Current Tasks still `requested` or `received` with a `restriction.period.end`, with ids after `afterId`, in id
 * order, at most `limit`.
 */
export async function findOpenTasksWithDueDate(q: Queryable, afterId: string, limit: number): Promise<Task[]> {
  const { rows } = await q.query<{ content: Task }>(sql`
      SELECT rv.content FROM resource_version rv
      WHERE rv.resource_type = 'Task' AND rv.superseded_xid IS NULL AND NOT rv.deleted
        AND rv.content ->> 'status' IN ('requested', 'received')
        AND rv.content #>> '{restriction,period,end}' IS NOT NULL AND rv.id > ${afterId}
      ORDER BY rv.id LIMIT ${limit}`);
  return rows.map((r) => r.content);
}
