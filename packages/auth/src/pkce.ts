/**
 * PKCE (RFC 7636), S256 only: the `plain` method would let whoever sees the authorization request redeem the code.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** RFC 7636 section 4.1: 43 to 128 characters of the unreserved set. */
const VERIFIER_PATTERN = /^[A-Za-z0-9\-._~]{43,128}$/;
/** A base64url SHA-256 digest: exactly 43 characters. */
const CHALLENGE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** The S256 challenge of a verifier: BASE64URL(SHA256(verifier)). */
export function computeCodeChallenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** True when `challenge` has the shape of an S256 challenge. */
export function isValidCodeChallenge(challenge: string): boolean {
  return CHALLENGE_PATTERN.test(challenge);
}

/** True when `verifier` is well formed and its S256 challenge equals `challenge` (compared in constant time). */
export function verifyCodeVerifier(verifier: string, challenge: string): boolean {
  if (!VERIFIER_PATTERN.test(verifier) || !isValidCodeChallenge(challenge)) {
    return false;
  }
  const expected = Buffer.from(challenge, 'ascii');
  const actual = Buffer.from(computeCodeChallenge(verifier), 'ascii');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
