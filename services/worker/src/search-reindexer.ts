/**
 * Brings the search rows of stored versions up to this release's index (store's reindexSearch), in the background
 * from the worker's start: after a release that indexes something new (a SearchParameter in fhir-profiles, token
 * `:text` rows), versions stored before are found by searches again once their type is done. Requests are served
 * meanwhile; replicas take turns and a stopped worker leaves the rest to the next start (the cursor is in the
 * database). Progress is logged by resource type and counts, never content. A failed round (the database away) is
 * logged and tried again; the re-indexer never stops the worker.
 */
import type { Logger } from '@carecircle/log';
import { reindexSearch, type Database, type ReindexProgress, type ReindexSummary } from '@carecircle/store';

/** How long after a failed round the re-indexing is tried again. */
export const REINDEX_RETRY_MS = 10_000;
/** At most one progress line per resource type this often (besides its first and last). */
export const REINDEX_LOG_INTERVAL_MS = 10_000;

export interface SearchReindexer {
  /** Resolves once every type's index is this release's (or another release's, newer), or when closed. */
  readonly upToDate: Promise<void>;
  /** Stops between two batches (the cursor keeps the place) and waits for the batch in flight. */
  close(): Promise<void>;
}

export interface SearchReindexerOptions {
  retryMs?: number;
  batchSize?: number;
  busyRetryMs?: number;
}

export function startSearchReindexer(db: Database, logger: Logger, options: SearchReindexerOptions = {}): SearchReindexer {
  const stop = new AbortController();
  const retryMs = options.retryMs ?? REINDEX_RETRY_MS;
  const logProgress = progressLogger(logger);
  const run = async (): Promise<void> => {
    while (!stop.signal.aborted) {
      let summary: ReindexSummary;
      try {
        summary = await reindexSearch(db, {
          signal: stop.signal,
          onProgress: logProgress,
          ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
          ...(options.busyRetryMs === undefined ? {} : { busyRetryMs: options.busyRetryMs }),
        });
      } catch (err) {
        logger.warn({ err: (err as Error).name }, 'search re-indexing failed; retrying');
        await sleep(retryMs, stop.signal);
        continue;
      }
      if (summary.newer.length > 0) {
        logger.warn({ resourceTypes: summary.newer }, 'search index of a newer release in place; left alone');
      }
      if (summary.complete && summary.reindexed > 0) {
        logger.info({ resourceTypes: summary.finished, reindexed: summary.reindexed }, 'search re-indexing finished');
      }
      return;
    }
  };
  const upToDate = run();
  return {
    upToDate,
    async close() {
      stop.abort();
      await upToDate;
    },
  };
}

/** Logs a type's first batch, its end, and otherwise at most every REINDEX_LOG_INTERVAL_MS. */
function progressLogger(logger: Logger): (progress: ReindexProgress) => void {
  const lastLogged = new Map<string, number>();
  return (progress) => {
    const now = Date.now();
    const last = lastLogged.get(progress.resourceType);
    if (!progress.done && last !== undefined && now - last < REINDEX_LOG_INTERVAL_MS) {
      return;
    }
    lastLogged.set(progress.resourceType, now);
    const { resourceType, reindexed, planned, deferred, skipped, done } = progress;
    logger.info({ resourceType, reindexed, planned, deferred, skipped }, done ? 'search re-indexing of a type done' : 'search re-indexing');
  };
}

async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) {
    return;
  }
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
