/**
 * Registered clients. A system client (SMART Backend Services) authenticates with `private_key_jwt` against its JWKS
 * (inline or at `jwks_uri`) and acts for one Organization within its registered scope. A public app (no secret) logs
 * users in with authorization code + PKCE and may only redirect to its exact registered URIs. A confidential app
 * (SMART `client-confidential-asymmetric`, e.g. a backend-for-frontend) logs users in like a public app and, holding a
 * key, authenticates at the token and revocation endpoints with `private_key_jwt` like a system client. Disabling a client stops
 * new tokens at once and rejects its live access tokens on every replica: every authenticated request looks the client
 * up here (Postgres is the one source of truth, so no cache flush can bring a disabled client back). The rows are
 * store's (tables/auth-clients.ts); the registration rules are here.
 */
import { randomUUID } from 'node:crypto';
import { badRequest, notFound, OperationOutcomeError } from '@medplum/core';
import {
  areTokenHoldersEnabled,
  disableAuthClient,
  enableAuthClient,
  findAuthClient,
  findAuthClientForUpdate,
  insertAuthClient,
  listAuthClients,
  revokeClientRefreshTokens,
  updateAuthClient,
  type AuthClientRecord,
  type Queryable,
} from '@carecircle/store';
import type { OrganizationReference } from './caller';
import type { AuthDeps } from './auth-deps';
import { findJwksProblem, type Jwks } from './client-jwks';
import { findJwksUriProblem, jwksUriRules } from './remote-jwks';
import { formatScopes, parseScopes } from './scopes';

export interface SystemClient {
  readonly kind: 'system';
  readonly clientId: string;
  readonly name: string;
  readonly organization: OrganizationReference;
  readonly jwks?: Jwks;
  readonly jwksUri?: string;
  readonly scope: string;
  readonly createdAt: string;
  readonly disabled: boolean;
}

export interface PublicApp {
  readonly kind: 'public';
  readonly clientId: string;
  readonly name: string;
  readonly redirectUris: readonly string[];
  readonly scope: string;
  readonly createdAt: string;
  readonly disabled: boolean;
}

export interface ConfidentialApp {
  readonly kind: 'confidential';
  readonly clientId: string;
  readonly name: string;
  readonly redirectUris: readonly string[];
  readonly jwks?: Jwks;
  readonly jwksUri?: string;
  readonly scope: string;
  readonly createdAt: string;
  readonly disabled: boolean;
}

/** An app users sign in to (authorization code + PKCE): public, or confidential with a key. */
export type UserFacingApp = PublicApp | ConfidentialApp;

/** A client that authenticates with a client assertion signed by a key it registered. */
export type KeyedClient = SystemClient | ConfidentialApp;

export type RegisteredClient = SystemClient | PublicApp | ConfidentialApp;

export type ClientRegistration =
  | { kind: 'system'; name: string; organization: OrganizationReference; jwks?: Jwks; jwksUri?: string; scope: string }
  | { kind: 'public'; name: string; redirectUris: readonly string[]; scope: string }
  | { kind: 'confidential'; name: string; redirectUris: readonly string[]; jwks?: Jwks; jwksUri?: string; scope: string };

/** The client a stored row holds; its keys and organization were checked when registered. */
function toClient(record: AuthClientRecord): RegisteredClient {
  const common = {
    clientId: record.id,
    name: record.name,
    scope: record.scope,
    createdAt: record.createdAt.toISOString(),
    disabled: record.disabledAt !== undefined,
  };
  const keys = {
    ...(record.jwks ? { jwks: record.jwks as Jwks } : {}),
    ...(record.jwksUri ? { jwksUri: record.jwksUri } : {}),
  };
  switch (record.kind) {
    case 'system':
      return { kind: 'system', ...common, organization: record.organization as OrganizationReference, ...keys };
    case 'confidential':
      return { kind: 'confidential', ...common, redirectUris: record.redirectUris, ...keys };
    case 'public':
      return { kind: 'public', ...common, redirectUris: record.redirectUris };
    default:
      return record.kind satisfies never;
  }
}

/** An absolute https URI (http only for loopback, for development), without a fragment (RFC 6749 section 3.1.2). */
function isAcceptableRedirectUri(uri: string): boolean {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return false;
  }
  if (url.hash || url.username || url.password) {
    return false;
  }
  return url.protocol === 'https:' || (url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname));
}

function invalid(message: string): OperationOutcomeError {
  return new OperationOutcomeError(badRequest(message));
}

