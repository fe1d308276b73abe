/**
 * What operators scrape from a process (Prometheus, prom-client): one registry per process, shared by the API and the
 * worker when they run together (ROLE=all), the worker's own when it runs alone (served on its health port). Here:
 * the registry itself with Node's process metrics, and the database pool gauges every process reports. The API and
 * the worker add their own (the API's http-metrics.ts, the worker's worker-metrics.ts).
 *
 * Labels are bounded sets of fixed words: never ids, never content.
 */
import type { Database } from '@carecircle/store';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/** Prefix of every CareCircle metric name. */
export const METRIC_PREFIX = 'carecircle_';

/**
 * A new registry with Node's process metrics (CPU, memory, event loop lag, GC), prefixed `carecircle_`.
 * One per process (tests open several, each with its own).
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  return registry;
}

/**
 * Registers the database pool gauges, read from `db.poolUse()` at scrape time: `carecircle_db_pool_connections`
 * (`state` total or idle), `carecircle_db_pool_waiting` (callers waiting for a connection) and
 * `carecircle_db_pool_max`, each labelled with the engine (`postgres`, or `pglite` with its one connection).
 */
export function registerDatabaseMetrics(registry: Registry, db: Database): void {
  const database = db.kind;
  new Gauge({
    name: `${METRIC_PREFIX}db_pool_connections`,
    help: 'Database connections open in the pool, by state (total or idle).',
    labelNames: ['database', 'state'] as const,
    registers: [registry],
    collect() {
      const use = db.poolUse();
      this.set({ database, state: 'total' }, use.total);
      this.set({ database, state: 'idle' }, use.idle);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}db_pool_waiting`,
    help: 'Callers waiting for a database connection.',
    labelNames: ['database'] as const,
    registers: [registry],
    collect() {
      this.set({ database }, db.poolUse().waiting);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}db_pool_max`,
    help: 'Database connections the pool may open.',
    labelNames: ['database'] as const,
    registers: [registry],
    collect() {
      this.set({ database }, db.poolUse().max);
    },
  });
}
