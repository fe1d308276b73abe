/**
 * The SMART configuration document (`.well-known/smart-configuration`): what this server actually supports, so apps
 * and partner systems can discover it rather than guess. Clients with keys (backend systems, confidential apps)
 * authenticate with `private_key_jwt`; public apps with none (`client_id` only, PKCE); both at the token and the
 * revocation endpoint (RFC 8414 metadata names).
 */
import type { AuthDeps } from './auth-deps';
import { CLIENT_ASSERTION_ALGORITHMS } from './client-jwks';
import { GRANT_TYPES } from './token-grants';

/** The scopes listed as supported: identity/context scopes and the wildcard forms of every context. */
export const SUPPORTED_SCOPES = [
  'fhirUser',
  'launch/patient',
  'offline_access',
  'online_access',
  'patient/*.cruds',
  'user/*.cruds',
  'system/*.cruds',
  'patient/*.read',
  'user/*.read',
  'system/*.read',
] as const;

/**
 * SMART capabilities implemented here (no EHR launch, no OpenID Connect id_token, no client secrets):
 * `client-confidential-asymmetric` covers backend systems and confidential apps (private_key_jwt).
 */
export const SMART_CAPABILITIES = [
  'launch-standalone',
  'client-public',
  'client-confidential-asymmetric',
  'context-standalone-patient',
  'permission-offline',
  'permission-online',
  'permission-patient',
  'permission-user',
  'permission-v1',
  'permission-v2',
  'authorize-post',
] as const;

/** The SMART configuration of this deployment. */
export function smartConfiguration(deps: Pick<AuthDeps, 'config'>): Record<string, unknown> {
  const base = deps.config.baseUrl;
  // No `issuer`: SMART App Launch requires it with sso-openid-connect and otherwise omits it, and we issue no id_token.
  return {
    jwks_uri: `${base}/.well-known/jwks.json`,
    authorization_endpoint: `${base}/oauth2/authorize`,
    token_endpoint: `${base}/oauth2/token`,
    revocation_endpoint: `${base}/oauth2/revoke`,
    grant_types_supported: [...GRANT_TYPES],
    response_types_supported: ['code'],
    token_endpoint_auth_methods_supported: ['private_key_jwt', 'none'],
    token_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGORITHMS],
    revocation_endpoint_auth_methods_supported: ['private_key_jwt', 'none'],
    revocation_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGORITHMS],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: [...SUPPORTED_SCOPES],
    capabilities: [...SMART_CAPABILITIES],
  };
}
