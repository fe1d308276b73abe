/**
 * JWK Sets fetched from clients' `jwks_uri`, cached per process. A kid not in the cached set triggers one refetch
 * (the client rotated its keys), at most every few seconds per URI so forged kids cannot make us hammer the client.
 */
import { jwksSchema, type Jwks } from './client-jwks';

const CACHE_MS = 5 * 60 * 1000;
const MIN_REFETCH_MS = 1000;
const FETCH_TIMEOUT_MS = 5000;
const MAX_JWKS_BYTES = 64 * 1024;

/** http: is allowed only to loopback addresses (local development and tests); anything else must be https:. */
export function isAcceptableJwksUri(uri: string): boolean {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return false;
  }
  if (url.username || url.password || url.hash) {
    return false;
  }
  return url.protocol === 'https:' || (url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname));
}

export class RemoteJwksCache {
  private readonly entries = new Map<string, { jwks: Jwks; fetchedAt: number }>();
  private readonly inFlight = new Map<string, Promise<Jwks | undefined>>();

  /**
   * The JWKS at `uri`: cached when fresh, unless `kid` is missing from it (then refetched, rate-limited).
   * Undefined when it cannot be fetched or is not a valid JWKS.
   */
  async get(uri: string, kid: string): Promise<Jwks | undefined> {
    const entry = this.entries.get(uri);
    const now = Date.now();
    if (entry) {
      const fresh = now - entry.fetchedAt < CACHE_MS;
      const hasKid = entry.jwks.keys.some((k) => k.kid === kid);
      if ((fresh && hasKid) || now - entry.fetchedAt < MIN_REFETCH_MS) {
        return entry.jwks;
      }
    }
    let pending = this.inFlight.get(uri);
    if (!pending) {
      pending = fetchJwks(uri).finally(() => this.inFlight.delete(uri));
      this.inFlight.set(uri, pending);
    }
    const jwks = await pending;
    if (jwks) {
      this.entries.set(uri, { jwks, fetchedAt: Date.now() });
      return jwks;
    }
    return entry?.jwks;
  }
}

async function fetchJwks(uri: string): Promise<Jwks | undefined> {
  if (!isAcceptableJwksUri(uri)) {
    return undefined;
  }
  try {
    const response = await fetch(uri, {
      redirect: 'error',
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      headers: { accept: 'application/json' },
    });
    if (!response.ok || Number(response.headers.get('content-length') ?? 0) > MAX_JWKS_BYTES) {
      return undefined;
    }
    const text = await response.text();
    if (text.length > MAX_JWKS_BYTES) {
      return undefined;
    }
    const parsed = jwksSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
