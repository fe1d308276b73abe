/**
 * How long each credential lives, in one place, so the key-retention arithmetic below stays true when one changes.
 */

/** SMART Backend Services: access tokens for systems live at most 5 minutes and get no refresh token. */
export const SYSTEM_ACCESS_TOKEN_SECONDS = 300;
/** Access tokens of logged-in users: at most an hour (contract). */
export const USER_ACCESS_TOKEN_SECONDS = 3600;
/**
 * Refresh tokens of `offline_access` sessions: each one usable once, within 14 days of its issue (rotation makes a new
 * one each time, so a session in use lives on).
 */
export const REFRESH_TOKEN_SECONDS = 14 * 24 * 3600;
/**
 * `online_access` sessions end at most 12 hours after the sign-in, however often they are refreshed: every refresh
 * token of the session expires at that same moment, and no access token outlives it.
 */
export const ONLINE_SESSION_SECONDS = 12 * 3600;
/** Authorization codes: single use, within 60 seconds. */
export const AUTHORIZATION_CODE_SECONDS = 60;
/** Client assertions may expire at most this far ahead (SMART Backend Services: 5 minutes). */
export const CLIENT_ASSERTION_MAX_SECONDS = 300;
/** Clock skew tolerated between us, other replicas and clients, when checking exp / nbf / iat. */
export const CLOCK_SKEW_SECONDS = 30;
/** How long signing keys are cached per process before the database is asked again. */
export const SIGNING_KEY_CACHE_SECONDS = 60;
/**
 * A retired signing key stays published and verifying until every token it signed has expired:
 * longest token (3600 s) + skew (30 s) + a replica still signing with a cached key (60 s), rounded up to 2 hours.
 */
export const RETIRED_KEY_RETENTION_SECONDS = 7200;
