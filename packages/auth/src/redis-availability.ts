/**
 * Redis holds what auth must share between replicas for a short while: authorization codes, client-assertion jti's
 * (replay protection) and failed-login counters. None of it can be skipped safely, so when Redis does not answer the
 * request fails closed, as "temporarily unavailable" (503 with Retry-After) rather than as an unexplained 500.
 * Who is disabled is not among it: that lives in Postgres (client-registry.ts, user-registry.ts).
 */

/** Seconds a caller is told to wait before trying again. */
export const RETRY_AFTER_SECONDS = 5;

/** Thrown when Redis (the auth state shared by replicas) does not answer; the HTTP layer answers 503. */
export class AuthStateUnavailable extends Error {
  override readonly name = 'AuthStateUnavailable';
  readonly retryAfterSeconds = RETRY_AFTER_SECONDS;
  constructor(options?: { cause?: unknown }) {
    super('The authorization state store (Redis) is not answering', options);
  }
}

/**
 * Awaits a Redis command. A connection failure (ioredis' MaxRetriesPerRequestError, a closed connection, a refused
 * connect) becomes {@link AuthStateUnavailable}; Redis' own answers to a wrong command (ReplyError) stay what they are.
 */
export async function onRedis<T>(command: Promise<T>): Promise<T> {
  try {
    return await command;
  } catch (err) {
    if (err instanceof Error && err.name === 'ReplyError') {
      throw err;
    }
    throw new AuthStateUnavailable({ cause: err });
  }
}
