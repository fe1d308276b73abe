/**
 * The planner's statistics kept fresh by the server itself. PostgreSQL plans every query from per-table statistics
 * that only ANALYZE gathers; autovacuum normally runs it, but it may be off (it is on these machines, and some managed
 * set-ups tune it down), and right after migrations or a bulk load the tables have none: a search by subject then
 * scanned every Observation (4-8 s a request) until someone ran ANALYZE by hand. So the server analyses after its
 * migrations and, every few seconds, each of its tables changed by more than autovacuum's own threshold since its
 * last analysis (50 rows + 10% of the table) or grown by a fifth, whichever way autovacuum is set: a table autovacuum
 * already analysed is below the threshold and left alone.
 *
 * Replicas take turns: the work runs under a transaction-scoped advisory lock that only one of them gets at a time.
 */
import type { Database } from './database';
import { sql } from './sql';

// An arbitrary constant: the key of the advisory lock that keeps replicas from analysing side by side.
const STATISTICS_LOCK_KEY = 727_274_002;
// autovacuum_analyze_threshold and autovacuum_analyze_scale_factor at their defaults.
const CHANGED_ROWS_BASE = 50;
const CHANGED_ROWS_SHARE = 0.1;
// Grown by a fifth since its last analysis (plus a few pages): the embedded PGlite keeps no change counts (it runs no
// statistics collector), so there the table's size is what tells.
const GROWN_PAGES_BASE = 8;
const GROWN_PAGES_FACTOR = 1.2;

/** ANALYZEs every table of the current schema changed past the threshold; returns their names (none when another replica holds the turn). */
export async function analyzeChangedTables(db: Database): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.exec('SET LOCAL statement_timeout = 0');
    const turn = await tx.query<{ locked: boolean }>(sql`SELECT pg_try_advisory_xact_lock(${STATISTICS_LOCK_KEY}) AS locked`);
    if (!turn.rows[0]?.locked) {
      return [];
    }
    const { rows } = await tx.query<{ name: string }>(sql`
      SELECT c.relname AS name
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
       WHERE n.nspname = current_schema() AND c.relkind = 'r'
         AND (c.reltuples < 0
              OR COALESCE(s.n_mod_since_analyze, 0) > ${CHANGED_ROWS_BASE}::bigint + ${CHANGED_ROWS_SHARE}::float8 * GREATEST(c.reltuples, 0)
              OR pg_relation_size(c.oid) / current_setting('block_size')::int > ${GROWN_PAGES_BASE}::bigint + ${GROWN_PAGES_FACTOR}::float8 * c.relpages)
       ORDER BY c.relname`);
    for (const { name } of rows) {
      // A name read from the catalogue, quoted as an identifier.
      await tx.exec(`ANALYZE "${name.replace(/"/g, '""')}"`);
    }
    return rows.map((r) => r.name);
  });
}
