/**
 * Who is calling the token or revocation endpoint (RFC 6749 section 2.3): a client with keys (a system client or a
 * confidential app) proves it with a client assertion (`private_key_jwt`, client-assertion.ts); a public app has no
 * credentials and names itself with `client_id`. A client that registered keys must use them: naming it by
 * `client_id` alone is `invalid_client`, so a code or refresh token taken from a confidential app is of no use
 * without its key.
 */
import type { AuthDeps } from './auth-deps';
import { authenticateClientAssertion, JWT_BEARER_ASSERTION_TYPE } from './client-assertion';
import { findClient, type RegisteredClient, type UserFacingApp } from './client-registry';
import { OAuthError } from './oauth-error';

/** The client-authentication fields of a token or revocation request. */
export interface ClientCredentialsFields {
  readonly client_id?: string | undefined;
  readonly client_assertion_type?: string | undefined;
  readonly client_assertion?: string | undefined;
}

/**
 * The enabled client the request authenticates: by its assertion when it sends one (or names an assertion type),
 * else the public app its `client_id` names. Throws OAuthError `invalid_client` (401) otherwise.
 */
export async function authenticateClient(
  deps: Pick<AuthDeps, 'db' | 'redis' | 'config' | 'clock'>,
  fields: ClientCredentialsFields,
): Promise<RegisteredClient> {
  if (fields.client_assertion !== undefined || fields.client_assertion_type !== undefined) {
    return authenticateClientAssertion(deps, fields.client_assertion_type, fields.client_assertion, fields.client_id);
  }
  if (fields.client_id === undefined) {
    throw new OAuthError('invalid_client', 'client_id is required (or, for a client with keys, a client_assertion)');
  }
  const client = await findClient(deps.db, fields.client_id);
  if (!client || client.disabled) {
    throw new OAuthError('invalid_client', 'unknown or disabled client');
  }
  if (client.kind !== 'public') {
    throw new OAuthError(
      'invalid_client',
      `this client authenticates with client_assertion_type ${JWT_BEARER_ASSERTION_TYPE} and a client_assertion signed with its registered key`,
    );
  }
  return client;
}

/** The app users sign in to that the request authenticates (a system client may not use user grants). */
export async function authenticateUserFacingApp(
  deps: Pick<AuthDeps, 'db' | 'redis' | 'config' | 'clock'>,
  fields: ClientCredentialsFields,
): Promise<UserFacingApp> {
  const client = await authenticateClient(deps, fields);
  if (client.kind === 'system') {
    throw new OAuthError('unauthorized_client', 'a backend system gets tokens with the client_credentials grant only');
  }
  return client;
}
