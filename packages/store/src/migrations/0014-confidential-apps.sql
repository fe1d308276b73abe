-- Confidential user-facing apps (SMART client-confidential-asymmetric): an app that signs users in with authorization
-- code + PKCE, like a public app, and also authenticates at the token and revocation endpoints with a client assertion
-- signed by a key it registered (private_key_jwt), like a backend system. It has redirect URIs and keys (inline or at
-- a jwks_uri, exactly one), and no organization: it acts for the users who sign in to it.
ALTER TABLE auth_client DROP CONSTRAINT auth_client_kind_check;
ALTER TABLE auth_client ADD CONSTRAINT auth_client_kind_check CHECK (kind IN ('system', 'public', 'confidential'));
ALTER TABLE auth_client ADD CONSTRAINT auth_client_confidential_app
  CHECK (kind <> 'confidential' OR (organization IS NULL AND cardinality(redirect_uris) > 0 AND ((jwks IS NULL) <> (jwks_uri IS NULL))));

-- "Sign out everywhere" (POST /oauth2/revoke with carecircle_sessions=all): every session of one user in one app ends.
-- Sessions with refresh tokens are ended one by one (auth_session_revocation); a sign-in without refresh tokens is
-- recorded nowhere, so its access tokens are refused by time instead: one issued (iat, whole seconds) before the second
-- of ended_at, for that user and app, is refused on every request, like tokens_valid_after does for a whole user.
CREATE TABLE auth_app_sessions_ended (
  user_id   text        NOT NULL REFERENCES auth_user (id),
  client_id text        NOT NULL REFERENCES auth_client (id),
  ended_at  timestamptz NOT NULL,
  PRIMARY KEY (user_id, client_id)
);
