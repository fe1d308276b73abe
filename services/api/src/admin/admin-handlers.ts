/**
 * The operator's API for clients and users, as plain async functions from a parsed body to a result; routes.ts only
 * adapts them to Express. Bodies are validated with zod; problems answer 400 OperationOutcomes naming the fields
 * (never echoing values: a password must not come back in an error). Every string in a body, and every key, must be
 * text the database can hold as sent: NUL or an unpaired surrogate (`"\ud800"`, which would be stored as U+FFFD) is a
 * 400 naming the field, before anything else is checked. The resources a registration names (the organization, the
 * user's Practitioner or Patient) must exist in the store: 422 otherwise. An id in a path that no client or user could
 * have is a 404 like any unknown one. Every change is made in one transaction with its AuditEvent (admin-audit.ts).
 */
import { accessSettingsFrom, createRecordsRepository } from '@carecircle/access';
import {
  createUser,
  disableClient,
  disableUser,
  enableClient,
  enableUser,
  findClient,
  findUser,
  forgetRemoteJwks,
  jwksSchema,
  listClients,
  listUsers,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  registerClient,
  resetPassword,
  rotateSigningKey,
  SERVER_WRITER,
  updateClient,
  type ClientRegistration,
  type OrganizationReference,
  type RegisteredClient,
  type UserAccount,
} from '@carecircle/auth';
import { exceedsJsonDepth, hasUnstorableCharacters, MAX_JSON_DEPTH, readOrUndefined, safeForMessage, unprocessable } from '@carecircle/fhir';
import { badRequest, notFound, OperationOutcomeError } from '@medplum/core';
import { z } from 'zod';
import type { AppServices } from '../app-services';
import { recordAdminAction, withAdminAuditEvent } from './admin-audit';

type AdminDeps = Pick<AppServices, 'db' | 'config'>;

const organizationReference = z
  .string()
  .regex(/^Organization\/[A-Za-z0-9\-.]{1,64}$/, 'must be Organization/{id}')
  .transform((v) => v as OrganizationReference);
const name = z.string().trim().min(1).max(200);
const scope = z.string().trim().min(1).max(4096);

const systemClientBody = z.strictObject({
  name,
  organization: organizationReference,
  jwks: jwksSchema.optional(),
  jwks_uri: z.string().max(2048).optional(),
  scope,
});
const appBody = z.strictObject({
  name,
  redirect_uris: z.array(z.string().max(2048)).min(1).max(20),
  jwks: jwksSchema.optional(),
  jwks_uri: z.string().max(2048).optional(),
  scope,
});
const userBody = z.strictObject({
  username: z
    .string()
    .trim()
    .min(3)
    .max(128)
    .regex(/^[A-Za-z0-9._@+-]+$/, 'letters, digits and . _ @ + - only'),
  password: z.string().min(MIN_PASSWORD_LENGTH).max(MAX_PASSWORD_LENGTH),
  fhirUser: z
    .string()
    .regex(/^(Practitioner|Patient)\/[A-Za-z0-9\-.]{1,64}$/, 'must be Practitioner/{id} or Patient/{id}')
    .transform((v) => v as `Practitioner/${string}` | `Patient/${string}`),
  organization: organizationReference.optional(),
});

const clientUpdateBody = z
  .strictObject({
    name: name.optional(),
    scope: scope.optional(),
    jwks: jwksSchema.optional(),
    jwks_uri: z.string().max(2048).optional(),
    redirect_uris: z.array(z.string().max(2048)).min(1).max(20).optional(),
  })
  .refine((body) => Object.keys(body).length > 0, 'give at least one of name, scope, jwks, jwks_uri, redirect_uris');
const passwordBody = z.strictObject({ password: z.string().min(MIN_PASSWORD_LENGTH).max(MAX_PASSWORD_LENGTH) });

/** Client ids are UUIDs and user ids too; anything unlike an id is unknown (404) before it reaches the database. */
const ID_IN_PATH = /^[A-Za-z0-9\-._]{1,128}$/;

