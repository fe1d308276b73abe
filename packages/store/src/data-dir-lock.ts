/**
 * One process at a time on a PGlite data directory. PGlite runs PostgreSQL inside the process, and nothing in it stops
 * a second process from opening the same files (tried: both start and answer queries), which would corrupt them. So opening
 * takes a lock first (proper-lockfile: a lock directory inside the data directory, kept fresh while held), and a
 * directory that cannot be created or written is told apart from one in use, so the start can say which it is.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { lock } from 'proper-lockfile';

/**
 * How long a lock left by a process that died without releasing it (SIGKILL, a crash) holds the directory: the holder
 * refreshes it every half of this, so a live holder never looks stale.
 */
const STALE_LOCK_MS = 10_000;

/** Error codes of a directory that cannot be created or written (permissions, a read-only mount, a file in the way). */
const NOT_WRITABLE_CODES: ReadonlySet<string> = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EEXIST', 'ENOSPC']);

/** Why a PGlite data directory cannot be opened: another process holds it, or it cannot be created or written. */
export class DataDirectoryError extends Error {
  override readonly name = 'DataDirectoryError';

  constructor(
    readonly dataDir: string,
    readonly reason: 'in-use' | 'not-writable',
    /** The file system's error code (`EACCES`, `ENOTDIR` ...) or `ELOCKED`. */
    readonly code: string,
  ) {
    super(reason === 'in-use' ? `The data directory ${dataDir} is in use by another process` : `The data directory ${dataDir} is not writable (${code})`);
  }
}

/**
 * Creates `dataDir` when missing and locks it for this process; resolves to the function that releases the lock.
 * Throws a {@link DataDirectoryError} when another process holds it or it cannot be created or written.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  try {
    mkdirSync(dataDir, { recursive: true });
    return await lock(dataDir, {
      lockfilePath: join(dataDir, 'carecircle.lock'),
      stale: STALE_LOCK_MS,
      // Keep serving if a refresh fails (a stalled event loop, a full disk): crashing would cost the requests in
      // flight, and the next start checks the lock again.
      onCompromised: () => undefined,
    });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ELOCKED') {
      throw new DataDirectoryError(dataDir, 'in-use', code);
    }
    if (typeof code === 'string' && NOT_WRITABLE_CODES.has(code)) {
      throw new DataDirectoryError(dataDir, 'not-writable', code);
    }
    throw err;
  }
}
