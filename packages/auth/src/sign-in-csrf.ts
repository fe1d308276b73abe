/**
 * The sign-in form only completes when it was posted from the form this server showed, in the browser it showed it
 * to. Without that, another site could post a username and password of its choosing to `/oauth2/authorize` in the
 * victim's browser and have the app signed in as the attacker's account (login CSRF), or drive the form at will.
 *
 * - A random nonce lives in an HttpOnly, SameSite=Strict cookie (`__Host-` prefixed over https, so neither another
 *   site nor a sibling subdomain can set it); the form carries `csrf_token`, an HMAC of that nonce and the app's
 *   client_id under a key derived like the page-token key (from `PAGE_TOKEN_SECRET`, else `ADMIN_TOKEN`), so every
 *   replica accepts it and nothing is stored. A cross-site page can neither read the cookie nor compute the token.
 * - When the browser names where the POST came from (`Origin`, else `Referer`), that must be this server's origin; the
 *   page's `Referrer-Policy: same-origin` makes browsers send the real origin on our own POST (`no-referrer` would
 *   make it `null`).
 */
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Config } from '@carecircle/config';

/** The sign-in form's hidden field that carries the token. */
export const SIGN_IN_CSRF_FIELD = 'csrf_token';
/** How long the cookie (and with it the forms shown under it) lasts. */
export const SIGN_IN_COOKIE_SECONDS = 60 * 60;

const NONCE = /^[A-Za-z0-9_-]{43}$/;
const keys = new WeakMap<Uint8Array, Buffer>();

type CsrfConfig = Pick<Config, 'pageTokenKey' | 'baseUrl'>;

function formKey(config: CsrfConfig): Buffer {
  let key = keys.get(config.pageTokenKey);
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', config.pageTokenKey, 'carecircle', 'sign-in-csrf', 32));
    keys.set(config.pageTokenKey, key);
  }
  return key;
}

/** The cookie's name: `__Host-` prefixed when the server is served over https (browsers refuse it over http). */
export function signInCookieName(config: Pick<Config, 'baseUrl'>): string {
  return config.baseUrl.startsWith('https:') ? '__Host-carecircle_signin' : 'carecircle_signin';
}

/** `existing` when it is a nonce this module could have made, else a new one. */
export function signInNonce(existing: string | undefined): string {
  return existing !== undefined && NONCE.test(existing) ? existing : randomBytes(32).toString('base64url');
}

/** The `csrf_token` of a form shown under `nonce` for the app `clientId`. */
export function signInFormToken(config: CsrfConfig, nonce: string, clientId: string): string {
  return createHmac('sha256', formKey(config)).update(`${nonce}\u0000${clientId}`).digest('base64url');
}

/** True when `token` is the form token for the cookie's `nonce` and the app `clientId`. */
export function isSignInFormToken(config: CsrfConfig, nonce: string | undefined, clientId: string, token: unknown): boolean {
  if (nonce === undefined || !NONCE.test(nonce) || typeof token !== 'string') {
    return false;
  }
  const expected = Buffer.from(signInFormToken(config, nonce, clientId));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * False when the browser says the request came from another origin than this server's: `Origin` when sent (`null`
 * included), else `Referer`'s origin. True when it names neither (the form token decides then).
 */
export function isFromOwnOrigin(config: Pick<Config, 'baseUrl'>, origin: string | undefined, referer: string | undefined): boolean {
  const own = new URL(config.baseUrl).origin;
  if (origin !== undefined) {
    return origin === own;
  }
  if (referer !== undefined) {
    try {
      return new URL(referer).origin === own;
    } catch {
      return false;
    }
  }
  return true;
}