function requireIdShape(id: string): string {
  if (!ID_IN_PATH.test(id)) {
    throw new OperationOutcomeError(notFound);
  }
  return id;
}

/**
 * Throws 422 unless `reference` (`Type/id`) names a resource that exists now (not deleted). Read through the server's
 * own repository: the operator may see everything, and nothing is disclosed to anyone.
 */
async function requireExisting(deps: AdminDeps, reference: string, field: string): Promise<void> {
  const [resourceType, id] = reference.split('/') as [string, string];
  if (!(await readOrUndefined(createRecordsRepository(deps.db, accessSettingsFrom(deps.config), SERVER_WRITER), resourceType, id))) {
    throw new OperationOutcomeError(unprocessable(`${field}: ${reference} does not exist`, field));
  }
}

/** The path of the first string or key in `value` holding NUL or an unpaired surrogate, or undefined. */
function findUnstorableText(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') {
    return hasUnstorableCharacters(value) ? path : undefined;
  }
  if (typeof value !== 'object' || value === null) {
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const itemPath = path ? `${path}.${safeForMessage(key)}` : safeForMessage(key);
    if (hasUnstorableCharacters(key)) {
      return `${path || 'body'} (a key)`;
    }
    const found = findUnstorableText(item, itemPath);
    if (found !== undefined) {
      return found;
    }
  }
  return undefined;
}

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  // Measured without recursion first: the walk below recurses once per level.
  if (exceedsJsonDepth(body)) {
    throw new OperationOutcomeError(badRequest(`Invalid request body: JSON may nest at most ${MAX_JSON_DEPTH} levels deep`));
  }
  const unstorable = findUnstorableText(body, '');
  if (unstorable !== undefined) {
    throw new OperationOutcomeError(badRequest(`Invalid request body: ${unstorable}: text may not contain NUL or unpaired surrogate characters`));
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
    throw new OperationOutcomeError(badRequest(`Invalid request body: ${problems}`));
  }
  return parsed.data;
}

/**
 * A client as the admin API shows it (OAuth field names; `token_endpoint_auth_method` as RFC 7591 names it:
 * `private_key_jwt` for a system client or confidential app, `none` for a public app).
 */
export function presentClient(client: RegisteredClient): Record<string, unknown> {
  const common = { client_id: client.clientId, name: client.name, scope: client.scope, created_at: client.createdAt, disabled: client.disabled };
  const keys = client.kind === 'public' ? {} : { ...(client.jwks ? { jwks: client.jwks } : {}), ...(client.jwksUri ? { jwks_uri: client.jwksUri } : {}) };
  switch (client.kind) {
    case 'system':
      return { ...common, kind: 'system', token_endpoint_auth_method: 'private_key_jwt', organization: client.organization, ...keys };
    case 'confidential':
      return { ...common, kind: 'confidential', token_endpoint_auth_method: 'private_key_jwt', redirect_uris: client.redirectUris, ...keys };
    case 'public':
      return { ...common, kind: 'public', token_endpoint_auth_method: 'none', redirect_uris: client.redirectUris };
    default:
      return client satisfies never;
  }
}

/** A user as the admin API shows it: never a password or hash. */
export function presentUser(user: UserAccount): Record<string, unknown> {
  return {
    id: user.id,
    username: user.username,
    fhirUser: user.fhirUser,
    ...(user.organization ? { organization: user.organization } : {}),
    created_at: user.createdAt,
    disabled: user.disabled,
  };
}

/**
 * POST /admin/clients: a system client (organization + jwks | jwks_uri), a public app (redirect_uris) or a
 * confidential app (redirect_uris + jwks | jwks_uri: SMART client-confidential-asymmetric).
 */
