/**
 * Graceful shutdown on SIGTERM and SIGINT, the same for every CareCircle process: the first signal runs `close` (which
 * stops accepting work, drains, and closes connections in order) and exits 0, or 1 if closing failed; later signals
 * are ignored while it runs.
 */
import type { Logger } from '@carecircle/log';

/** Installs the handlers; `close` runs at most once. */
export function exitOnShutdownSignals(logger: Logger, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      return;
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err: (err as Error).name }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
