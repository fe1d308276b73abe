/**
 * Registered clients. A system client (SMART Backend Services) authenticates with `private_key_jwt` against its JWKS
 * (inline or at `jwks_uri`) and acts for one Organization within its registered scope. A public app (no secret) logs
 * users in with authorization code + PKCE and may only redirect to its exact registered URIs. Disabling a client stops
 * new tokens at once and rejects its live access tokens on every replica: every authenticated request looks the client
 * up here (Postgres is the one source of truth, so no cache flush can bring a disabled client back).
 */
import { randomUUID } from 'node:crypto';
import { badRequest, notFound, OperationOutcomeError } from '@medplum/core';
import { sql, type Queryable } from '@carecircle/store';
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

export type RegisteredClient = SystemClient | PublicApp;

export type ClientRegistration =
  | { kind: 'system'; name: string; organization: OrganizationReference; jwks?: Jwks; jwksUri?: string; scope: string }
  | { kind: 'public'; name: string; redirectUris: readonly string[]; scope: string };

interface ClientRow {
  id: string;
  kind: 'system' | 'public';
  name: string;
  organization: string | null;
  jwks: Jwks | null;
  jwks_uri: string | null;
  redirect_uris: string[];
  scope: string;
  created_at: Date;
  disabled_at: Date | null;
}

function toClient(row: ClientRow): RegisteredClient {
  const common = {
    clientId: row.id,
    name: row.name,
    scope: row.scope,
    createdAt: row.created_at.toISOString(),
    disabled: row.disabled_at !== null,
  };
  if (row.kind === 'system') {
    return {
      kind: 'system',
      ...common,
      organization: row.organization as OrganizationReference,
      ...(row.jwks ? { jwks: row.jwks } : {}),
      ...(row.jwks_uri ? { jwksUri: row.jwks_uri } : {}),
    };
  }
  return { kind: 'public', ...common, redirectUris: row.redirect_uris };
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

/**
 * Registers a client after checking its keys, URIs and scope; returns it with its new client_id. Whether the
 * organization exists is the caller's to check (the registry does not read resources).
 */
export async function registerClient(
  deps: { readonly db: Queryable; readonly config: Pick<AuthDeps['config'], 'env'> },
  registration: ClientRegistration,
): Promise<RegisteredClient> {
  const { db } = deps;
  const scopes = parseScopes(registration.scope);
  const scope = formatScopes(scopes);
  const id = randomUUID();
  if (registration.kind === 'system') {
    if (scopes.resources.length === 0 || scopes.resources.some((s) => s.context !== 'system')) {
      throw invalid('A system client needs system/ scopes only');
    }
    if ((registration.jwks === undefined) === (registration.jwksUri === undefined)) {
      throw invalid('Register exactly one of jwks and jwks_uri');
    }
    if (registration.jwks) {
      const problem = findJwksProblem(registration.jwks);
      if (problem) {
        throw invalid(`Invalid jwks: ${problem}`);
      }
    }
    const uriProblem = registration.jwksUri === undefined ? undefined : findJwksUriProblem(registration.jwksUri, jwksUriRules(deps.config));
    if (uriProblem) {
      throw invalid(uriProblem);
    }
    const { rows } = await db.query<ClientRow>(sql`
      INSERT INTO auth_client (id, kind, name, organization, jwks, jwks_uri, scope)
      VALUES (${id}, 'system', ${registration.name}, ${registration.organization},
              ${registration.jwks ? JSON.stringify(registration.jwks) : null}::jsonb, ${registration.jwksUri ?? null}, ${scope})
      RETURNING *`);
    return toClient(rows[0] as ClientRow);
  }
  if (scopes.resources.length === 0 || scopes.resources.some((s) => s.context === 'system')) {
    throw invalid('A public app needs patient/ or user/ scopes, and no system/ scopes');
  }
  if (registration.redirectUris.length === 0 || !registration.redirectUris.every(isAcceptableRedirectUri)) {
    throw invalid('redirect_uris must be absolute https URLs without fragments');
  }
  const { rows } = await db.query<ClientRow>(sql`
    INSERT INTO auth_client (id, kind, name, redirect_uris, scope)
    VALUES (${id}, 'public', ${registration.name}, ${[...registration.redirectUris]}::text[], ${scope})
    RETURNING *`);
  return toClient(rows[0] as ClientRow);
}

/** Every registered client, oldest first. */
export async function listClients(db: Queryable): Promise<RegisteredClient[]> {
  const { rows } = await db.query<ClientRow>(sql`SELECT * FROM auth_client ORDER BY created_at, id`);
  return rows.map(toClient);
}

/** The client with this id, disabled or not. */
export async function findClient(db: Queryable, clientId: string): Promise<RegisteredClient | undefined> {
  const { rows } = await db.query<ClientRow>(sql`SELECT * FROM auth_client WHERE id = ${clientId}`);
  return rows[0] ? toClient(rows[0]) : undefined;
}

/**
 * Disables a client: no new tokens, refresh tokens revoked, and its live access tokens rejected from now on (see
 * {@link isTokenHolderEnabled}). Idempotent; 404 for an unknown id.
 */
export async function disableClient(deps: Pick<AuthDeps, 'db'>, clientId: string): Promise<RegisteredClient> {
  const { rows } = await deps.db.query<ClientRow>(sql`
    UPDATE auth_client SET disabled_at = COALESCE(disabled_at, now()) WHERE id = ${clientId} RETURNING *`);
  const row = rows[0];
  if (!row) {
    throw new OperationOutcomeError(notFound);
  }
  await deps.db.query(sql`
    UPDATE auth_refresh_token SET revoked_at = now() WHERE client_id = ${clientId} AND revoked_at IS NULL`);
  return toClient(row);
}

/**
 * True when the client an access token was issued to, and its user for a login, are registered and enabled now.
 * Asked on every authenticated request: two primary-key lookups in one round trip.
 */
export async function isTokenHolderEnabled(db: Queryable, clientId: string, userId: string | undefined): Promise<boolean> {
  const { rows } = await db.query<{ enabled: boolean }>(sql`
    SELECT EXISTS (SELECT 1 FROM auth_client WHERE id = ${clientId} AND disabled_at IS NULL)
       AND (${userId ?? null}::text IS NULL
            OR EXISTS (SELECT 1 FROM auth_user WHERE id = ${userId ?? null}::text AND disabled_at IS NULL)) AS enabled`);
  return rows[0]?.enabled === true;
}
