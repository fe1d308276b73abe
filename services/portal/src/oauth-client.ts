/**
 * The portal as an OAuth client of the API: it sends the browser to `/oauth2/authorize` (authorization code, PKCE
 * S256, a state bound to the session, the client's language as `ui_locales`), redeems the code, refreshes the access
 * token before it runs out, and revokes on sign-out. Every token request is authenticated with a client assertion
 * signed by the portal's key (private_key_jwt). Tokens stay in the server-side session.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Config } from '@carecircle/config';
import jwt from 'jsonwebtoken';
import type { PortalApp } from './app-registration';
import { CLIENT_AREA_SCOPE, PRACTICE_AREA_SCOPE } from './app-registration';
import type { Language } from './i18n/catalogue';
import type { PendingSignIn, PortalArea, PortalTokens } from './http/session';

/** What the token endpoint answered for a sign-in. */
export interface SignedIn {
  readonly tokens: PortalTokens;
  /** The signed-in user's FHIR identity (`Patient/{id}` for a client, `Practitioner/{id}` for a practitioner). */
  readonly fhirUser: string | undefined;
}

/** The token endpoint said no (an OAuth error), or could not be reached. */
export class TokenRequestFailed extends Error {
  override readonly name = 'TokenRequestFailed';
  constructor(
    readonly status: number,
    readonly error: string,
  ) {
    super(`token request failed: ${status} ${error}`);
  }
}

export class OAuthClient {
  constructor(
    private readonly config: Config,
    /** Where the API is called (config.portal.apiUrl, or this process's port once it listens). */
    private readonly apiUrl: () => string,
    private readonly app: () => Promise<PortalApp>,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  private get redirectUri(): string {
    return `${this.config.portal.publicUrl}/callback`;
  }

  /**
   * Starts a sign-in to `area`: what to keep in the session, and where to send the browser. Each area asks for its
   * own scopes, so the API's sign-in page names what that area does.
   */
  async beginSignIn(lang: Language, area: PortalArea): Promise<{ pending: PendingSignIn; authorizeUrl: string }> {
    const app = await this.app();
    const pending: PendingSignIn = {
      area,
      state: randomBytes(32).toString('base64url'),
      codeVerifier: randomBytes(48).toString('base64url'),
      startedAt: Date.now(),
    };
    const url = new URL(`${this.config.baseUrl}/oauth2/authorize`);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: app.clientId,
      redirect_uri: this.redirectUri,
      scope: area === 'practice' ? PRACTICE_AREA_SCOPE : CLIENT_AREA_SCOPE,
      state: pending.state,
      code_challenge: createHash('sha256').update(pending.codeVerifier).digest('base64url'),
      code_challenge_method: 'S256',
      aud: this.config.fhirBaseUrl,
      ui_locales: lang,
    }).toString();
    return { pending, authorizeUrl: url.toString() };
  }

  /** Redeems the code the callback received. */
  async redeemCode(code: string, pending: PendingSignIn): Promise<SignedIn> {
    return this.tokenRequest({
      grant_type: 'authorization_code',
      code,
      redirect_uri: this.redirectUri,
      code_verifier: pending.codeVerifier,
    });
  }

  /** A new access token (and rotated refresh token) for a session. */
  async refresh(refreshToken: string): Promise<SignedIn> {
    return this.tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken });
  }

  /**
   * Revokes a refresh token (RFC 7009); with `everywhere`, every refresh token of its user for this app. Best effort:
   * the session ends either way, and a revocation that fails is logged by the caller.
   */
  async revoke(refreshToken: string, everywhere: boolean): Promise<void> {
    const form = {
      token: refreshToken,
      token_type_hint: 'refresh_token',
      ...(everywhere ? { carecircle_sessions: 'all' } : {}),
      ...(await this.clientAuthentication()),
    };
    const res = await this.fetchImpl(`${this.apiUrl()}/oauth2/revoke`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) {
      throw new TokenRequestFailed(res.status, await oauthError(res));
    }
  }

  private async tokenRequest(grant: Record<string, string>): Promise<SignedIn> {
    const res = await this.fetchImpl(`${this.apiUrl()}/oauth2/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams({ ...grant, ...(await this.clientAuthentication()) }).toString(),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) {
      throw new TokenRequestFailed(res.status, await oauthError(res));
    }
    const body = (await res.json()) as {
      access_token: string;
      expires_in?: number;
      refresh_token?: string;
      scope?: string;
    };
    const claims = jwt.decode(body.access_token);
    const fhirUser = typeof claims === 'object' && claims !== null && typeof claims.fhirUser === 'string' ? claims.fhirUser : undefined;
    return {
      fhirUser,
      tokens: {
        accessToken: body.access_token,
        accessExpiresAt: Date.now() + (body.expires_in ?? 300) * 1000,
        refreshToken: body.refresh_token,
        scope: body.scope ?? '',
      },
    };
  }

  private async clientAuthentication(): Promise<Record<string, string>> {
    const app = await this.app();
    const assertion = jwt.sign({ jti: randomUUID() }, app.privateKey, {
      algorithm: app.alg,
      keyid: app.kid,
      issuer: app.clientId,
      subject: app.clientId,
      audience: `${this.config.baseUrl}/oauth2/token`,
      expiresIn: 60,
    });
    return {
      client_id: app.clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    };
  }
}

async function oauthError(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: unknown };
    return typeof body.error === 'string' ? body.error : 'unknown';
  } catch {
    return 'unknown';
  }
}
