/**
 * `private_key_jwt` client authentication for SMART Backend Services and confidential apps (SMART
 * `client-confidential-asymmetric`): the client signs a short JWT with its own key and we verify it against the JWKS it
 * registered (inline or at `jwks_uri`). Rules: RS384 or ES384 only; `iss` = `sub`
 * = client_id (and a `client_id` form parameter, when sent, names that same client: RFC 7521 section 4.2); `aud` = our
 * token endpoint; `exp` present and at most 5 minutes ahead; `iat` and `nbf`, when present, not beyond the clock skew
 * ahead; `jti` present and never accepted twice (Redis SET NX, shared by every replica, kept until the assertion could
 * no longer verify anyway; without Redis there is no replay check, so the request fails as temporarily unavailable
 * rather than skip it).
 *
 * The key is always the registered one: a header that names or carries another (`jwk`, `x5c`, `x5u`, or a `jku` other
 * than the registered `jwks_uri`) is refused rather than ignored (SMART Backend Services: verification fails when `jku`
 * is not the registered URL), as is any `crit` extension, which we do not implement (RFC 7515 section 4.1.11).
 */
import { createHash } from 'node:crypto';
import { hasUnstorableCharacters } from '@carecircle/fhir';
import jwt from 'jsonwebtoken';
import { nowMs, nowSeconds, remoteJwksFor, redisKey, tokenEndpointUrl, type AuthDeps } from './auth-deps';
import { findClient, type KeyedClient } from './client-registry';
import { CLIENT_ASSERTION_ALGORITHMS, findForeignKeyHeader, selectJwk, type ClientAssertionAlgorithm } from './client-jwks';
import { OAuthError } from './oauth-error';
import { onRedis } from './redis-availability';
import { jwksUriRules } from './remote-jwks';
import { CLIENT_ASSERTION_MAX_SECONDS, CLOCK_SKEW_SECONDS } from './token-lifetimes';

/** The only client_assertion_type (RFC 7523). */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

function rejected(description: string): OAuthError {
  return new OAuthError('invalid_client', description);
}

function isAssertionAlgorithm(alg: unknown): alg is ClientAssertionAlgorithm {
  return (CLIENT_ASSERTION_ALGORITHMS as readonly unknown[]).includes(alg);
}

/**
 * Verifies a client assertion and returns the enabled client it authenticates: a system client or a confidential app
 * (which grants each may use is the token endpoint's to say). `clientIdParameter` is the request's `client_id` when it
 * sent one: it must name the client the assertion is for.
 * Throws OAuthError `invalid_client` (401) for every failure.
 */
export async function authenticateClientAssertion(
  deps: Pick<AuthDeps, 'db' | 'redis' | 'config' | 'clock'>,
  assertionType: string | undefined,
  assertion: string | undefined,
  clientIdParameter?: string,
): Promise<KeyedClient> {
  if (assertionType !== JWT_BEARER_ASSERTION_TYPE || !assertion) {
    throw rejected(`client authentication requires client_assertion_type ${JWT_BEARER_ASSERTION_TYPE} and client_assertion`);
  }
  const decoded = jwt.decode(assertion, { complete: true });
  if (!decoded || typeof decoded.payload === 'string') {
    throw rejected('client_assertion is not a JWT');
  }
  const { alg, kid } = decoded.header;
  if (!isAssertionAlgorithm(alg)) {
    throw rejected('client_assertion must be signed with RS384 or ES384');
  }
  if (typeof kid !== 'string') {
    throw rejected('client_assertion header needs a kid');
  }
  const clientId = decoded.payload.iss;
  // No client id holds NUL or an unpaired surrogate; such an iss is refused before it reaches the database.
  if (typeof clientId !== 'string' || clientId.length === 0 || clientId.length > 128 || hasUnstorableCharacters(clientId)) {
    throw rejected('client_assertion needs iss');
  }
  // Checked before anything is looked up or spent: a request naming two clients authenticates neither.
  if (clientIdParameter !== undefined && clientIdParameter !== clientId) {
    throw rejected('client_id does not name the client the client_assertion is for');
  }
  const client = await findClient(deps.db, clientId);
  if (!client || client.kind === 'public' || client.disabled) {
    throw rejected('unknown or disabled client');
  }
  const foreignKey = findForeignKeyHeader(decoded.header, client.jwksUri);
  if (foreignKey) {
    throw rejected(`client_assertion header ${foreignKey}`);
  }
  const jwks =
    client.jwks ?? (client.jwksUri ? await remoteJwksFor(deps).get(client.jwksUri, kid, jwksUriRules(deps.config), nowMs(deps)) : undefined);
  const key = jwks ? selectJwk(jwks, kid, alg) : undefined;
  if (!key) {
    throw rejected('no registered key matches the client_assertion kid and alg');
  }

  const now = nowSeconds(deps);
  let payload: jwt.JwtPayload;
  try {
    payload = jwt.verify(assertion, key, {
      algorithms: [alg],
      audience: tokenEndpointUrl(deps),
      issuer: clientId,
      subject: clientId,
      clockTolerance: CLOCK_SKEW_SECONDS,
      clockTimestamp: now,
    }) as jwt.JwtPayload;
  } catch (err) {
    throw rejected(describeVerifyError(err));
  }
  if (typeof payload.exp !== 'number') {
    throw rejected('client_assertion needs exp');
  }
  if (payload.exp > now + CLIENT_ASSERTION_MAX_SECONDS + CLOCK_SKEW_SECONDS) {
    throw rejected('client_assertion exp is more than 5 minutes ahead');
  }
  // jsonwebtoken checks nbf, but reads iat only for maxAge: an assertion "issued" in the future is refused here.
  if (payload.iat !== undefined && (typeof payload.iat !== 'number' || payload.iat > now + CLOCK_SKEW_SECONDS)) {
    throw rejected('client_assertion iat is in the future');
  }
  if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 256) {
    throw rejected('client_assertion needs jti');
  }
  // Remember the jti until the assertion would have expired anyway (plus the skew we allow).
  const ttl = Math.max(1, payload.exp - now + CLOCK_SKEW_SECONDS);
  const jtiHash = createHash('sha256').update(payload.jti).digest('base64url');
  const first = await onRedis(deps.redis.set(redisKey(deps, 'jti', clientId, jtiHash), '1', 'EX', ttl, 'NX'));
  if (first !== 'OK') {
    throw rejected('client_assertion jti was already used');
  }
  return client;
}

/** jsonwebtoken's error, as a description that names the rule (never the token). */
function describeVerifyError(err: unknown): string {
  if (err instanceof jwt.TokenExpiredError) {
    return 'client_assertion has expired';
  }
  if (err instanceof jwt.NotBeforeError) {
    return 'client_assertion is not yet valid';
  }
  if (err instanceof jwt.JsonWebTokenError) {
    if (err.message.startsWith('jwt audience invalid')) {
      return 'client_assertion aud must be the token endpoint URL';
    }
    if (err.message.startsWith('jwt issuer invalid') || err.message.startsWith('jwt subject invalid')) {
      return 'client_assertion iss and sub must both be the client_id';
    }
    if (err.message === 'invalid signature') {
      return 'client_assertion signature does not verify';
    }
  }
  return 'client_assertion is invalid';
}
