/**
 * What a failed start tells the operator: one line per cause, saying what is wrong and what to do (issue 10), instead
 * of a stack trace. Each function here turns the error a dependency raised while opening into a {@link StartupError}
 * whose message is that line; the launcher (services/launcher/src/main.ts) prints it and exits 1. Lines name hosts,
 * ports, database and directory names, never a password or anything stored.
 */
import { ConfigError, type Config } from '@carecircle/config';
import { DataDirectoryError, MigrationError } from '@carecircle/store';

/** Thrown when the process cannot start; its message is one line meant for the operator. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

const DEFAULT_POSTGRES_PORT = '5432';

/** SQLSTATEs of a login PostgreSQL refused: invalid_authorization_specification, invalid_password. */
const LOGIN_REFUSED_SQLSTATES: ReadonlySet<string> = new Set(['28000', '28P01']);

/** Codes of a server that does not answer: refused, unreachable, unknown host (Node's `err.code`). */
const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** `pg`'s own errors for a connection it never got, which carry no code. */
const PG_NO_ANSWER = /^(timeout exceeded when trying to connect|Connection terminated due to connection timeout|Connection terminated unexpectedly)/;

/** Where DATABASE_URL points, without its password. */
interface PostgresTarget {
  hostPort: string;
  host: string;
  port: string;
  database: string;
  user: string;
}

/**
 * The one line a failed start prints (the launcher's main.ts), for any error: a {@link StartupError} or ConfigError as it is; a port
 * that cannot be bound; a database that cannot be opened or migrated, as {@link databaseStartupError} says it; anything
 * else as its name and message, without the stack. `config` is undefined when the configuration itself failed.
 */
export function startupFailureLine(err: unknown, config: Config | undefined): string {
  if (err instanceof StartupError || err instanceof ConfigError) {
    return oneLine(err.message);
  }
  const listen = findError(err, (e): e is NodeJS.ErrnoException & { port: number } => isListenError(e));
  if (listen) {
    const setting = listen.port === config?.port ? 'set PORT' : 'choose another port';
    return listen.code === 'EADDRINUSE'
      ? `Port ${listen.port} is in use: stop the other process or ${setting}.`
      : `Port ${listen.port} needs privileges this process does not have: ${setting} (1024 or above).`;
  }
  if (config && isDatabaseFailure(err, config)) {
    return databaseStartupError(err, config).message;
  }
  const name = err instanceof Error ? err.name : typeof err;
  return `CareCircle failed to start: ${name}: ${oneLine(innermostMessage(err))}`;
}

/**
 * The StartupError for a database that could not be opened or migrated: PostgreSQL unreachable, its database missing,
 * its login refused, a migration failed, or PGlite's data directory in use or not writable; anything else in one line.
 */
export function databaseStartupError(err: unknown, config: Pick<Config, 'databaseUrl' | 'dataDir'>): StartupError {
  const migration = findError(err, (e): e is MigrationError => e instanceof MigrationError);
  const where = config.databaseUrl ? describeTarget(parseTarget(config.databaseUrl)) : `PGlite in ${config.dataDir}`;
  if (migration) {
    return new StartupError(
      `${oneLine(migration.message)} (database: ${where}). Nothing of it was applied; ` +
        'use an empty database or one CareCircle created, or fix what the error names, and start again.',
    );
  }
  if (!config.databaseUrl) {
    return pgliteStartupError(err, config.dataDir);
  }
  const target = parseTarget(config.databaseUrl);
  const codes = errorCodes(err);
  if (codes.includes('3D000')) {
    return new StartupError(
      `Database "${target.database}" does not exist on PostgreSQL at ${target.hostPort}: create it with ` +
        `\`createdb -h ${target.host} -p ${target.port} -U ${target.user} ${target.database}\`, or fix the database name in DATABASE_URL.`,
    );
  }
  if (codes.some((code) => LOGIN_REFUSED_SQLSTATES.has(code))) {
    return new StartupError(
      `PostgreSQL at ${target.hostPort} refused the login of user "${target.user}" to database "${target.database}": ` +
        'check the user and password in DATABASE_URL, and that pg_hba.conf lets them in from here.',
    );
  }
  if (codes.some((code) => UNREACHABLE_CODES.has(code)) || messages(err).some((message) => PG_NO_ANSWER.test(message))) {
    return new StartupError(
      `Cannot reach PostgreSQL at ${target.hostPort} (from DATABASE_URL): start it (e.g. \`pg_ctlcluster 15 main start\`) ` +
        'or fix the host and port in DATABASE_URL; or unset DATABASE_URL to use embedded PGlite.',
    );
  }
  return new StartupError(`Cannot open the database (${where}): ${oneLine(innermostMessage(err))}.`);
}

