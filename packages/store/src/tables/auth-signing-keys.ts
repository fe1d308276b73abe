/**
 * The `auth_signing_key` table: the keypairs that sign our access tokens, shared by every replica. Which algorithm new
 * keys use, how long a retired key keeps verifying and when to rotate are auth's rules (packages/auth
 * signing-keys.ts); this module reads and writes the rows and serialises key changes across replicas.
 */
import type { JsonWebKey } from 'node:crypto';
import type { Queryable } from '../database';
import { sql } from '../sql';

// Key of the advisory lock that serialises key creation and rotation across replicas.
const SIGNING_KEY_LOCK = 727_274_003;

/** A signing key as stored. At most one has no `retiredAt`: the one that signs. */
export interface SigningKeyRecord {
  readonly kid: string;
  readonly alg: string;
  /** The private key, PKCS#8 PEM. */
  readonly privateKeyPem: string;
  /** The public key as published in the JWKS. */
  readonly publicJwk: JsonWebKey;
  readonly retiredAt: Date | undefined;
}

/**
 * Takes the lock that serialises signing-key changes, held until `tx` ends: replicas creating or rotating keys at
 * the same moment take turns.
 */
export async function lockSigningKeys(tx: Queryable): Promise<void> {
  await tx.query(sql`SELECT pg_advisory_xact_lock(${SIGNING_KEY_LOCK})`);
}

/** The keys not retired, or retired less than `retentionSeconds` ago, newest first. */
export async function listVerifyingSigningKeys(db: Queryable, retentionSeconds: number): Promise<SigningKeyRecord[]> {
  const { rows } = await db.query<{ kid: string; alg: string; private_key: string; public_jwk: JsonWebKey; retired_at: Date | null }>(sql`
    SELECT kid, alg, private_key, public_jwk, retired_at FROM auth_signing_key
    WHERE retired_at IS NULL OR retired_at > now() - make_interval(secs => ${retentionSeconds})
    ORDER BY created_at DESC`);
  return rows.map((row) => ({
    kid: row.kid,
    alg: row.alg,
    privateKeyPem: row.private_key,
    publicJwk: row.public_jwk,
    retiredAt: row.retired_at ?? undefined,
  }));
}

/** Whether a key of algorithm `alg` is active (not retired). */
export async function hasActiveSigningKey(db: Queryable, alg: string): Promise<boolean> {
  const { rows } = await db.query(sql`SELECT 1 FROM auth_signing_key WHERE retired_at IS NULL AND alg = ${alg}`);
  return rows.length > 0;
}

/** Retires the active key, if any: it stops signing and keeps verifying. */
export async function retireActiveSigningKey(db: Queryable): Promise<void> {
  await db.query(sql`UPDATE auth_signing_key SET retired_at = now() WHERE retired_at IS NULL`);
}

/** Deletes the keys retired more than `retentionSeconds` ago. */
export async function deleteExpiredSigningKeys(db: Queryable, retentionSeconds: number): Promise<void> {
  await db.query(sql`
    DELETE FROM auth_signing_key
    WHERE retired_at < now() - make_interval(secs => ${retentionSeconds})`);
}

/** Stores a new, active key (retire the previous one first: only one may be active). */
export async function insertSigningKey(
  db: Queryable,
  key: { kid: string; alg: string; privateKeyPem: string; publicJwk: JsonWebKey },
): Promise<void> {
  await db.query(sql`
    INSERT INTO auth_signing_key (kid, alg, private_key, public_jwk)
    VALUES (${key.kid}, ${key.alg}, ${key.privateKeyPem}, ${JSON.stringify(key.publicJwk)}::jsonb)`);
}
