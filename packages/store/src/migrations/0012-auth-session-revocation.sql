-- Sign-in sessions whose access tokens are refused before they expire: an authorization code presented a second time
-- or a rotated refresh token presented again ends the session it produced (RFC 6749 section 4.1.2, refresh token
-- rotation), access tokens included. User access tokens carry their session's id (`sid`, the refresh-token family
-- when there is one) and every authenticated request asks this table by primary key. A row is needed only while an
-- access token of the session could still be live (at most an hour plus the clock skew after the revocation, as no
-- new one is issued after it); older rows are deleted as new ones are written.
CREATE TABLE auth_session_revocation (
  session_id uuid        PRIMARY KEY,
  revoked_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX auth_session_revocation_expiry ON auth_session_revocation (expires_at);
