/**
 * The keys that sign our access tokens: RS384 keypairs (RSA 2048), generated at first start and stored in Postgres so
 * every replica signs and verifies with the same set. RSA because every FHIR request verifies a token and few sign one:
 * an RS384 verification costs about a tenth of a millisecond, an ES384 one about one and a half (measured on these
 * machines), which was a third of a read's CPU. Keys of the ES384 generation (before that choice) still verify what
 * they signed until retired past retention, each key only with its own algorithm. Rotation adds a new signing key and retires the old one, which keeps
 * verifying (and stays in the JWKS) until every token it signed has expired, so rotating needs no downtime.
 *
 * Each process caches the set for {@link SIGNING_KEY_CACHE_SECONDS}; a token naming a kid it has not seen (signed by a
 * replica that rotated) makes it reload at once.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto';
import { sql, type Database, type Queryable, type Transaction } from '@carecircle/store';
import { RETIRED_KEY_RETENTION_SECONDS, SIGNING_KEY_CACHE_SECONDS } from './token-lifetimes';

/** The algorithm of our access tokens: new keys are made for it. */
export const ACCESS_TOKEN_ALGORITHM = 'RS384';
/** Algorithms a stored key may have; a token verifies only with the algorithm of the key its kid names. */
export const VERIFIABLE_ALGORITHMS = [ACCESS_TOKEN_ALGORITHM, 'ES384'] as const;
export type SigningAlgorithm = (typeof VERIFIABLE_ALGORITHMS)[number];

// Key of the advisory lock that serialises key creation and rotation across replicas.
const SIGNING_KEY_LOCK = 727_274_003;
// Tokens with unknown kids may trigger a reload at most this often (a flood of forged kids cannot hammer the DB).
const MIN_RELOAD_INTERVAL_MS = 2000;

/** A public key as published in our JWKS. */
export interface PublishedJwk extends JsonWebKey {
  kid: string;
  alg: string;
  use: 'sig';
}

export interface SigningKey {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly publicKey: KeyObject;
  readonly publicJwk: PublishedJwk;
  /** Only the active key's private half is kept in memory. */
  readonly privateKey: KeyObject | undefined;
  readonly active: boolean;
}

interface SigningKeyRow {
  kid: string;
  alg: string;
  private_key: string;
  public_jwk: PublishedJwk;
  retired_at: Date | null;
}

/** The database's signing keys, cached for this process. */
export class SigningKeyRing {
  private cache: { loadedAt: number; keys: SigningKey[] } | undefined;
  private loading: Promise<SigningKey[]> | undefined;
  private lastForcedReloadAt = 0;

  constructor(private readonly db: Database) {}

  /** The key that signs new tokens; creates the first one when the database has none. */
  async activeKey(): Promise<SigningKey> {
    let active = (await this.keys()).find((k) => k.active);
    if (!active) {
      await ensureActiveSigningKey(this.db);
      active = (await this.keys(true)).find((k) => k.active);
    }
    if (!active) {
      throw new Error('No active signing key after creating one');
    }
    return active;
  }

  /** The key with this kid if it may still verify; reloads once when the kid is unknown here. */
  async findKey(kid: string): Promise<SigningKey | undefined> {
    const found = (await this.keys()).find((k) => k.kid === kid);
    if (found || Date.now() - this.lastForcedReloadAt < MIN_RELOAD_INTERVAL_MS) {
      return found;
    }
    this.lastForcedReloadAt = Date.now();
    return (await this.keys(true)).find((k) => k.kid === kid);
  }

  /** The JWKS: public halves of the active key and of retired keys still within their retention. */
  async jwks(): Promise<{ keys: PublishedJwk[] }> {
    await this.activeKey();
    return { keys: (await this.keys()).map((k) => k.publicJwk) };
  }

  /** Forgets the cached set (after a rotation in this process). */
  invalidate(): void {
    this.cache = undefined;
  }

