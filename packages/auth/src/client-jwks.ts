/**
 * Clients' public keys (JWK Sets) for `private_key_jwt`: what a registration may contain, and how an assertion's
 * `alg` + `kid` select a key. Only RS384 (RSA >= 2048 bits) and ES384 (P-384) are accepted, and never private keys.
 * A JWS header that names or carries a key of its own is refused, never followed: the key is always one we hold.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';

/** Algorithms a client may sign its assertions with (SMART Backend Services). */
export const CLIENT_ASSERTION_ALGORITHMS = ['RS384', 'ES384'] as const;
export type ClientAssertionAlgorithm = (typeof CLIENT_ASSERTION_ALGORITHMS)[number];

const jwkSchema = z
  .object({
    kty: z.enum(['RSA', 'EC']),
    kid: z.string().min(1).max(256),
    alg: z.string().optional(),
    use: z.string().optional(),
    key_ops: z.array(z.string()).optional(),
    crv: z.string().optional(),
    x: z.string().optional(),
    y: z.string().optional(),
    n: z.string().optional(),
    e: z.string().optional(),
    d: z.string().optional(),
  })
  .loose();

/** A JWK Set as registered or fetched: `{ keys: [...] }`. */
export const jwksSchema = z.object({ keys: z.array(jwkSchema).min(1).max(20) });
export type Jwks = z.infer<typeof jwksSchema>;
type Jwk = Jwks['keys'][number];

/** The algorithm a key can verify, or a reason it is unusable. */
function keyAlgorithm(jwk: Jwk, key: KeyObject): ClientAssertionAlgorithm | string {
  if (jwk.d !== undefined) {
    return 'a private key was supplied; register public keys only';
  }
  if (jwk.kty === 'RSA') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    return bits >= 2048 ? 'RS384' : 'RSA keys need at least 2048 bits';
  }
  return key.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'ES384' : 'EC keys must be on curve P-384 (ES384)';
}

function importJwk(jwk: Jwk): KeyObject | undefined {
  try {
    return createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch {
    return undefined;
  }
}

/**
 * Checks that every key of a JWKS to register is a usable public RS384/ES384 key with a unique kid.
 * Returns a problem description, or undefined when the set is fine.
 */
export function findJwksProblem(jwks: Jwks): string | undefined {
  const kids = new Set<string>();
  for (const jwk of jwks.keys) {
    if (kids.has(jwk.kid)) {
      return 'kid values must be unique';
    }
    kids.add(jwk.kid);
    const key = importJwk(jwk);
    if (!key) {
      return 'a key could not be read as a JWK';
    }
    const alg = keyAlgorithm(jwk, key);
    if (!(CLIENT_ASSERTION_ALGORITHMS as readonly string[]).includes(alg)) {
      return alg;
    }
    if (jwk.alg !== undefined && jwk.alg !== alg) {
      return 'a key\'s alg does not match its type';
    }
  }
  return undefined;
}

/** The public key with this kid that verifies `alg`, if the set has one. */
export function selectJwk(jwks: Jwks, kid: string, alg: ClientAssertionAlgorithm): KeyObject | undefined {
  const jwk = jwks.keys.find((k) => k.kid === kid);
  if (!jwk || (jwk.use !== undefined && jwk.use !== 'sig')) {
    return undefined;
  }
  const key = importJwk(jwk);
  return key && keyAlgorithm(jwk, key) === alg ? key : undefined;
}

/** Header parameters that name or carry a key (RFC 7515 section 4.1). */
const KEY_NAMING_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'] as const;

/**
 * What is wrong with a JWS header that names or carries a key other than the one we verify with, or asks for an
 * extension we do not implement (`crit`, RFC 7515 section 4.1.11); undefined when nothing is. A `jku` is accepted only
 * when it is `registeredJwksUri` (SMART Backend Services: verification fails for any other).
 */
export function findForeignKeyHeader(header: object, registeredJwksUri: string | undefined): string | undefined {
  if (Object.hasOwn(header, 'crit')) {
    return 'crit names extensions this server does not support';
  }
  for (const name of KEY_NAMING_HEADERS) {
    if (!Object.hasOwn(header, name)) {
      continue;
    }
    const value: unknown = (header as Record<string, unknown>)[name];
    if (name === 'jku' && registeredJwksUri !== undefined && value === registeredJwksUri) {
      continue;
    }
    return name === 'jku' ? 'jku is not the registered jwks_uri' : `${name} is not accepted: only registered keys verify`;
  }
  return undefined;
}
