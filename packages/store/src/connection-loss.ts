/**
 * Which database errors mean "the connection is gone", not "the request is wrong": a backend killed
 * (pg_terminate_backend, a restart, a failover), a server refusing connections while it starts or stops, a socket
 * refused or reset, a connection attempt timing out. Such an error costs the request in flight (a 503 the caller may
 * retry), never the process: the pool replaces the connection by itself. Kept apart from database.ts so the HTTP error
 * handler can recognise the same errors when one reaches it unconverted.
 */

/**
 * SQLSTATEs of a lost or refused connection: class 08 (connection exception), 57P01 admin_shutdown (a backend
 * terminated), 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up or shutting down), 57P05
 * idle_session_timeout, 53300 too_many_connections.
 */
const CONNECTION_SQLSTATES: ReadonlySet<string> = new Set(['57P01', '57P02', '57P03', '57P05', '53300']);

/** Socket errors of a connection refused, reset or unreachable (Node's `err.code`). */
const SOCKET_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * `pg`'s own errors for a connection it lost or never got, which carry no code: "Connection terminated
 * [unexpectedly | due to connection timeout]", "timeout exceeded when trying to connect" (the pool's
 * connectionTimeoutMillis), and a client used after its connection broke or closed.
 */
const PG_CONNECTION_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error and is not queryable|Client was closed and is not queryable)/;

/**
 * True when `err` (or an error it wraps as `cause`, or one of an AggregateError's errors: a refused connect tried on
 * IPv4 and IPv6) says the database connection was lost or could not be made.
 */
export function isConnectionLoss(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 3) {
    return false;
  }
  const { code, message, cause, errors } = err as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string' && (code.startsWith('08') || CONNECTION_SQLSTATES.has(code) || SOCKET_ERROR_CODES.has(code))) {
    return true;
  }
  if (typeof message === 'string' && PG_CONNECTION_MESSAGES.test(message)) {
    return true;
  }
  if (Array.isArray(errors) && errors.some((inner) => isConnectionLoss(inner, depth + 1))) {
    return true;
  }
  return isConnectionLoss(cause, depth + 1);
}
