/**
 * The database's side of the health checks (the API's /readyz and /healthz/dependencies, the worker's /readyz): one
 * trivial statement, answered or not.
 */
import type { Queryable } from '../database';
import { sql } from '../sql';

/** Resolves when the database answers a trivial statement; rejects as the query does. */
export async function pingDatabase(q: Queryable): Promise<void> {
  await q.query(sql`SELECT 1`);
}
