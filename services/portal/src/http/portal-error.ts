/**
 * An error a page answers with its own accessible HTML page: the status and which message pair (heading, body) of the
 * common catalogue says what happened. Anything else thrown is a fault: logged by request id and answered 500 with
 * the generic page (http/error-pages.tsx).
 */
export type ErrorPageKind = 'notFound' | 'badRequest' | 'sessionExpired' | 'unavailable' | 'error' | 'clientsOnly' | 'practitionersOnly';

export class PortalError extends Error {
  override readonly name = 'PortalError';
  constructor(
    readonly status: number,
    readonly kind: ErrorPageKind,
    /** Seconds after which to try again (503). */
    readonly retryAfter?: number,
    options?: ErrorOptions,
  ) {
    super(kind, options);
  }
}

/** The signed-in session is missing, has ended or its tokens no longer work: the browser is sent to sign in again. */
export class SignInRequired extends Error {
  override readonly name = 'SignInRequired';
  constructor(readonly reason: 'none' | 'idle' | 'expired') {
    super(`sign in required (${reason})`);
  }
}
