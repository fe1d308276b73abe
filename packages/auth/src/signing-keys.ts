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
import {
  deleteExpiredSigningKeys,
  hasActiveSigningKey,
  insertSigningKey,
  listVerifyingSigningKeys,
  lockSigningKeys,
  retireActiveSigningKey,
  type Database,
  type Queryable,
  type Transaction,
} from '@carecircle/store';
import { RETIRED_KEY_RETENTION_SECONDS, SIGNING_KEY_CACHE_SECONDS } from './token-lifetimes';

/** The algorithm of our access tokens: new keys are made for it. */
export const ACCESS_TOKEN_ALGORITHM = 'RS384';
/** Algorithms a stored key may have; a token verifies only with the algorithm of the key its kid names. */
export const VERIFIABLE_ALGORITHMS = [ACCESS_TOKEN_ALGORITHM, 'ES384'] as const;
export type SigningAlgorithm = (typeof VERIFIABLE_ALGORITHMS)[number];

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
  const stored = await listVerifyingSigningKeys(db, RETIRED_KEY_RETENTION_SECONDS);
  return stored.flatMap((key): SigningKey[] => {
    const alg = key.alg;
    if (!isVerifiableAlgorithm(alg)) {
      return [];
    }
    // Only a key of the current algorithm signs; one of an earlier generation only verifies.
    const active = key.retiredAt === undefined && alg === ACCESS_TOKEN_ALGORITHM;
    return [
      {
        kid: key.kid,
        alg,
        publicKey: createPublicKey({ key: key.publicJwk, format: 'jwk' }),
        publicJwk: key.publicJwk as PublishedJwk,
        privateKey: active ? createPrivateKey(key.privateKeyPem) : undefined,
        active,
      },
    ];
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

/** Generates a key of the current algorithm and stores it as the active one; returns its kid. */
async function addSigningKey(tx: Queryable): Promise<string> {
  const key = generateSigningKey();
  await insertSigningKey(tx, { kid: key.kid, alg: ACCESS_TOKEN_ALGORITHM, privateKeyPem: key.privatePem, publicJwk: key.publicJwk });
  return key.kid;
}

/**
 * Creates the first signing key unless one of the current algorithm is active; replicas starting together create
 * exactly one. An active key of an earlier algorithm is retired then, as a rotation would (it keeps verifying).
 */
export async function ensureActiveSigningKey(db: Database): Promise<void> {
  await db.transaction(async (tx) => {
    await lockSigningKeys(tx);
    if (!(await hasActiveSigningKey(tx, ACCESS_TOKEN_ALGORITHM))) {
      await retireActiveSigningKey(tx);
      await addSigningKey(tx);
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
    await lockSigningKeys(tx);
    await retireActiveSigningKey(tx);
    await deleteExpiredSigningKeys(tx, RETIRED_KEY_RETENTION_SECONDS);
    const kid = await addSigningKey(tx);
    await within?.(tx, kid);
    return kid;
  });
}
