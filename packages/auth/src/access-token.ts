/**
 * Our access tokens: JWTs signed with the active RS384 key (see signing-keys.ts), `iss` our base URL, `aud` the FHIR
 * base. Verification pins the algorithm to the one of the key the token's kid names (never `none`, never HS* keyed with
 * a public key), requires the kid of a key we published (a header naming or carrying any other key is refused),
 * checks issuer, audience, expiry and issue time with a bounded clock skew, and validates the claims' shape.
 */
import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { nowSeconds, signingKeysFor, verifiedTokensFor, type AuthDeps } from './auth-deps';
import { findForeignKeyHeader } from './client-jwks';
import { SUPPORTED_PURPOSES_OF_USE } from './purpose-of-use';
import { ACCESS_TOKEN_ALGORITHM, isVerifiableAlgorithm, type SigningKey } from './signing-keys';
import { CLOCK_SKEW_SECONDS } from './token-lifetimes';

const REFERENCE = /^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/;

/** What an access token says about its holder (besides the registered JWT claims). */
export interface AccessTokenSubject {
  /** The user id for a login, the client id for a backend system. */
  sub: string;
  client_id: string;
  /** Granted scopes, space separated. */
  scope: string;
  /** `Practitioner/{id}` or `Patient/{id}` for a login. */
  fhirUser?: string;
  /** `Organization/{id}`: the system's or the practitioner's organization. */
  organization?: string;
  /** The Patient id in context, for a client's own login. */
  patient?: string;
  /** Purposes of use (v3-ActReason) the client asked for at the token endpoint, in its order. */
  purpose_of_use?: string[];
  /** The sign-in session a user token belongs to (session-revocation.ts); system tokens have none. */
  sid?: string;
}

const claimsSchema = z.object({
  iss: z.string(),
  aud: z.union([z.string(), z.array(z.string())]),
  sub: z.string().min(1),
  client_id: z.string().min(1),
  scope: z.string(),
  jti: z.string().min(1),
  exp: z.number().int(),
  iat: z.number().int(),
  fhirUser: z.string().regex(REFERENCE).optional(),
  organization: z.string().regex(/^Organization\/[A-Za-z0-9\-.]{1,64}$/).optional(),
  patient: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/).optional(),
  purpose_of_use: z.array(z.enum(SUPPORTED_PURPOSES_OF_USE)).min(1).max(SUPPORTED_PURPOSES_OF_USE.length).optional(),
  sid: z.uuid().optional(),
});

/** The verified claims of an access token. */
export type AccessTokenClaims = z.infer<typeof claimsSchema>;

/** Thrown for any token that does not verify; the reason is for logs at debug level, never for the response. */
export class AccessTokenRejected extends Error {
  override readonly name = 'AccessTokenRejected';
}

/** Signs an access token for `subject`, valid `lifetimeSeconds`; returns the JWT and its id. */
export async function issueAccessToken(
  deps: Pick<AuthDeps, 'db' | 'config' | 'clock'>,
  subject: AccessTokenSubject,
  lifetimeSeconds: number,
): Promise<{ accessToken: string; jti: string }> {
  const key = await signingKeysFor(deps).activeKey();
  if (!key.privateKey) {
    throw new Error('Active signing key without its private half');
  }
  const jti = randomUUID();
  const accessToken = jwt.sign({ ...subject, jti, iat: nowSeconds(deps) }, key.privateKey, {
    algorithm: ACCESS_TOKEN_ALGORITHM,
    keyid: key.kid,
    issuer: deps.config.baseUrl,
    audience: deps.config.fhirBaseUrl,
    expiresIn: lifetimeSeconds,
  });
  return { accessToken, jti };
}

/**
 * Verifies one of our access tokens and returns its claims; throws {@link AccessTokenRejected} otherwise. A token this
 * process verified before is not verified again while the key that verified it is still published; its lifetime is
 * checked every time (verified-tokens.ts).
 */
export async function verifyAccessToken(deps: Pick<AuthDeps, 'db' | 'config' | 'clock'>, token: string): Promise<AccessTokenClaims> {
  const memory = verifiedTokensFor(deps);
  const remembered = memory.get(token);
  if (remembered) {
    const claims = remembered.claims as AccessTokenClaims;
    const stillValid =
      remembered.issuer === deps.config.baseUrl &&
      remembered.audience === deps.config.fhirBaseUrl &&
      (await signingKeysFor(deps).findKey(remembered.key.kid)) === remembered.key;
    if (stillValid) {
      assertWithinLifetime(deps, claims);
      return claims;
    }
    memory.forget(token);
  }
  const { claims, key } = await verifySignedToken(deps, token);
  memory.remember(token, { claims, key, issuer: deps.config.baseUrl, audience: deps.config.fhirBaseUrl });
  return claims;
}

/**
 * The lifetime checks of a remembered token, as jsonwebtoken made them when it was verified: expired once now reaches
 * `exp` plus the allowed skew; never issued in the future.
 */
function assertWithinLifetime(deps: Pick<AuthDeps, 'clock'>, claims: AccessTokenClaims): void {
  const now = nowSeconds(deps);
  if (now >= claims.exp + CLOCK_SKEW_SECONDS) {
    throw new AccessTokenRejected('jwt expired');
  }
  if (claims.iat > now + CLOCK_SKEW_SECONDS) {
    throw new AccessTokenRejected('issued in the future');
  }
}

/** The full verification of a token: header, key, signature, registered claims, claims' shape. */
async function verifySignedToken(
  deps: Pick<AuthDeps, 'db' | 'config' | 'clock'>,
  token: string,
): Promise<{ claims: AccessTokenClaims; key: SigningKey }> {
  const decoded = jwt.decode(token, { complete: true });
  if (!decoded || typeof decoded.payload === 'string') {
    throw new AccessTokenRejected('not a JWT');
  }
  // Checked before any key is looked up: only our algorithms, only a kid we published, no key named or carried.
  if (!isVerifiableAlgorithm(decoded.header.alg) || typeof decoded.header.kid !== 'string') {
    throw new AccessTokenRejected('unexpected algorithm or missing kid');
  }
  const foreignKey = findForeignKeyHeader(decoded.header, undefined);
  if (foreignKey) {
    throw new AccessTokenRejected(foreignKey);
  }
  const key = await signingKeysFor(deps).findKey(decoded.header.kid);
  if (!key) {
    throw new AccessTokenRejected('unknown kid');
  }
  if (key.alg !== decoded.header.alg) {
    throw new AccessTokenRejected('algorithm does not match the key');
  }
  let payload: unknown;
  try {
    payload = jwt.verify(token, key.publicKey, {
      algorithms: [key.alg],
      issuer: deps.config.baseUrl,
      audience: deps.config.fhirBaseUrl,
      clockTolerance: CLOCK_SKEW_SECONDS,
      clockTimestamp: nowSeconds(deps),
    });
  } catch (err) {
    throw new AccessTokenRejected(err instanceof Error ? err.message : 'verification failed');
  }
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) {
    throw new AccessTokenRejected('malformed claims');
  }
  if (claims.data.iat > nowSeconds(deps) + CLOCK_SKEW_SECONDS) {
    throw new AccessTokenRejected('issued in the future');
  }
  return { claims: claims.data, key };
}
