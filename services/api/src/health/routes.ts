/**
 * Liveness and readiness: /healthz says the process answers; /readyz that PostgreSQL and Redis answer too.
 */
import { sql } from '@carecircle/store';
import express from 'express';
import type { AppServices } from '../app-services';

const CHECK_TIMEOUT_MS = 2000;

/** The router for /healthz and /readyz (no authentication, no data). */
export function createHealthRouter(services: AppServices): express.Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const [database, redis] = await Promise.all([
      check(() => services.db.query(sql`SELECT 1`)),
      check(() => services.redis.ping()),
    ]);
    const ready = database && redis;
    // The database check is named for what answers: PostgreSQL, or embedded PGlite.
    res.status(ready ? 200 : 503).json({
      status: ready ? 'ok' : 'unavailable',
      checks: { [services.db.kind]: database ? 'ok' : 'fail', redis: redis ? 'ok' : 'fail' },
    });
  });
  return router;
}

async function check(probe: () => Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([probe().then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
