/**
 * What the auth functions run against: the services of the process (config, database, Redis), and the per-process
 * caches that belong to one database (signing keys, clients' fetched JWKS), kept beside it rather than in globals.
 */
import type { Config } from '@carecircle/config';
import type { Database, TokenHolderCheck } from '@carecircle/store';
import type { Redis } from 'ioredis';
import { RemoteJwksCache } from './remote-jwks';
import { SigningKeyRing } from './signing-keys';
import { VerifiedTokens } from './verified-tokens';

/** The slice of the app's services auth needs; the API's AppServices satisfies it. */
export interface AuthDeps {
  readonly config: Pick<Config, 'baseUrl' | 'fhirBaseUrl' | 'adminToken' | 'redisPrefix' | 'env'>;
  readonly db: Database;
  readonly redis: Redis;
  /**
   * Milliseconds since the epoch, for every expiry auth decides itself (authorization codes, refresh tokens, access
   * tokens' iat/exp). Absent in the running app (Date.now); tests pass a clock they can move, instead of sleeping.
   */
  readonly clock?: () => number;
  /**
   * The process's memory of token holders found enabled (store's token-holder-cache.ts: forgotten on every change, on
   * every replica); absent, every request asks the database.
   */
  readonly tokenHolders?: Pick<TokenHolderCheck, 'isEnabled'>;
}

/** Now, by the deps' clock. */
export function nowMs(deps: Pick<AuthDeps, 'clock'>): number {
  return deps.clock ? deps.clock() : Date.now();
}

/** Now in whole seconds (JWT NumericDate), by the deps' clock. */
export function nowSeconds(deps: Pick<AuthDeps, 'clock'>): number {
  return Math.floor(nowMs(deps) / 1000);
}

interface AuthCaches {
  readonly signingKeys: SigningKeyRing;
  readonly remoteJwks: RemoteJwksCache;
  readonly verifiedTokens: VerifiedTokens<unknown>;
}

// Keyed by the database handle: every router and middleware built from the same services shares one cache, and the
// cache goes away with the handle (tests open many).
const cachesByDatabase = new WeakMap<Database, AuthCaches>();

function cachesFor(deps: Pick<AuthDeps, 'db'>): AuthCaches {
  let caches = cachesByDatabase.get(deps.db);
  if (!caches) {
    caches = { signingKeys: new SigningKeyRing(deps.db), remoteJwks: new RemoteJwksCache(), verifiedTokens: new VerifiedTokens() };
    cachesByDatabase.set(deps.db, caches);
  }
  return caches;
}

/** The signing keys of this database, cached for this process. */
export function signingKeysFor(deps: Pick<AuthDeps, 'db'>): SigningKeyRing {
  return cachesFor(deps).signingKeys;
}

/** The access tokens this process has verified (verified-tokens.ts). */
export function verifiedTokensFor(deps: Pick<AuthDeps, 'db'>): VerifiedTokens<unknown> {
  return cachesFor(deps).verifiedTokens;
}

/** The cache of JWKS fetched from clients' `jwks_uri`, for this process. */
export function remoteJwksFor(deps: Pick<AuthDeps, 'db'>): RemoteJwksCache {
  return cachesFor(deps).remoteJwks;
}

/**
 * Forgets this process's cached JWKS of `jwksUri` (a client's keys changed). Other replicas fetch again when an
 * assertion names a kid they have not seen, and drop a withdrawn key when their copy ages out (5 minutes).
 */
export function forgetRemoteJwks(deps: Pick<AuthDeps, 'db'>, jwksUri: string): void {
  remoteJwksFor(deps).forget(jwksUri);
}

/** Redis key under the configured prefix: `<prefix>:auth:<parts...>`. */
export function redisKey(deps: Pick<AuthDeps, 'config'>, ...parts: string[]): string {
  return [deps.config.redisPrefix, 'auth', ...parts].join(':');
}

/** The token endpoint's URL: the audience client assertions must name. */
export function tokenEndpointUrl(deps: Pick<AuthDeps, 'config'>): string {
  return `${deps.config.baseUrl}/oauth2/token`;
}