  private async keys(forceReload = false): Promise<SigningKey[]> {
    const fresh = this.cache && Date.now() - this.cache.loadedAt < SIGNING_KEY_CACHE_SECONDS * 1000;
    if (fresh && !forceReload && this.cache) {
      return this.cache.keys;
    }
    // Concurrent requests share one load.
    this.loading ??= loadSigningKeys(this.db).finally(() => {
      this.loading = undefined;
    });
    const keys = await this.loading;
    this.cache = { loadedAt: Date.now(), keys };
    return keys;
  }
}

async function loadSigningKeys(db: Queryable): Promise<SigningKey[]> {
  const { rows } = await db.query<SigningKeyRow>(sql`
    SELECT kid, alg, private_key, public_jwk, retired_at FROM auth_signing_key
    WHERE retired_at IS NULL OR retired_at > now() - make_interval(secs => ${RETIRED_KEY_RETENTION_SECONDS})
    ORDER BY created_at DESC`);
  return rows
    .filter((row): row is SigningKeyRow & { alg: SigningAlgorithm } => isVerifiableAlgorithm(row.alg))
    .map((row) => {
      // Only a key of the current algorithm signs; one of an earlier generation only verifies.
      const active = row.retired_at === null && row.alg === ACCESS_TOKEN_ALGORITHM;
      return {
        kid: row.kid,
        alg: row.alg,
        publicKey: createPublicKey({ key: row.public_jwk, format: 'jwk' }),
        publicJwk: row.public_jwk,
        privateKey: active ? createPrivateKey(row.private_key) : undefined,
        active,
      };
    });
}

/** Whether `alg` is one a stored key may verify with. */
export function isVerifiableAlgorithm(alg: unknown): alg is SigningAlgorithm {
  return (VERIFIABLE_ALGORITHMS as readonly unknown[]).includes(alg);
}

function generateSigningKey(): { kid: string; privatePem: string; publicJwk: PublishedJwk } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomBytes(16).toString('base64url');
  const jwk = publicKey.export({ format: 'jwk' });
  return {
    kid,
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicJwk: { kty: jwk.kty, n: jwk.n, e: jwk.e, kid, alg: ACCESS_TOKEN_ALGORITHM, use: 'sig' },
  };
}

async function insertSigningKey(tx: Queryable): Promise<string> {
  const key = generateSigningKey();
  await tx.query(sql`
    INSERT INTO auth_signing_key (kid, alg, private_key, public_jwk)
    VALUES (${key.kid}, ${ACCESS_TOKEN_ALGORITHM}, ${key.privatePem}, ${JSON.stringify(key.publicJwk)}::jsonb)`);
  return key.kid;
}

/**
 * Creates the first signing key unless one of the current algorithm is active; replicas starting together create
 * exactly one. An active key of an earlier algorithm is retired then, as a rotation would (it keeps verifying).
 */
export async function ensureActiveSigningKey(db: Database): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(sql`SELECT pg_advisory_xact_lock(${SIGNING_KEY_LOCK})`);
    const { rows } = await tx.query(sql`SELECT 1 FROM auth_signing_key WHERE retired_at IS NULL AND alg = ${ACCESS_TOKEN_ALGORITHM}`);
    if (rows.length === 0) {
      await tx.query(sql`UPDATE auth_signing_key SET retired_at = now() WHERE retired_at IS NULL`);
      await insertSigningKey(tx);
    }
  });
}

/**
 * Rotates the signing key: a new key signs from now on, the previous one is retired (still verifying until its tokens
 * have expired), and keys retired longer ago than the retention are deleted. Returns the new key's kid. `within`, when
 * given, runs in the same transaction once the new kid is known (the admin API writes its AuditEvent there).
 */
export async function rotateSigningKeyIn(db: Database, within?: (tx: Transaction, kid: string) => Promise<void>): Promise<string> {
  return db.transaction(async (tx) => {
    await tx.query(sql`SELECT pg_advisory_xact_lock(${SIGNING_KEY_LOCK})`);
    await tx.query(sql`UPDATE auth_signing_key SET retired_at = now() WHERE retired_at IS NULL`);
    await tx.query(sql`
      DELETE FROM auth_signing_key
      WHERE retired_at < now() - make_interval(secs => ${RETIRED_KEY_RETENTION_SECONDS})`);
    const kid = await insertSigningKey(tx);
    await within?.(tx, kid);
    return kid;
  });
}
