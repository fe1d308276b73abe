/**
 * The `auth_user` table: the people who sign in, as rows. Usernames are stored as auth hands them over (lower case);
 * password hashes are written here but read back only by {@link findAuthUserCredentials}, for a sign-in, so no other
 * lookup carries one. What a user may be, and how passwords are hashed and checked, are auth's rules
 * (packages/auth user-registry.ts).
 */
import type { Queryable } from '../database';
import { sql } from '../sql';
import { tokenHoldersChanged } from './token-holder-generation';

/** A user as stored, without the password hash. */
export interface AuthUserRecord {
  readonly id: string;
  readonly username: string;
  readonly fhirUser: string;
  readonly organization: string | undefined;
  readonly createdAt: Date;
  readonly disabledAt: Date | undefined;
}

interface AuthUserRow {
  id: string;
  username: string;
  password_hash: string;
  fhir_user: string;
  organization: string | null;
  created_at: Date;
  disabled_at: Date | null;
}

function toRecord(row: AuthUserRow): AuthUserRecord {
  return {
    id: row.id,
    username: row.username,
    fhirUser: row.fhir_user,
    organization: row.organization ?? undefined,
    createdAt: row.created_at,
    disabledAt: row.disabled_at ?? undefined,
  };
}

/** Inserts a user; undefined when the username is taken (nothing is written then). */
export async function insertAuthUser(
  db: Queryable,
  user: { id: string; username: string; passwordHash: string; fhirUser: string; organization?: string },
): Promise<AuthUserRecord | undefined> {
  const { rows } = await db.query<AuthUserRow>(sql`
    INSERT INTO auth_user (id, username, password_hash, fhir_user, organization)
    VALUES (${user.id}, ${user.username}, ${user.passwordHash}, ${user.fhirUser}, ${user.organization ?? null})
    ON CONFLICT (username) DO NOTHING
    RETURNING *`);
  return rows[0] ? toRecord(rows[0]) : undefined;
}

/** Every user, oldest first. */
export async function listAuthUsers(db: Queryable): Promise<AuthUserRecord[]> {
  const { rows } = await db.query<AuthUserRow>(sql`SELECT * FROM auth_user ORDER BY created_at, id`);
  return rows.map(toRecord);
}

/** The user with this id, enabled or not. */
export async function findAuthUser(db: Queryable, id: string): Promise<AuthUserRecord | undefined> {
  const { rows } = await db.query<AuthUserRow>(sql`SELECT * FROM auth_user WHERE id = ${id}`);
  return rows[0] ? toRecord(rows[0]) : undefined;
}

/** The user with this (stored, lower-case) username and its password hash, for checking a sign-in. */
export async function findAuthUserCredentials(
  db: Queryable,
  username: string,
): Promise<{ user: AuthUserRecord; passwordHash: string } | undefined> {
  const { rows } = await db.query<AuthUserRow>(sql`SELECT * FROM auth_user WHERE username = ${username}`);
  const row = rows[0];
  return row ? { user: toRecord(row), passwordHash: row.password_hash } : undefined;
}

/** Marks a user disabled (keeping the first disabling's time); undefined for an unknown id. */
export async function disableAuthUser(db: Queryable, id: string): Promise<AuthUserRecord | undefined> {
  const { rows } = await db.query<AuthUserRow>(sql`
    UPDATE auth_user SET disabled_at = COALESCE(disabled_at, now()) WHERE id = ${id} RETURNING *`);
  tokenHoldersChanged();
  return rows[0] ? toRecord(rows[0]) : undefined;
}

/**
 * Enables a user; when it was disabled, tokens issued before now stay refused (`tokens_valid_after`). An enabled user
 * is left as it is. Undefined for an unknown id.
 */
export async function enableAuthUser(db: Queryable, id: string): Promise<AuthUserRecord | undefined> {
  const { rows } = await db.query<AuthUserRow>(sql`
    UPDATE auth_user
    SET tokens_valid_after = CASE WHEN disabled_at IS NULL THEN tokens_valid_after ELSE now() END, disabled_at = NULL
    WHERE id = ${id} RETURNING *`);
  tokenHoldersChanged();
  return rows[0] ? toRecord(rows[0]) : undefined;
}

/** Replaces a user's password hash and refuses tokens issued before now (`tokens_valid_after`); undefined for an unknown id. */
export async function setAuthUserPassword(db: Queryable, id: string, passwordHash: string): Promise<AuthUserRecord | undefined> {
  const { rows } = await db.query<AuthUserRow>(sql`
    UPDATE auth_user SET password_hash = ${passwordHash}, tokens_valid_after = now() WHERE id = ${id} RETURNING *`);
  tokenHoldersChanged();
  return rows[0] ? toRecord(rows[0]) : undefined;
}

/**
 * The organizations of the enabled accounts of the FHIR user `fhirUser` (e.g. `Practitioner/{id}`): what its tokens
 * can carry, distinct and sorted.
 */
export async function findOrganizationsOfEnabledUsers(db: Queryable, fhirUser: string): Promise<string[]> {
  const { rows } = await db.query<{ organization: string }>(sql`
    SELECT DISTINCT organization FROM auth_user
    WHERE fhir_user = ${fhirUser} AND disabled_at IS NULL AND organization IS NOT NULL
    ORDER BY organization`);
  return rows.map((row) => row.organization);
}
