/**
 * The operator's bearer token (ADMIN_TOKEN): compared in constant time, never logged.
 */
import { hash, timingSafeEqual } from 'node:crypto';

/** The digest of the configured token, kept so that each request hashes only what it presents. */
let expectedDigest: { token: string; digest: Buffer } | undefined;

/** True when `presented` equals `expected`, in time independent of where they differ. */
export function isAdminToken(presented: string, expected: string): boolean {
  // Hashing first gives equal-length inputs, so length differences do not leak through timing either.
  if (expectedDigest?.token !== expected) {
    expectedDigest = { token: expected, digest: hash('sha256', expected, 'buffer') };
  }
  return timingSafeEqual(hash('sha256', presented, 'buffer'), expectedDigest.digest);
}