/** The changes {@link updateClient} may make; what is absent stays as it is. */
export interface ClientUpdate {
  name?: string;
  scope?: string;
  /** A system client's or confidential app's keys: setting one of `jwks` and `jwksUri` replaces the other. */
  jwks?: Jwks;
  jwksUri?: string;
  /** A public or confidential app's redirect URIs. */
  redirectUris?: readonly string[];
}

/**
 * Checks a client's keys, URIs and scope as registration and update both do (400 naming the problem); returns the
 * scope in its stored, normalised form.
 */
function checkRegistration(config: Pick<AuthDeps['config'], 'env'>, registration: ClientRegistration): string {
  const scopes = parseScopes(registration.scope);
  if (registration.kind === 'system') {
    if (scopes.resources.length === 0 || scopes.resources.some((s) => s.context !== 'system')) {
      throw invalid('A system client needs system/ scopes only');
    }
    checkKeys(config, registration);
    return formatScopes(scopes);
  }
  if (scopes.resources.length === 0 || scopes.resources.some((s) => s.context === 'system')) {
    throw invalid(`A${registration.kind === 'public' ? ' public' : 'n'} app needs patient/ or user/ scopes, and no system/ scopes`);
  }
  if (registration.redirectUris.length === 0 || !registration.redirectUris.every(isAcceptableRedirectUri)) {
    throw invalid('redirect_uris must be absolute https URLs without fragments');
  }
  if (registration.kind === 'confidential') {
    checkKeys(config, registration);
  }
  return formatScopes(scopes);
}

/** Exactly one of inline keys and a key URI, each as a client assertion can be verified with (400 otherwise). */
function checkKeys(config: Pick<AuthDeps['config'], 'env'>, keys: { jwks?: Jwks; jwksUri?: string }): void {
  if ((keys.jwks === undefined) === (keys.jwksUri === undefined)) {
    throw invalid('Register exactly one of jwks and jwks_uri');
  }
  if (keys.jwks) {
    const problem = findJwksProblem(keys.jwks);
    if (problem) {
      throw invalid(`Invalid jwks: ${problem}`);
    }
  }
  const uriProblem = keys.jwksUri === undefined ? undefined : findJwksUriProblem(keys.jwksUri, jwksUriRules(config));
  if (uriProblem) {
    throw invalid(uriProblem);
  }
}

/**
 * Registers a client after checking its keys, URIs and scope; returns it with its new client_id. Whether the
 * organization exists is the caller's to check (the registry does not read resources).
 */
export async function registerClient(
  deps: { readonly db: Queryable; readonly config: Pick<AuthDeps['config'], 'env'> },
  registration: ClientRegistration,
): Promise<RegisteredClient> {
  const scope = checkRegistration(deps.config, registration);
  const keys: { jwks?: Jwks; jwksUri?: string } = registration.kind === 'public' ? {} : registration;
  const record = await insertAuthClient(deps.db, {
    id: randomUUID(),
    kind: registration.kind,
    name: registration.name,
    ...(registration.kind === 'system' ? { organization: registration.organization } : {}),
    redirectUris: registration.kind === 'system' ? [] : registration.redirectUris,
    ...(keys.jwks ? { jwks: keys.jwks } : {}),
    ...(keys.jwksUri !== undefined ? { jwksUri: keys.jwksUri } : {}),
    scope,
  });
  return toClient(record);
}

/** The registration `client` would have after `update`: 400 for a change its kind does not have. */
function updatedRegistration(client: RegisteredClient, update: ClientUpdate): ClientRegistration {
  const name = update.name ?? client.name;
  const scope = update.scope ?? client.scope;
  if (client.kind === 'public') {
    if (update.jwks !== undefined || update.jwksUri !== undefined) {
      throw invalid('jwks and jwks_uri: a public app has no keys');
    }
    return { kind: 'public', name, scope, redirectUris: update.redirectUris ?? client.redirectUris };
  }
  if (client.kind === 'system' && update.redirectUris !== undefined) {
    throw invalid('redirect_uris: a system client has no redirect URIs');
  }
  if (update.jwks !== undefined && update.jwksUri !== undefined) {
    throw invalid('Give at most one of jwks and jwks_uri');
  }
  const keys =
    update.jwks !== undefined
      ? { jwks: update.jwks }
      : update.jwksUri !== undefined
        ? { jwksUri: update.jwksUri }
        : { ...(client.jwks ? { jwks: client.jwks } : {}), ...(client.jwksUri ? { jwksUri: client.jwksUri } : {}) };
  return client.kind === 'system'
    ? { kind: 'system', name, scope, organization: client.organization, ...keys }
    : { kind: 'confidential', name, scope, redirectUris: update.redirectUris ?? client.redirectUris, ...keys };
}

