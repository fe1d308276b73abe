-- Every change to what decides whether an access token's holders are enabled (clients, users, revoked sessions,
-- "sign out everywhere") is announced on the token_holders channel when it commits, whoever makes it (the API, an
-- operator's SQL): each process caches "enabled" answers and forgets them all on this notification
-- (packages/store/src/tables/token-holder-cache.ts). A new client or user changes no answer already given, so their
-- inserts are not announced.
CREATE FUNCTION token_holders_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('token_holders', '');
  RETURN NULL;
END;
$$;

CREATE TRIGGER auth_client_token_holders AFTER UPDATE OR DELETE OR TRUNCATE ON auth_client
  FOR EACH STATEMENT EXECUTE FUNCTION token_holders_changed();
CREATE TRIGGER auth_user_token_holders AFTER UPDATE OR DELETE OR TRUNCATE ON auth_user
  FOR EACH STATEMENT EXECUTE FUNCTION token_holders_changed();
CREATE TRIGGER auth_session_revocation_token_holders AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON auth_session_revocation
  FOR EACH STATEMENT EXECUTE FUNCTION token_holders_changed();
CREATE TRIGGER auth_app_sessions_ended_token_holders AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON auth_app_sessions_ended
  FOR EACH STATEMENT EXECUTE FUNCTION token_holders_changed();
