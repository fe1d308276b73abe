/**
 * JWK Sets fetched from clients' `jwks_uri`, cached per process. A set is kept 5 minutes; a kid not in it triggers a
 * refetch (the client rotated its keys). Whatever the assertions say, a URI is fetched at most once per
 * {@link MIN_FETCH_INTERVAL_MS} by a process, and a fetch that failed counts like one that worked (a negative cache):
 * assertions naming unknown kids, sent by anyone (the token endpoint takes them before anyone is authenticated), cannot
 * make us hit a partner's URL at will, nor a broken URL on every request. The bound is per process (with R replicas
 * at most R fetches per interval), on purpose: a replica that has just started must be able to fetch at once, and a
 * Redis-held permit would add a round trip to every such token request for no real gain in a small R.
 *
 * Where a `jwks_uri` may point is checked twice (@carecircle/net): at registration (scheme, IP literals, names
 * that are loopback or metadata by definition) and at every fetch, where the name is resolved by our own lookup that
 * refuses private, link-local, metadata and reserved addresses before the socket connects. https only; http and
 * loopback only outside production (local development and tests). Redirects are not followed.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Config } from '@carecircle/config';
import { bareHost, checkedLookup, classifyAddress, classifyHost, isAllowedKind, type AddressRules } from '@carecircle/net';
import { jwksSchema, type Jwks } from './client-jwks';

const CACHE_MS = 5 * 60 * 1000;
/** Least time between two fetches of one URI by this process, whether the last one worked or failed. */
export const MIN_FETCH_INTERVAL_MS = 10 * 1000;
const FETCH_TIMEOUT_MS = 5000;
const MAX_JWKS_BYTES = 64 * 1024;

/** Loopback (and with it plain http) only outside production. */
export function jwksUriRules(config: Pick<Config, 'env'>): AddressRules {
  return { allowLoopback: config.env !== 'production' };
}

/**
 * Why `uri` cannot be registered as a `jwks_uri` under `rules`, or undefined when it can: an absolute https URL
 * without credentials or fragment, whose host is not a private, link-local, metadata or reserved address (loopback,
 * over http or https, only where `rules` allow it).
 */
export function findJwksUriProblem(uri: string, rules: AddressRules): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'jwks_uri must be an absolute URL';
  }
  if (url.username || url.password || url.hash) {
    return 'jwks_uri must not carry credentials or a fragment';
  }
  const kind = classifyHost(url.hostname);
  if (kind !== undefined && !isAllowedKind(kind, rules)) {
    return 'jwks_uri must not point at a loopback, private, link-local, metadata or reserved address';
  }
  const httpAllowed = kind === 'loopback' && rules.allowLoopback;
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && httpAllowed)) {
    return 'jwks_uri must be an https URL';
  }
  return undefined;
}

export class RemoteJwksCache {
  /** Per URI: the last set fetched (and when), and when a fetch was last started, successful or not. */
  private readonly entries = new Map<string, { jwks?: Jwks; fetchedAt?: number; attemptedAt: number }>();
  private readonly inFlight = new Map<string, Promise<Jwks | undefined>>();
  /** Bumped by {@link forget}: a fetch that started before it is not cached. */
  private generation = 0;

  /**
   * Drops what is cached for `uri` (the operator changed the client's keys): the next assertion fetches it again, so
   * keys the client withdrew stop verifying at once in this process.
   */
  forget(uri: string): void {
    this.entries.delete(uri);
    this.inFlight.delete(uri);
    this.generation += 1;
  }

  /**
   * The JWKS at `uri`: cached when fresh and holding `kid`; otherwise fetched again, unless this process started a
   * fetch of it less than {@link MIN_FETCH_INTERVAL_MS} ago (then the last set it got, if any). `now` is the deps'
   * clock. Undefined when it cannot be fetched, may not be fetched under `rules`, or is not a valid JWKS.
   */
  async get(uri: string, kid: string, rules: AddressRules, now: number = Date.now()): Promise<Jwks | undefined> {
    const entry = this.entries.get(uri);
    if (entry) {
      const fresh = entry.jwks !== undefined && now - (entry.fetchedAt ?? 0) < CACHE_MS;
      const hasKid = entry.jwks?.keys.some((k) => k.kid === kid) === true;
      if ((fresh && hasKid) || now - entry.attemptedAt < MIN_FETCH_INTERVAL_MS) {
        return entry.jwks;
      }
    }
    let pending = this.inFlight.get(uri);
    if (!pending) {
      this.entries.set(uri, { ...entry, attemptedAt: now });
      pending = fetchJwks(uri, rules).finally(() => {
        if (this.inFlight.get(uri) === pending) {
          this.inFlight.delete(uri);
        }
      });
      this.inFlight.set(uri, pending);
    }
    const generation = this.generation;
    const jwks = await pending;
    if (jwks && generation !== this.generation) {
      return jwks;
    }
    if (jwks) {
      this.entries.set(uri, { jwks, fetchedAt: now, attemptedAt: this.entries.get(uri)?.attemptedAt ?? now });
      return jwks;
    }
    return entry?.jwks;
  }
}

/** GETs and validates a JWKS; undefined for any refusal or failure (the assertion then fails as unverifiable). */
export async function fetchJwks(uri: string, rules: AddressRules): Promise<Jwks | undefined> {
  if (findJwksUriProblem(uri, rules)) {
    return undefined;
  }
  const url = new URL(uri);
  const host = bareHost(url.hostname);
  // An IP literal never reaches the lookup: its kind was checked above. Names are checked by the lookup, per address.
  const literal = classifyAddress(host);
  if (literal !== undefined && !isAllowedKind(literal, rules)) {
    return undefined;
  }
  const body = await new Promise<string | undefined>((resolve) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
      {
        hostname: host,
        port: url.port === '' ? undefined : Number(url.port),
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers: { accept: 'application/json' },
        lookup: checkedLookup(rules),
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      },
      (response) => readBounded(response).then(resolve, () => resolve(undefined)),
    );
    request.on('error', () => resolve(undefined));
    request.end();
  });
  if (body === undefined) {
    return undefined;
  }
  try {
    const parsed = jwksSchema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The body of a 200 answer, or undefined for any other status or a body beyond {@link MAX_JWKS_BYTES}. */
function readBounded(response: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    if (response.statusCode !== 200 || Number(response.headers['content-length'] ?? 0) > MAX_JWKS_BYTES) {
      response.resume();
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_JWKS_BYTES) {
        response.destroy();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
  });
}
