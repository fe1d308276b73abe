/**
 * Bearer authentication for the FHIR API: the `Authorization` header becomes a {@link Caller}. The admin token (for
 * bootstrap) makes the admin; anything else must be one of our access tokens, unexpired, for our FHIR base, whose
 * client and user are registered and enabled now, and that is younger than their last re-enabling and the user's last
 * password reset, and whose sign-in session (`sid`) has not been revoked (asked of Postgres, or of the process's memory
 * of it that every change makes forget on every replica (store's token-holder-cache.ts), so disabling and revocation
 * take effect at once on every replica and need no Redis). Every failure is the same 401:
 * the reason goes nowhere near the response. The 401 is a {@link BearerAuthenticationError} carrying its RFC 6750
 * challenge: `error="invalid_token"` when a bearer token was presented and refused, nothing more when none was
 * presented (no Authorization header, or another scheme: section 3.1).
 */
import { OperationOutcomeError, unauthorized } from '@medplum/core';
import { verifyAccessToken, AccessTokenRejected, type AccessTokenClaims } from './access-token';
import { isAdminToken } from './admin-token';
import type { AuthDeps } from './auth-deps';
import type { Caller, OrganizationReference } from './caller';
import { isTokenHolderEnabled } from './client-registry';

/** A caller established by an access token (the admin uses the admin token instead). */
export type TokenCaller = Exclude<Caller, { kind: 'admin' }>;

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
// Longer than any token we issue; bounds the work an oversized header can cause.
const MAX_TOKEN_LENGTH = 8192;

/** The one description of a refused token: the same for every reason (expired, revoked, disabled, forged ...). */
const INVALID_TOKEN_DESCRIPTION = 'The access token is invalid, expired or revoked';

/** A 401 of the FHIR API, with what its `WWW-Authenticate` challenge says (RFC 6750 section 3). */
export class BearerAuthenticationError extends OperationOutcomeError {
  /** `invalid_token` when a bearer token was presented and refused; undefined when no bearer token was presented. */
  readonly bearerError: 'invalid_token' | undefined;

  constructor(tokenPresented: boolean) {
    super(
      tokenPresented
        ? { resourceType: 'OperationOutcome', id: unauthorized.id, issue: [{ severity: 'error', code: 'login', details: { text: INVALID_TOKEN_DESCRIPTION } }] }
        : unauthorized,
    );
    this.bearerError = tokenPresented ? 'invalid_token' : undefined;
  }

  /** The `WWW-Authenticate` value: `Bearer realm="..."`, with `error` and `error_description` for a refused token. */
  challenge(realm: string): string {
    return this.bearerError ? `Bearer realm="${realm}", error="${this.bearerError}", error_description="${INVALID_TOKEN_DESCRIPTION}"` : `Bearer realm="${realm}"`;
  }
}

const BEARER_SCHEME = /^\s*Bearer(?:\s|$)/i;

/**
 * The caller behind an `Authorization: Bearer ...` header. Throws OperationOutcomeError 401 (`unauthorized`) when
 * the header is missing or malformed or the token is not valid now (a {@link BearerAuthenticationError}).
 */
export async function authenticateBearer(
  deps: Pick<AuthDeps, 'db' | 'config' | 'clock' | 'tokenHolders'>,
  authorizationHeader: string | undefined,
): Promise<Caller> {
  const match = authorizationHeader ? BEARER.exec(authorizationHeader) : null;
  const token = match?.[1];
  // A header of another scheme (Basic ...) presents no bearer token: the challenge then names no error.
  const unauthenticated = () => new BearerAuthenticationError(authorizationHeader !== undefined && BEARER_SCHEME.test(authorizationHeader));
  if (!token || token.length > MAX_TOKEN_LENGTH) {
    throw unauthenticated();
  }
  if (isAdminToken(token, deps.config.adminToken)) {
    return { kind: 'admin' };
  }
  let claims: AccessTokenClaims;
  try {
    claims = await verifyAccessToken(deps, token);
  } catch (err) {
    if (err instanceof AccessTokenRejected) {
      throw unauthenticated();
    }
    throw err;
  }
  const caller = callerFromClaims(claims);
  if (!caller) {
    throw unauthenticated();
  }
  const userId = caller.kind === 'system' ? undefined : caller.userId;
  const enabled = deps.tokenHolders
    ? await deps.tokenHolders.isEnabled({ clientId: caller.clientId, userId, issuedAt: claims.iat, sessionId: claims.sid })
    : await isTokenHolderEnabled(deps.db, caller.clientId, userId, claims.iat, claims.sid);
  if (!enabled) {
    throw unauthenticated();
  }
  return caller;
}

/** The caller a verified token describes, or undefined when its claims do not fit any kind of caller. */
export function callerFromClaims(claims: AccessTokenClaims): TokenCaller | undefined {
  const organization = claims.organization as OrganizationReference | undefined;
  const fhirUser = claims.fhirUser;
  const purposes = { ...(claims.purpose_of_use && { purposes: claims.purpose_of_use }), tokenId: claims.jti };
  if (fhirUser === undefined) {
    return organization && claims.sub === claims.client_id
      ? { kind: 'system', clientId: claims.client_id, organization, scope: claims.scope, ...purposes }
      : undefined;
  }
  if (fhirUser.startsWith('Practitioner/')) {
    return organization
      ? {
          kind: 'practitioner',
          clientId: claims.client_id,
          userId: claims.sub,
          fhirUser: fhirUser as `Practitioner/${string}`,
          organization,
          scope: claims.scope,
          ...purposes,
        }
      : undefined;
  }
  if (fhirUser.startsWith('Patient/')) {
    return {
      kind: 'patient',
      clientId: claims.client_id,
      userId: claims.sub,
      fhirUser: fhirUser as `Patient/${string}`,
      scope: claims.scope,
      ...purposes,
    };
  }
  return undefined;
}