/**
 * Changes a client's name, scope, keys (`jwks` or `jwks_uri`: a system client's or confidential app's) and redirect
 * URIs (a public or confidential app's) under the registration rules, keeping its client_id: a partner rotates its
 * keys without registering again. A changed scope
 * revokes the client's refresh tokens (a session keeps the scope it was granted, so one granted under the old scope
 * could otherwise outlive it). 404 for an unknown id. Returns the client before and after the change.
 */
export async function updateClient(
  deps: { readonly db: Queryable; readonly config: Pick<AuthDeps['config'], 'env'> },
  clientId: string,
  update: ClientUpdate,
): Promise<{ before: RegisteredClient; after: RegisteredClient }> {
  const current = await findAuthClientForUpdate(deps.db, clientId);
  if (!current) {
    throw new OperationOutcomeError(notFound);
  }
  const before = toClient(current);
  const registration = updatedRegistration(before, update);
  const scope = checkRegistration(deps.config, registration);
  const keys: { jwks?: Jwks; jwksUri?: string } = registration.kind === 'public' ? {} : registration;
  const updated = await updateAuthClient(deps.db, clientId, {
    name: registration.name,
    scope,
    redirectUris: registration.kind === 'system' ? [] : registration.redirectUris,
    ...(keys.jwks ? { jwks: keys.jwks } : {}),
    ...(keys.jwksUri !== undefined ? { jwksUri: keys.jwksUri } : {}),
  });
  const after = toClient(updated as AuthClientRecord);
  if (after.scope !== before.scope) {
    await revokeClientRefreshTokens(deps.db, clientId);
  }
  return { before, after };
}

/** Every registered client, oldest first. */
export async function listClients(db: Queryable): Promise<RegisteredClient[]> {
  return (await listAuthClients(db)).map(toClient);
}

/** The client with this id, disabled or not. */
export async function findClient(db: Queryable, clientId: string): Promise<RegisteredClient | undefined> {
  const record = await findAuthClient(db, clientId);
  return record ? toClient(record) : undefined;
}

/**
 * Disables a client: no new tokens, refresh tokens revoked, and its live access tokens rejected from now on (see
 * {@link isTokenHolderEnabled}). Idempotent; 404 for an unknown id.
 */
export async function disableClient(deps: { readonly db: Queryable }, clientId: string): Promise<RegisteredClient> {
  const record = await disableAuthClient(deps.db, clientId);
  if (!record) {
    throw new OperationOutcomeError(notFound);
  }
  await revokeClientRefreshTokens(deps.db, clientId);
  return toClient(record);
}

/**
 * Enables a disabled client again: it may get tokens from now on. Access tokens issued before, and refresh tokens,
 * stay dead (see {@link isTokenHolderEnabled}): whatever was out when the client was disabled does not come back.
 * Idempotent for an enabled client (nothing changes); 404 for an unknown id.
 */
export async function enableClient(deps: { readonly db: Queryable }, clientId: string): Promise<RegisteredClient> {
  const record = await enableAuthClient(deps.db, clientId);
  if (!record) {
    throw new OperationOutcomeError(notFound);
  }
  return toClient(record);
}

/**
 * True when the client an access token was issued to, and its user for a login, are registered and enabled now, and
 * the token (issued at `issuedAt`, JWT seconds) was not issued before the last re-enabling of either or the user's
 * last password reset. `iat` is whole seconds, so the comparison is by the second: a token from the very second of
 * the change still counts (refusing it would also refuse a sign-in made right after the change, for the token's whole
 * life). Without `issuedAt` (a subscription's principal, no token) only "enabled now" is asked. With `sessionId` (a
 * user token's `sid`), its sign-in session must not have been revoked (session-revocation.ts), nor, for a user's
 * token, every session of the user in this app ended after it was issued ("sign out everywhere"). Asked on every
 * authenticated request: up to four primary-key lookups in one round trip.
 */
export async function isTokenHolderEnabled(
  db: Queryable,
  clientId: string,
  userId: string | undefined,
  issuedAt?: number,
  sessionId?: string,
): Promise<boolean> {
  return areTokenHoldersEnabled(db, { clientId, userId, issuedAt, sessionId });
}
