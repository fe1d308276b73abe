/**
 * Publishing and rotating our access-token signing keys: the JWKS served at /.well-known/jwks.json, and rotation
 * without downtime (see signing-keys.ts for how retired keys keep verifying).
 */
import type { Transaction } from '@carecircle/store';
import { signingKeysFor, type AuthDeps } from './auth-deps';
import { rotateSigningKeyIn, type PublishedJwk } from './signing-keys';

/** The JWKS of our access-token signing keys (active and still-verifying retired ones); creates the first key. */
export async function publishedJwks(deps: Pick<AuthDeps, 'db'>): Promise<{ keys: PublishedJwk[] }> {
  return signingKeysFor(deps).jwks();
}

/**
 * Rotates the access-token signing key without downtime: the new key signs from now on, the old one keeps verifying
 * until the tokens it signed have expired. Other replicas pick the new key up within a minute, or at once when they
 * meet a token signed with it. `within`, when given, runs in the rotation's transaction once the new kid is known.
 */
export async function rotateSigningKey(
  deps: Pick<AuthDeps, 'db'>,
  within?: (tx: Transaction, kid: string) => Promise<void>,
): Promise<string> {
  const kid = await rotateSigningKeyIn(deps.db, within);
  signingKeysFor(deps).invalidate();
  return kid;
}
