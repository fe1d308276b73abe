/**
 * @carecircle/auth: who is calling. The SMART on FHIR authorization server's logic (tokens, OAuth, clients and users,
 * scopes, signing keys), framework-free, which services/api adapts to HTTP; the caller and the request context a
 * token gives; the writer the write pipeline is handed; and the few facts the access policies below and above it
 * share (the directory types every caller reads, the records that describe others). The policies themselves are
 * @carecircle/access's and @carecircle/consent's; the registries' SQL is @carecircle/store's. Exports only what other
 * packages use.
 */
export { isAdminToken } from './admin-token';
export { describeCaller, type Caller, type OrganizationReference } from './caller';
export { getRequestContext, runWithRequestContext, tryGetRequestContext, type RequestContext } from './request-context';

export { forgetRemoteJwks, type AuthDeps } from './auth-deps';
export { AuthStateUnavailable, RETRY_AFTER_SECONDS } from './redis-availability';
export { resolvePurposeOfUse, SUPPORTED_PURPOSES_OF_USE } from './purpose-of-use';
export { issueAccessToken, verifyAccessToken, type AccessTokenSubject } from './access-token';
export { authenticateBearer, BearerAuthenticationError } from './authenticate-bearer';
export { SHARED_RESOURCE_TYPES } from './shared-resource-types';
export { describedReferences, DESCRIBING_RECORD_TYPES, describesNoteWhere } from './described-records';
export {
  accessDeniedRedirect,
  AuthorizeRequestError,
  checkAuthorizeRequest,
  findRepeatedAuthorizeParameters,
  LoginFailed,
  pickAuthorizeParameters,
  signInAndIssueCode,
  type AuthorizePageProblem,
  type AuthorizeParameters,
  type AuthorizeRequest,
} from './authorize-request';
export { jwksSchema } from './client-jwks';
export { MIN_FETCH_INTERVAL_MS } from './remote-jwks';
export {
  disableClient,
  enableClient,
  findClient,
  isTokenHolderEnabled,
  listClients,
  registerClient,
  updateClient,
  type ClientRegistration,
  type RegisteredClient,
} from './client-registry';
export { OAuthError } from './oauth-error';
export { computeCodeChallenge } from './pkce';
export { isFromOwnOrigin, isSignInFormToken, SIGN_IN_COOKIE_SECONDS, SIGN_IN_CSRF_FIELD, signInCookieName, signInFormToken, signInNonce } from './sign-in-csrf';
export { FREE_FAILURES_PER_PAIR, pairDelaySeconds } from './login-rate-limit';
export { createDeniedRequestLimit, tooManyDenials } from './denied-request-limit';
export {
  intersectScopes,
  missingScopeText,
  parseScopes,
  permissionFor,
  scopesPermit,
  type ResourceScope,
  type ScopeContext,
} from './scopes';
export { publishedJwks, rotateSigningKey } from './key-rotation';
export { smartConfiguration } from './smart-configuration';
export { handleTokenRequest } from './token-grants';
export { handleRevocationRequest } from './token-revocation';
export {
  createUser,
  disableUser,
  enableUser,
  findUser,
  listUsers,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  resetPassword,
  type UserAccount,
} from './user-registry';
export { SERVER_WRITER, type Writer } from './writer';