/** A server's `listen` refused: the port is taken or privileged (Node sets `port` on these errors). */
function isListenError(e: object): boolean {
  const { code, syscall, port } = e as { code?: unknown; syscall?: unknown; port?: unknown };
  return (code === 'EADDRINUSE' || code === 'EACCES') && syscall === 'listen' && typeof port === 'number';
}

/**
 * True when `err` comes from opening the database (the worker process opens it without open-services.ts): a failed
 * migration, PGlite's directory, a PostgreSQL SQLSTATE of a missing database or refused login, or a socket error on
 * DATABASE_URL's port (a Redis connection error names Redis's port, and is not taken for the database's).
 */
function isDatabaseFailure(err: unknown, config: Pick<Config, 'databaseUrl' | 'dataDir'>): boolean {
  if (findError(err, (e): e is MigrationError | DataDirectoryError => e instanceof MigrationError || e instanceof DataDirectoryError)) {
    return true;
  }
  if (!config.databaseUrl) {
    return false;
  }
  const target = parseTarget(config.databaseUrl);
  return [...errorChain(err)].some((e) => {
    const { code, port } = e as { code?: unknown; port?: unknown };
    return (
      (typeof code === 'string' && (code === '3D000' || LOGIN_REFUSED_SQLSTATES.has(code))) ||
      (typeof code === 'string' && UNREACHABLE_CODES.has(code) && String(port) === target.port)
    );
  });
}

function pgliteStartupError(err: unknown, dataDir: string): StartupError {
  const directory = findError(err, (e): e is DataDirectoryError => e instanceof DataDirectoryError);
  if (directory?.reason === 'in-use') {
    return new StartupError(
      `The data directory ${dataDir} is in use by another CareCircle process: stop it, or set DATA_DIR to another ` +
        'directory (a lock left by a process that was killed frees itself within 10 seconds).',
    );
  }
  if (directory?.reason === 'not-writable') {
    return new StartupError(
      `The data directory ${dataDir} cannot be created or written (${directory.code}): set DATA_DIR to a writable directory, or fix its permissions.`,
    );
  }
  return new StartupError(`Cannot open the embedded database (PGlite in ${dataDir}): ${oneLine(innermostMessage(err))}.`);
}

function parseTarget(databaseUrl: string): PostgresTarget {
  let url: URL | undefined;
  try {
    url = new URL(databaseUrl);
  } catch {
    url = undefined;
  }
  const host = url?.hostname || 'localhost';
  const port = url?.port || DEFAULT_POSTGRES_PORT;
  const user = decodeURIComponent(url?.username ?? '') || 'postgres';
  const database = decodeURIComponent((url?.pathname ?? '').replace(/^\//, '')) || user;
  return { host, port, hostPort: `${host}:${port}`, database, user };
}

function describeTarget(target: PostgresTarget): string {
  return `PostgreSQL at ${target.hostPort}/${target.database}`;
}

/** `err`, its causes, and an AggregateError's errors (a connect tried on IPv4 and IPv6), depth first. */
function* errorChain(err: unknown, depth = 0): Generator<object> {
  if (typeof err !== 'object' || err === null || depth > 5) {
    return;
  }
  yield err;
  const { cause, errors } = err as { cause?: unknown; errors?: unknown };
  if (Array.isArray(errors)) {
    for (const inner of errors) {
      yield* errorChain(inner, depth + 1);
    }
  }
  yield* errorChain(cause, depth + 1);
}

function findError<T extends object>(err: unknown, test: (e: object) => e is T): T | undefined {
  for (const e of errorChain(err)) {
    if (test(e)) {
      return e;
    }
  }
  return undefined;
}

function errorCodes(err: unknown): string[] {
  return [...errorChain(err)].flatMap((e) => {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' ? [code] : [];
  });
}

function messages(err: unknown): string[] {
  return [...errorChain(err)].flatMap((e) => {
    const message = (e as { message?: unknown }).message;
    return typeof message === 'string' && message !== '' ? [message] : [];
  });
}

/** The message of the deepest error that has one: the database's own words rather than a wrapper's. */
function innermostMessage(err: unknown): string {
  return messages(err).at(-1) ?? String(err);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
