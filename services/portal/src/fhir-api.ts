/**
 * The public FHIR API as the signed-in client or practitioner: every call carries the user's own access token, so
 * every rule the API enforces (scopes, custodianship, consent, psychotherapy notes, audit) holds for the portal too. The token is refreshed a
 * little before it runs out, once per session at a time (refresh tokens rotate, and a reused one ends the session).
 * An answer the page cannot use becomes a PortalError: 404 as "not found" (the API's answer for anything not the
 * client's), 503/429 as "busy, try again"; a refused or lapsed sign-in as SignInRequired.
 */
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { Session, SessionData } from 'express-session';
import type { OAuthClient } from './oauth-client';
import { TokenRequestFailed } from './oauth-client';
import { PortalError, SignInRequired } from './http/portal-error';

const REFRESH_MARGIN_MS = 30_000;

/** An answer of the API other than success, for pages that handle some of them (a 422 naming a problem, a 412). */
export class FhirRequestFailed extends Error {
  override readonly name = 'FhirRequestFailed';
  constructor(
    readonly status: number,
    readonly outcome: OperationOutcome | undefined,
  ) {
    super(`FHIR request failed with ${status}`);
  }
}

/** Refreshes in flight, per session, so two requests of one browser do not both spend the refresh token. */
const refreshing = new Map<string, Promise<void>>();

export class FhirApi {
  constructor(
    private readonly apiUrl: string,
    private readonly oauth: OAuthClient,
    private readonly session: Session & Partial<SessionData>,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  /** The signed-in client's `Patient/{id}`. */
  get patient(): string {
    if (!this.session.patient) {
      throw new SignInRequired('none');
    }
    return this.session.patient;
  }

  /** The signed-in practitioner's `Practitioner/{id}` (the practice area). */
  get practitioner(): string {
    if (!this.session.practitioner) {
      throw new SignInRequired('none');
    }
    return this.session.practitioner;
  }

  /** The client's Patient id alone. */
  get patientId(): string {
    return this.patient.slice('Patient/'.length);
  }

  async read<T extends Resource>(path: string): Promise<T> {
    return (await this.request('GET', path)).body as T;
  }

  async search<T extends Resource = Resource>(path: string): Promise<Bundle<T>> {
    return (await this.request('GET', path)).body as Bundle<T>;
  }

  async create<T extends Resource>(resource: T): Promise<T> {
    return (await this.request('POST', `/${resource.resourceType}`, resource)).body as T;
  }

  /** Updates `resource` only if it is still at `versionId` (If-Match): a change made meanwhile answers 412. */
  async update<T extends Resource>(resource: T & { id: string }, versionId: string): Promise<T> {
    return (await this.request('PUT', `/${resource.resourceType}/${resource.id}`, resource, { 'If-Match': `W/"${versionId}"` })).body as T;
  }

  /** One FHIR interaction; throws on anything but 2xx. */
  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
    await this.freshToken();
    let res = await this.send(method, path, body, headers);
    if (res.status === 401 && this.session.tokens?.refreshToken) {
      await this.refreshNow();
      res = await this.send(method, path, body, headers);
    }
    const text = await res.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (res.ok) {
      return { status: res.status, body: parsed };
    }
    if (res.status === 401) {
      throw new SignInRequired('expired');
    }
    const outcome = (parsed as { resourceType?: unknown } | undefined)?.resourceType === 'OperationOutcome' ? (parsed as OperationOutcome) : undefined;
    if (res.status === 503 || res.status === 429) {
      throw new PortalError(503, 'unavailable', Number(res.headers.get('retry-after')) || 5);
    }
    throw new FhirRequestFailed(res.status, outcome);
  }

  private send(method: string, path: string, body: unknown, headers: Record<string, string>): Promise<Response> {
    const token = this.session.tokens?.accessToken;
    if (!token) {
      throw new SignInRequired('none');
    }
    return this.fetchImpl(`${this.apiUrl}/fhir/R4${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        Accept: 'application/fhir+json',
        ...(body === undefined ? {} : { 'Content-Type': 'application/fhir+json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    }).catch((err: unknown) => {
      throw new PortalError(503, 'unavailable', 5, { cause: err });
    });
  }

  private async freshToken(): Promise<void> {
    const tokens = this.session.tokens;
    if (!tokens) {
      throw new SignInRequired('none');
    }
    if (tokens.accessExpiresAt - REFRESH_MARGIN_MS > Date.now()) {
      return;
    }
    if (!tokens.refreshToken) {
      throw new SignInRequired('expired');
    }
    await this.refreshNow();
  }

  private async refreshNow(): Promise<void> {
    const key = this.session.id;
    const inFlight = refreshing.get(key);
    if (inFlight) {
      return inFlight;
    }
    const work = (async () => {
      const refreshToken = this.session.tokens?.refreshToken;
      if (!refreshToken) {
        throw new SignInRequired('expired');
      }
      try {
        const { tokens } = await this.oauth.refresh(refreshToken);
        this.session.tokens = { ...tokens, refreshToken: tokens.refreshToken ?? refreshToken };
        await new Promise<void>((resolve, reject) => this.session.save((err: unknown) => (err ? reject(err) : resolve())));
      } catch (err) {
        if (err instanceof TokenRequestFailed && err.status >= 400 && err.status < 500) {
          throw new SignInRequired('expired');
        }
        throw err;
      }
    })();
    refreshing.set(key, work);
    try {
      await work;
    } finally {
      refreshing.delete(key);
    }
  }
}
