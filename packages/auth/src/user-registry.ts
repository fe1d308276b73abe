/**
 * People who log in: practitioners (fhirUser `Practitioner/{id}`, working for one Organization) and clients
 * (fhirUser `Patient/{id}`). Passwords are kept only as scrypt hashes (password-hash.ts) and never leave this module;
 * usernames are compared case-insensitively. Disabling a user stops logins and refreshes at once and rejects the
 * user's live access tokens on every replica (every authenticated request looks the user up in Postgres).
 */
import { randomUUID } from 'node:crypto';
import { badRequest, conflict, notFound, OperationOutcomeError } from '@medplum/core';
import { sql, type Queryable } from '@carecircle/store';
import type { OrganizationReference } from './caller';
import { hashPassword, UNKNOWN_USER_PASSWORD_HASH, verifyPassword } from './password-hash';

/** Minimum password length (NIST SP 800-63B recommends length over composition rules). */
export const MIN_PASSWORD_LENGTH = 12;
/** Longer passwords are refused so a huge body cannot make scrypt work on megabytes. */
export const MAX_PASSWORD_LENGTH = 256;

export type FhirUserReference = `Practitioner/${string}` | `Patient/${string}`;

/** A user as the API shows it: never the hash. */
export interface UserAccount {
  readonly id: string;
  readonly username: string;
  readonly fhirUser: FhirUserReference;
  readonly organization?: OrganizationReference;
  readonly createdAt: string;
  readonly disabled: boolean;
}

export interface NewUser {
  username: string;
  password: string;
  fhirUser: FhirUserReference;
  organization?: OrganizationReference;
}

interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  fhir_user: string;
  organization: string | null;
  created_at: Date;
  disabled_at: Date | null;
}

function toAccount(row: UserRow): UserAccount {
  return {
    id: row.id,
    username: row.username,
    fhirUser: row.fhir_user as FhirUserReference,
    ...(row.organization ? { organization: row.organization as OrganizationReference } : {}),
    createdAt: row.created_at.toISOString(),
    disabled: row.disabled_at !== null,
  };
}

/** Usernames are case-insensitive: stored and looked up in lower case. */
export function normalizeUsername(username: string): string {
  return username.trim().toLowerCase();
}

/**
 * Creates a user; 400 for a short password, a practitioner without an organization or a client (Patient) with one,
 * 409 for a taken username. Whether the fhirUser and organization exist is the caller's to check.
 */
export async function createUser(db: Queryable, user: NewUser): Promise<UserAccount> {
  checkPasswordLength(user.password);
  if (user.fhirUser.startsWith('Practitioner/') && !user.organization) {
    throw new OperationOutcomeError(badRequest('A practitioner needs an organization'));
  }
  if (user.fhirUser.startsWith('Patient/') && user.organization) {
    // A client's custodian is the Patient's managingOrganization, which can change; a second copy here could only
    // disagree with it, so it is refused rather than stored.
    throw new OperationOutcomeError(
      badRequest("A client (Patient) login takes no organization: the custodian is the Patient's managingOrganization"),
    );
  }
  const username = normalizeUsername(user.username);
  const passwordHash = await hashPassword(user.password);
  const { rows } = await db.query<UserRow>(sql`
    INSERT INTO auth_user (id, username, password_hash, fhir_user, organization)
    VALUES (${randomUUID()}, ${username}, ${passwordHash}, ${user.fhirUser}, ${user.organization ?? null})
    ON CONFLICT (username) DO NOTHING
    RETURNING *`);
  const row = rows[0];
  if (!row) {
    throw new OperationOutcomeError(conflict('username already taken'));
  }
  return toAccount(row);
}

/** Every user, oldest first, without hashes. */
export async function listUsers(db: Queryable): Promise<UserAccount[]> {
  const { rows } = await db.query<UserRow>(sql`SELECT * FROM auth_user ORDER BY created_at, id`);
  return rows.map(toAccount);
}

/** The user with this id (enabled or not). */
export async function findUser(db: Queryable, id: string): Promise<UserAccount | undefined> {
  const { rows } = await db.query<UserRow>(sql`SELECT * FROM auth_user WHERE id = ${id}`);
  return rows[0] ? toAccount(rows[0]) : undefined;
}

/**
 * The enabled user with these credentials, or undefined. Unknown and disabled users cost the same scrypt work as a
 * wrong password, so response times do not reveal which usernames exist.
 */
export async function authenticateUser(db: Queryable, username: string, password: string): Promise<UserAccount | undefined> {
  if (password.length > MAX_PASSWORD_LENGTH) {
    return undefined;
  }
  const { rows } = await db.query<UserRow>(sql`SELECT * FROM auth_user WHERE username = ${normalizeUsername(username)}`);
  const row = rows[0];
  const matches = await verifyPassword(password, row?.password_hash ?? UNKNOWN_USER_PASSWORD_HASH);
  return row && matches && row.disabled_at === null ? toAccount(row) : undefined;
}

/** Disables a user: no logins or refreshes, live tokens rejected. Idempotent; 404 for an unknown id. */
export async function disableUser(deps: { readonly db: Queryable }, id: string): Promise<UserAccount> {
  const { rows } = await deps.db.query<UserRow>(sql`
    UPDATE auth_user SET disabled_at = COALESCE(disabled_at, now()) WHERE id = ${id} RETURNING *`);
  const row = rows[0];
  if (!row) {
    throw new OperationOutcomeError(notFound);
  }
  await deps.db.query(sql`UPDATE auth_refresh_token SET revoked_at = now() WHERE user_id = ${id} AND revoked_at IS NULL`);
  return toAccount(row);
}

/**
 * Enables a disabled user again: the user may sign in from now on. Access tokens issued before, and refresh tokens,
 * stay dead (see {@link isTokenHolderEnabled}): whatever was out when the user was disabled does not come back.
 * Idempotent for an enabled user (nothing changes); 404 for an unknown id.
 */
export async function enableUser(deps: { readonly db: Queryable }, id: string): Promise<UserAccount> {
  const { rows } = await deps.db.query<UserRow>(sql`
    UPDATE auth_user
    SET tokens_valid_after = CASE WHEN disabled_at IS NULL THEN tokens_valid_after ELSE now() END, disabled_at = NULL
    WHERE id = ${id} RETURNING *`);
  const row = rows[0];
  if (!row) {
    throw new OperationOutcomeError(notFound);
  }
  return toAccount(row);
}

/** 400 unless `password` has an acceptable length (the same rule for creation and reset). */
function checkPasswordLength(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
    throw new OperationOutcomeError(
      badRequest(`password must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`),
    );
  }
}

/**
 * Sets a user's password (the same length rule as creation) and ends every session the user has: refresh tokens are
 * revoked and access tokens issued until now are refused from the next request on (see {@link isTokenHolderEnabled}),
 * so whoever held the old password, or a token obtained with it, is out. A disabled user stays disabled. 404 for an
 * unknown id.
 */
export async function resetPassword(deps: { readonly db: Queryable }, id: string, password: string): Promise<UserAccount> {
  checkPasswordLength(password);
  const passwordHash = await hashPassword(password);
  const { rows } = await deps.db.query<UserRow>(sql`
    UPDATE auth_user SET password_hash = ${passwordHash}, tokens_valid_after = now() WHERE id = ${id} RETURNING *`);
  const row = rows[0];
  if (!row) {
    throw new OperationOutcomeError(notFound);
  }
  await deps.db.query(sql`UPDATE auth_refresh_token SET revoked_at = now() WHERE user_id = ${id} AND revoked_at IS NULL`);
  return toAccount(row);
}
