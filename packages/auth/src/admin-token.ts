/**
 * The operator's bearer token (ADMIN_TOKEN): compared in constant time, never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** True when `presented` equals `expected`, in time independent of where they differ. */
export function isAdminToken(presented: string, expected: string): boolean {
  // Hashing first gives equal-length inputs, so length differences do not leak through timing either.
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
