/**
 * Keeps the planner's statistics fresh (store's analyzeChangedTables): once at start, so a database fresh from its
 * migrations or a restore is planned from real figures, then every `intervalMs`. A failed round (the database away) is
 * logged and tried again at the next; the keeper never stops the worker.
 */
import type { Logger } from '@carecircle/log';
import { analyzeChangedTables, type Database } from '@carecircle/store';

/** Often enough that a bulk load is planned well within seconds, rarely enough to cost nothing when nothing changed. */
export const STATISTICS_INTERVAL_MS = 10_000;

export interface StatisticsKeeper {
  close(): Promise<void>;
}

export function startStatisticsKeeper(db: Database, logger: Logger, intervalMs = STATISTICS_INTERVAL_MS): StatisticsKeeper {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = analyzeChangedTables(db)
      .then((tables) => {
        if (tables.length > 0) {
          logger.debug({ tables }, 'planner statistics refreshed');
        }
      })
      .catch((err: unknown) => {
        logger.warn({ err: (err as Error).name }, 'refreshing planner statistics failed; retrying');
      })
      .then(() => {
        if (!stopped) {
          timer = setTimeout(tick, intervalMs);
          timer.unref();
        }
      });
  };
  tick();
  return {
    async close() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