export async function registerClientHandler(deps: AdminDeps, body: unknown, requestId: string): Promise<Record<string, unknown>> {
  const isApp = typeof body === 'object' && body !== null && 'redirect_uris' in body;
  let registration: ClientRegistration;
  if (isApp) {
    const parsed = parseBody(appBody, body);
    const keys = { ...(parsed.jwks ? { jwks: parsed.jwks } : {}), ...(parsed.jwks_uri !== undefined ? { jwksUri: parsed.jwks_uri } : {}) };
    registration =
      parsed.jwks === undefined && parsed.jwks_uri === undefined
        ? { kind: 'public', name: parsed.name, redirectUris: parsed.redirect_uris, scope: parsed.scope }
        : { kind: 'confidential', name: parsed.name, redirectUris: parsed.redirect_uris, scope: parsed.scope, ...keys };
  } else {
    const parsed = parseBody(systemClientBody, body);
    await requireExisting(deps, parsed.organization, 'organization');
    registration = {
      kind: 'system',
      name: parsed.name,
      organization: parsed.organization,
      scope: parsed.scope,
      ...(parsed.jwks ? { jwks: parsed.jwks } : {}),
      ...(parsed.jwks_uri ? { jwksUri: parsed.jwks_uri } : {}),
    };
  }
  const client = await withAdminAuditEvent(
    deps,
    requestId,
    'client-register',
    (tx) => registerClient({ db: tx, config: deps.config }, registration),
    (registered) => [{ kind: 'client', id: registered.clientId }],
  );
  return presentClient(client);
}

/** GET /admin/clients */
export async function listClientsHandler(deps: Pick<AppServices, 'db'>): Promise<Record<string, unknown>> {
  return { clients: (await listClients(deps.db)).map(presentClient) };
}

/** GET /admin/clients/{id}: the client, disabled or not; 404 for an unknown id. */
export async function getClientHandler(deps: Pick<AppServices, 'db'>, clientId: string): Promise<Record<string, unknown>> {
  const client = await findClient(deps.db, requireIdShape(clientId));
  if (!client) {
    throw new OperationOutcomeError(notFound);
  }
  return presentClient(client);
}

/**
 * PATCH /admin/clients/{id} `{"name", "scope", "jwks" | "jwks_uri", "redirect_uris"}` (a system client has no
 * redirect URIs, a public app no keys), each optional, at least one: checked as at registration, the client_id kept.
 * New keys take effect on the next client assertion: inline keys are read on every assertion, and this process's
 * cached copy of the old and new `jwks_uri` is dropped once the change is committed.
 */
export async function updateClientHandler(deps: AdminDeps, clientId: string, body: unknown, requestId: string): Promise<Record<string, unknown>> {
  requireIdShape(clientId);
  const parsed = parseBody(clientUpdateBody, body);
  const changed = Object.keys(parsed).sort();
  const { before, after } = await withAdminAuditEvent(
    deps,
    requestId,
    'client-update',
    (tx) =>
      updateClient({ db: tx, config: deps.config }, clientId, {
        ...(parsed.name !== undefined ? { name: parsed.name } : {}),
        ...(parsed.scope !== undefined ? { scope: parsed.scope } : {}),
        ...(parsed.jwks !== undefined ? { jwks: parsed.jwks } : {}),
        ...(parsed.jwks_uri !== undefined ? { jwksUri: parsed.jwks_uri } : {}),
        ...(parsed.redirect_uris !== undefined ? { redirectUris: parsed.redirect_uris } : {}),
      }),
    () => [{ kind: 'client', id: clientId, changed }],
  );
  for (const client of [before, after]) {
    if (client.kind !== 'public' && client.jwksUri !== undefined) {
      forgetRemoteJwks(deps, client.jwksUri);
    }
  }
  return presentClient(after);
}

/** POST /admin/clients/{id}/disable */
export async function disableClientHandler(deps: AdminDeps, clientId: string, requestId: string): Promise<Record<string, unknown>> {
  requireIdShape(clientId);
  const client = await withAdminAuditEvent(deps, requestId, 'client-disable', (tx) => disableClient({ db: tx }, clientId), () => [
    { kind: 'client', id: clientId },
  ]);
  return presentClient(client);
}

