/**
 * People who log in: practitioners (fhirUser `Practitioner/{id}`, working for one Organization) and clients
 * (fhirUser `Patient/{id}`). Passwords are kept only as scrypt hashes (password-hash.ts), checked here and never
 * returned; usernames are compared case-insensitively. Disabling a user stops logins and refreshes at once and
 * rejects the user's live access tokens on every replica (every authenticated request looks the user up in Postgres).
 * The rows are store's (tables/auth-users.ts); the rules are here.
 */
import { randomUUID } from 'node:crypto';
import { badRequest, conflict, notFound, OperationOutcomeError } from '@medplum/core';
import {
  disableAuthUser,
  enableAuthUser,
  findAuthUser,
  findAuthUserCredentials,
  insertAuthUser,
  listAuthUsers,
  revokeUserRefreshTokens,
  setAuthUserPassword,
  type AuthUserRecord,
  type Queryable,
} from '@carecircle/store';
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

function toAccount(record: AuthUserRecord): UserAccount {
  return {
    id: record.id,
    username: record.username,
    fhirUser: record.fhirUser as FhirUserReference,
    ...(record.organization ? { organization: record.organization as OrganizationReference } : {}),
    createdAt: record.createdAt.toISOString(),
    disabled: record.disabledAt !== undefined,
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
  const record = await insertAuthUser(db, {
    id: randomUUID(),
    username,
    passwordHash,
    fhirUser: user.fhirUser,
    ...(user.organization !== undefined ? { organization: user.organization } : {}),
  });
  if (!record) {
    throw new OperationOutcomeError(conflict('username already taken'));
  }
  return toAccount(record);
}

/** Every user, oldest first, without hashes. */
export async function listUsers(db: Queryable): Promise<UserAccount[]> {
  return (await listAuthUsers(db)).map(toAccount);
}

/** The user with this id (enabled or not). */
export async function findUser(db: Queryable, id: string): Promise<UserAccount | undefined> {
  const record = await findAuthUser(db, id);
  return record ? toAccount(record) : undefined;
}

/**
 * The enabled user with these credentials, or undefined. Unknown and disabled users cost the same scrypt work as a
 * wrong password, so response times do not reveal which usernames exist.
 */
export async function authenticateUser(db: Queryable, username: string, password: string): Promise<UserAccount | undefined> {
  if (password.length > MAX_PASSWORD_LENGTH) {
    return undefined;
  }
  const found = await findAuthUserCredentials(db, normalizeUsername(username));
  const matches = await verifyPassword(password, found?.passwordHash ?? UNKNOWN_USER_PASSWORD_HASH);
  return found && matches && found.user.disabledAt === undefined ? toAccount(found.user) : undefined;
}

/** Disables a user: no logins or refreshes, live tokens rejected. Idempotent; 404 for an unknown id. */
export async function disableUser(deps: { readonly db: Queryable }, id: string): Promise<UserAccount> {
  const record = await disableAuthUser(deps.db, id);
  if (!record) {
    throw new OperationOutcomeError(notFound);
  }
  await revokeUserRefreshTokens(deps.db, id);
  return toAccount(record);
}

/**
 * Enables a disabled user again: the user may sign in from now on. Access tokens issued before, and refresh tokens,
 * stay dead (see {@link isTokenHolderEnabled}): whatever was out when the user was disabled does not come back.
 * Idempotent for an enabled user (nothing changes); 404 for an unknown id.
 */
export async function enableUser(deps: { readonly db: Queryable }, id: string): Promise<UserAccount> {
  const record = await enableAuthUser(deps.db, id);
  if (!record) {
    throw new OperationOutcomeError(notFound);
  }
  return toAccount(record);
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
  const record = await setAuthUserPassword(deps.db, id, passwordHash);
  if (!record) {
    throw new OperationOutcomeError(notFound);
  }
  await revokeUserRefreshTokens(deps.db, id);
  return toAccount(record);
}
