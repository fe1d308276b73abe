/**
 * Password hashing with scrypt (memory-hard, in node:crypto) and a random per-user salt. The stored form names its
 * parameters, `scrypt$N$r$p$<salt b64url>$<hash b64url>`, so they can be raised later without breaking old hashes.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** N = 2^15, r = 8: 32 MiB of memory per hash (128 * N * r bytes), tens of milliseconds of work. */
const PARAMS = { N: 32768, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
// Room for N up to 2^16 with r = 8 (128 * N * r = 64 MiB) plus slack.
const MAX_MEMORY = 128 * 1024 * 1024;

function scryptAsync(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, { ...options, maxmem: MAX_MEMORY }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** Hashes a password with a fresh salt; returns the self-describing stored form. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const hash = await scryptAsync(password, salt, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

/** True when `password` matches `stored`; false for any malformed stored value. Compares in constant time. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') {
    return false;
  }
  const [N, r, p] = parts.slice(1, 4).map((v) => Number.parseInt(v ?? '', 10)) as [number, number, number];
  const powerOfTwo = N > 1 && (N & (N - 1)) === 0;
  if (!powerOfTwo || ![r, p].every((v) => Number.isSafeInteger(v) && v > 0) || 128 * N * r > MAX_MEMORY / 2) {
    return false;
  }
  const salt = Buffer.from(parts[4] ?? '', 'base64url');
  const expected = Buffer.from(parts[5] ?? '', 'base64url');
  let actual: Buffer;
  try {
    actual = await scryptAsync(password, salt, { N, r, p });
  } catch {
    return false;
  }
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/**
 * A valid hash of a random, discarded password: verified against when a username is unknown, so a login for an unknown
 * user costs the same time as one for a known user (no user enumeration through timing).
 */
export const UNKNOWN_USER_PASSWORD_HASH =
  'scrypt$32768$8$1$nK9awmY2A-KCVQJQdCTKkg$3zwUdxi-YAR6JnyjHAZjFbrjR6qeBvFGcKVo2fR3Ndk';