/** POST /admin/clients/{id}/enable: tokens issued before stay refused. */
export async function enableClientHandler(deps: AdminDeps, clientId: string, requestId: string): Promise<Record<string, unknown>> {
  requireIdShape(clientId);
  const client = await withAdminAuditEvent(deps, requestId, 'client-enable', (tx) => enableClient({ db: tx }, clientId), () => [
    { kind: 'client', id: clientId },
  ]);
  return presentClient(client);
}

/**
 * POST /admin/users. A practitioner names its organization; a client (Patient) names none (400): its custodian is the
 * Patient's managingOrganization. The fhirUser and the organization must exist (422).
 */
export async function createUserHandler(deps: AdminDeps, body: unknown, requestId: string): Promise<Record<string, unknown>> {
  const parsed = parseBody(userBody, body);
  await requireExisting(deps, parsed.fhirUser, 'fhirUser');
  if (parsed.organization) {
    await requireExisting(deps, parsed.organization, 'organization');
  }
  const user = await withAdminAuditEvent(
    deps,
    requestId,
    'user-create',
    (tx) =>
      createUser(tx, {
        username: parsed.username,
        password: parsed.password,
        fhirUser: parsed.fhirUser,
        ...(parsed.organization ? { organization: parsed.organization } : {}),
      }),
    (created) => [{ kind: 'user', id: created.id }],
  );
  return presentUser(user);
}

/** GET /admin/users */
export async function listUsersHandler(deps: Pick<AppServices, 'db'>): Promise<Record<string, unknown>> {
  return { users: (await listUsers(deps.db)).map(presentUser) };
}

/** GET /admin/users/{id}: the user, disabled or not, without any password or hash; 404 for an unknown id. */
export async function getUserHandler(deps: Pick<AppServices, 'db'>, userId: string): Promise<Record<string, unknown>> {
  const user = await findUser(deps.db, requireIdShape(userId));
  if (!user) {
    throw new OperationOutcomeError(notFound);
  }
  return presentUser(user);
}

/**
 * POST /admin/users/{id}/password `{"password"}`: the same length rule as creation; ends every session of the user
 * (refresh tokens revoked, access tokens issued until now refused). Answers the user, never the password.
 */
export async function resetPasswordHandler(deps: AdminDeps, userId: string, body: unknown, requestId: string): Promise<Record<string, unknown>> {
  requireIdShape(userId);
  const { password } = parseBody(passwordBody, body);
  const user = await withAdminAuditEvent(deps, requestId, 'user-password-reset', (tx) => resetPassword({ db: tx }, userId, password), () => [
    { kind: 'user', id: userId },
  ]);
  return presentUser(user);
}

/** POST /admin/users/{id}/disable */
export async function disableUserHandler(deps: AdminDeps, userId: string, requestId: string): Promise<Record<string, unknown>> {
  requireIdShape(userId);
  const user = await withAdminAuditEvent(deps, requestId, 'user-disable', (tx) => disableUser({ db: tx }, userId), () => [
    { kind: 'user', id: userId },
  ]);
  return presentUser(user);
}

/** POST /admin/users/{id}/enable: tokens issued before stay refused. */
export async function enableUserHandler(deps: AdminDeps, userId: string, requestId: string): Promise<Record<string, unknown>> {
  requireIdShape(userId);
  const user = await withAdminAuditEvent(deps, requestId, 'user-enable', (tx) => enableUser({ db: tx }, userId), () => [
    { kind: 'user', id: userId },
  ]);
  return presentUser(user);
}

/** POST /admin/signing-keys/rotate: the new kid, audited in the rotation's transaction. */
export async function rotateSigningKeyHandler(deps: AdminDeps, requestId: string): Promise<{ kid: string }> {
  const kid = await rotateSigningKey(deps, (tx, newKid) => recordAdminAction(deps, tx, requestId, 'signing-key-rotate', [{ kind: 'signingKey', id: newKid }]));
  return { kid };
}
