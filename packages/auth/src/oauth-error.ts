/**
 * OAuth 2.0 errors (RFC 6749 section 5.2): the token endpoint answers them as `{"error", "error_description"}` JSON,
 * not as OperationOutcomes. Descriptions say what rule was broken, never echo secrets or personal data.
 */

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'unsupported_token_type'
  | 'temporarily_unavailable';

export class OAuthError extends Error {
  override readonly name = 'OAuthError';
  /** HTTP status: 401 for client authentication failures, 400 otherwise (RFC 6749 section 5.2). */
  readonly status: number;

  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    status?: number,
  ) {
    super(`${error}: ${description}`);
    this.status = status ?? (error === 'invalid_client' ? 401 : 400);
  }

  /** The response body. */
  toJSON(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}
