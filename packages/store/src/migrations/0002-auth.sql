-- Identity and access: the keys that sign access tokens, registered clients, users, refresh tokens, and the index
-- custodianship checks use.
--
-- Short-lived, single-use state (authorization codes, client-assertion jti replay cache, login failure counters) lives
-- in Redis with TTLs instead; everything here must survive restarts and be shared by every replica.

-- Access-token signing keys. The newest key with retired_at IS NULL signs; retired keys still verify (and stay in the
-- JWKS) until every token they signed has expired, so rotation needs no downtime.
CREATE TABLE auth_signing_key (
  kid         text        PRIMARY KEY,
  alg         text        NOT NULL,
  private_key text        NOT NULL,  -- PKCS#8 PEM
  public_jwk  jsonb       NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  retired_at  timestamptz
);
CREATE UNIQUE INDEX auth_signing_key_single_active ON auth_signing_key ((true)) WHERE retired_at IS NULL;

-- Registered clients: backend systems (private_key_jwt with a JWKS or a JWKS URI, acting for one organization) and
-- public apps (authorization code + PKCE, exact redirect URIs).
CREATE TABLE auth_client (
  id            text        PRIMARY KEY,
  kind          text        NOT NULL CHECK (kind IN ('system', 'public')),
  name          text        NOT NULL,
  organization  text,
  jwks          jsonb,
  jwks_uri      text,
  redirect_uris text[]      NOT NULL DEFAULT '{}',
  scope         text        NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  disabled_at   timestamptz,
  CHECK (kind <> 'system' OR (organization IS NOT NULL AND ((jwks IS NULL) <> (jwks_uri IS NULL)))),
  CHECK (kind <> 'public' OR cardinality(redirect_uris) > 0)
);

-- People who log in: practitioners of an organization, and clients (fhir_user a Patient).
CREATE TABLE auth_user (
  id            text        PRIMARY KEY,
  username      text        NOT NULL UNIQUE,  -- stored lower case
  password_hash text        NOT NULL,         -- scrypt$N$r$p$salt$hash
  fhir_user     text        NOT NULL,
  organization  text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  disabled_at   timestamptz
);

-- Refresh tokens, by SHA-256 of the token (the token itself is never stored). Each use rotates: the used row gets
-- used_at and a new row joins the same family. Presenting a used token again revokes the whole family.
CREATE TABLE auth_refresh_token (
  token_hash bytea       PRIMARY KEY,
  family_id  uuid        NOT NULL,
  user_id    text        NOT NULL REFERENCES auth_user (id),
  client_id  text        NOT NULL REFERENCES auth_client (id),
  scope      text        NOT NULL,
  issued_at  timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at    timestamptz,
  revoked_at timestamptz
);
CREATE INDEX auth_refresh_token_family ON auth_refresh_token (family_id);

-- Custodianship: "the current Patients whose managingOrganization is Organization/O", asked by every read of a
-- practice's staff and systems.
CREATE INDEX resource_version_patient_custodian
  ON resource_version ((content -> 'managingOrganization' ->> 'reference'), id)
  WHERE resource_type = 'Patient' AND superseded_xid IS NULL AND NOT deleted;
