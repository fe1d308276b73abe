-- Admin API: re-enabling a client or user, and resetting a user's password, end what was issued before. Access tokens
-- whose iat (whole seconds) is before the second of tokens_valid_after are refused on every request, like those of a
-- disabled holder; NULL means none are.
ALTER TABLE auth_client ADD COLUMN tokens_valid_after timestamptz;
ALTER TABLE auth_user ADD COLUMN tokens_valid_after timestamptz;
