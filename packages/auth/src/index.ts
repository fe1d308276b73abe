/**
 * @carecircle/auth: who is calling, and what they may do. SMART on FHIR authorization server logic (tokens, clients,
 * users, scopes) and the caller's access policy, framework-free; services/api adapts it to HTTP.
 */
export { isAdminToken } from './admin-token';
export { describeCaller, type Caller, type OrganizationReference } from './caller';
export { getRequestContext, runWithRequestContext, tryGetRequestContext, type RequestContext } from './request-context';

export { forgetRemoteJwks, tokenEndpointUrl, type AuthDeps } from './auth-deps';
export { AuthStateUnavailable, RETRY_AFTER_SECONDS } from './redis-availability';
export {
  DEFAULT_PURPOSE_OF_USE,
  isSupportedPurposeOfUse,
  resolvePurposeOfUse,
  SUPPORTED_PURPOSES_OF_USE,
} from './purpose-of-use';
export { issueAccessToken, verifyAccessToken, AccessTokenRejected, type AccessTokenClaims, type AccessTokenSubject } from './access-token';
export { authenticateBearer, BearerAuthenticationError, callerFromClaims, type TokenCaller } from './authenticate-bearer';
export { createAccessPolicy, NOTE_CUSTODIAN_URL, patientReferences, SHARED_RESOURCE_TYPES } from './caller-access-policy';
export { describedReferences, DESCRIBING_RECORD_TYPES, describesNoteWhere } from './described-records';
export {
  accessDeniedRedirect,
  AUTHORIZE_PARAMETERS,
  AuthorizeRequestError,
  checkAuthorizeRequest,
  findRepeatedAuthorizeParameters,
  LoginFailed,
  MAX_STATE_LENGTH,
  pickAuthorizeParameters,
  signInAndIssueCode,
  type AuthorizePageProblem,
  type AuthorizeParameters,
  type AuthorizeRequest,
} from './authorize-request';
export { authenticateClientAssertion, JWT_BEARER_ASSERTION_TYPE } from './client-assertion';
export { authenticateClient, authenticateUserFacingApp } from './client-authentication';
export { CLIENT_ASSERTION_ALGORITHMS, jwksSchema, type Jwks } from './client-jwks';
export { findJwksUriProblem, jwksUriRules, MIN_FETCH_INTERVAL_MS } from './remote-jwks';
export {
  disableClient,
  enableClient,
  findClient,
  isTokenHolderEnabled,
  listClients,
  registerClient,
  updateClient,
  type ClientRegistration,
  type ClientUpdate,
  type ConfidentialApp,
  type KeyedClient,
  type PublicApp,
  type UserFacingApp,
  type RegisteredClient,
  type SystemClient,
} from './client-registry';
export { OAuthError, type OAuthErrorCode } from './oauth-error';
export { computeCodeChallenge, verifyCodeVerifier } from './pkce';
export {
  isFromOwnOrigin,
  isSignInFormToken,
  SIGN_IN_COOKIE_SECONDS,
  SIGN_IN_CSRF_FIELD,
  signInCookieName,
  signInFormToken,
  signInNonce,
} from './sign-in-csrf';
export { FREE_FAILURES_PER_PAIR, MAX_FAILURES_PER_ADDRESS, pairDelaySeconds } from './login-rate-limit';
export {
  createDeniedRequestLimit,
  DENIAL_WINDOW_SECONDS,
  tooManyDenials,
  type DeniedRequestLimit,
} from './denied-request-limit';
export { hashPassword, verifyPassword } from './password-hash';
export {
  formatScopes,
  intersectScopes,
  parseScopes,
  permissionFor,
  scopesPermit,
  type Permission,
  type ResourceScope,
  type ScopeContext,
  type ScopeSet,
} from './scopes';
export { ACCESS_TOKEN_ALGORITHM, ensureActiveSigningKey, type PublishedJwk } from './signing-keys';
export { publishedJwks, rotateSigningKey } from './key-rotation';
export { smartConfiguration, SMART_CAPABILITIES, SUPPORTED_SCOPES } from './smart-configuration';
export { handleTokenRequest, GRANT_TYPES, type TokenResponse } from './token-grants';
export { handleRevocationRequest, REVOKE_SESSIONS_PARAMETER } from './token-revocation';
export * from './token-lifetimes';
export {
  createUser,
  disableUser,
  enableUser,
  findUser,
  listUsers,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  resetPassword,
  type FhirUserReference,
  type NewUser,
  type UserAccount,
} from './user-registry';
export {
  ownedSubscriptions,
  SUBSCRIPTION_OWNER_URL,
  SUBSCRIPTION_PRINCIPAL_URL,
  subscriptionCaller,
  subscriptionOwner,
  type SubscriberCaller,
} from './subscription-ownership';
export { SERVER_CALLER, SERVER_WRITER, type Writer } from './writer';
