/**
 * The `auth_client` table: registered clients (backend systems, public apps, confidential apps) as rows. What a
 * registration may contain, and what disabling means for tokens, are auth's rules (packages/auth client-registry.ts);
 * this module only reads and writes the rows, and hands them back in camelCase.
 */
import type { JsonWebKey } from 'node:crypto';
import type { Queryable } from '../database';
import { sql } from '../sql';
import { tokenHoldersChanged } from './token-holder-generation';

export type AuthClientKind = 'system' | 'public' | 'confidential';

/** A JWK Set as stored with a client: the public keys it registered, already checked by auth. */
export interface StoredJwks {
  readonly keys: readonly JsonWebKey[];
}

/** A client as stored. `organization` only for a system client; `redirectUris` empty for one. */
export interface AuthClientRecord {
  readonly id: string;
  readonly kind: AuthClientKind;
  readonly name: string;
  readonly organization: string | undefined;
  readonly jwks: StoredJwks | undefined;
  readonly jwksUri: string | undefined;
  readonly redirectUris: readonly string[];
  readonly scope: string;
  readonly createdAt: Date;
  readonly disabledAt: Date | undefined;
}

/** A client's registration as written: everything but what the database decides (creation time, disabling). */
export interface AuthClientFields {
  readonly name: string;
  readonly organization?: string;
  readonly jwks?: StoredJwks;
  readonly jwksUri?: string;
  readonly redirectUris: readonly string[];
  readonly scope: string;
}

interface AuthClientRow {
  id: string;
  kind: AuthClientKind;
  name: string;
  organization: string | null;
  jwks: StoredJwks | null;
  jwks_uri: string | null;
  redirect_uris: string[];
  scope: string;
  created_at: Date;
  disabled_at: Date | null;
}

function toRecord(row: AuthClientRow): AuthClientRecord {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    organization: row.organization ?? undefined,
    jwks: row.jwks ?? undefined,
    jwksUri: row.jwks_uri ?? undefined,
    redirectUris: row.redirect_uris,
    scope: row.scope,
    createdAt: row.created_at,
    disabledAt: row.disabled_at ?? undefined,
  };
}

function jwksParameter(jwks: StoredJwks | undefined): string | null {
  return jwks ? JSON.stringify(jwks) : null;
}

/** Inserts a client with id `id`; returns it as stored. */
export async function insertAuthClient(
  db: Queryable,
  client: AuthClientFields & { readonly id: string; readonly kind: AuthClientKind },
): Promise<AuthClientRecord> {
  const { rows } = await db.query<AuthClientRow>(sql`
    INSERT INTO auth_client (id, kind, name, organization, redirect_uris, jwks, jwks_uri, scope)
    VALUES (${client.id}, ${client.kind}, ${client.name}, ${client.organization ?? null}, ${[...client.redirectUris]}::text[],
            ${jwksParameter(client.jwks)}::jsonb, ${client.jwksUri ?? null}, ${client.scope})
    RETURNING *`);
  return toRecord(rows[0] as AuthClientRow);
}

/** The client with this id, disabled or not. */
export async function findAuthClient(db: Queryable, id: string): Promise<AuthClientRecord | undefined> {
  const { rows } = await db.query<AuthClientRow>(sql`SELECT * FROM auth_client WHERE id = ${id}`);
  return rows[0] ? toRecord(rows[0]) : undefined;
}

/** The client with this id, its row locked until `tx` ends (a read-modify-write of its registration). */
export async function findAuthClientForUpdate(tx: Queryable, id: string): Promise<AuthClientRecord | undefined> {
  const { rows } = await tx.query<AuthClientRow>(sql`SELECT * FROM auth_client WHERE id = ${id} FOR UPDATE`);
  return rows[0] ? toRecord(rows[0]) : undefined;
}

/** Every client, oldest first. */
export async function listAuthClients(db: Queryable): Promise<AuthClientRecord[]> {
  const { rows } = await db.query<AuthClientRow>(sql`SELECT * FROM auth_client ORDER BY created_at, id`);
  return rows.map(toRecord);
}

/**
 * Replaces a client's name, scope, redirect URIs and keys (absent keys are cleared; its kind and organization stay);
 * undefined for an unknown id.
 */
export async function updateAuthClient(
  db: Queryable,
  id: string,
  fields: Omit<AuthClientFields, 'organization'>,
): Promise<AuthClientRecord | undefined> {
  const { rows } = await db.query<AuthClientRow>(sql`
    UPDATE auth_client
    SET name = ${fields.name}, scope = ${fields.scope}, redirect_uris = ${[...fields.redirectUris]}::text[],
        jwks = ${jwksParameter(fields.jwks)}::jsonb, jwks_uri = ${fields.jwksUri ?? null}
    WHERE id = ${id} RETURNING *`);
  return rows[0] ? toRecord(rows[0]) : undefined;
}

/** Marks a client disabled (keeping the first disabling's time); undefined for an unknown id. */
export async function disableAuthClient(db: Queryable, id: string): Promise<AuthClientRecord | undefined> {
  const { rows } = await db.query<AuthClientRow>(sql`
    UPDATE auth_client SET disabled_at = COALESCE(disabled_at, now()) WHERE id = ${id} RETURNING *`);
  tokenHoldersChanged();
  return rows[0] ? toRecord(rows[0]) : undefined;
}

/**
 * Enables a client; when it was disabled, tokens issued before now stay refused (`tokens_valid_after`). An enabled
 * client is left as it is. Undefined for an unknown id.
 */
export async function enableAuthClient(db: Queryable, id: string): Promise<AuthClientRecord | undefined> {
  const { rows } = await db.query<AuthClientRow>(sql`
    UPDATE auth_client
    SET tokens_valid_after = CASE WHEN disabled_at IS NULL THEN tokens_valid_after ELSE now() END, disabled_at = NULL
    WHERE id = ${id} RETURNING *`);
  tokenHoldersChanged();
  return rows[0] ? toRecord(rows[0]) : undefined;
}
