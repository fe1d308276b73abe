/**
 * The browser's session: an HttpOnly, SameSite=Lax cookie (Secure when the public base is https) naming a session kept
 * in Redis; the tokens never reach the browser (backend for frontend). The session holds ids only: the client's
 * Patient id, the user's fhirUser, tokens, the sign-in's state and PKCE verifier, the form token and the language.
 * Idle for 15 minutes, a session ends (cookie and Redis entry expire together, renewed by each request); after 12
 * hours it ends however busy.
 */
import { RedisStore } from 'connect-redis';
import session from 'express-session';
import type { RequestHandler } from 'express';
import type { createClient } from 'redis';
import type { Language } from '../i18n/catalogue';

export const IDLE_TIMEOUT_MS = 15 * 60 * 1000;
export const ABSOLUTE_TIMEOUT_MS = 12 * 60 * 60 * 1000;
export const SESSION_COOKIE = 'carecircle_portal';

/** The portal's Redis connection (node-redis, which connect-redis speaks). */
export type PortalRedis = ReturnType<typeof createClient>;

/** The signed-in client's tokens, kept on the server. */
export interface PortalTokens {
  accessToken: string;
  /** Milliseconds since the epoch. */
  accessExpiresAt: number;
  refreshToken: string | undefined;
  scope: string;
}

/** The two areas of the portal: the client's (`/portal/...`) and the practice's (`/portal/practice/...`). */
export type PortalArea = 'client' | 'practice';

/** A sign-in under way: what the callback must see again. */
export interface PendingSignIn {
  /** Which area the person started signing in to (and which kind of account it lets in). */
  area: PortalArea;
  state: string;
  codeVerifier: string;
  startedAt: number;
}

declare module 'express-session' {
  interface SessionData {
    csrfToken: string;
    lang: Language;
    pendingSignIn: PendingSignIn;
    /** `Patient/{id}` of the signed-in client. */
    patient: string;
    /** `Practitioner/{id}` of the signed-in practitioner (the practice area). */
    practitioner: string;
    tokens: PortalTokens;
    signedInAt: number;
  }
}

/**
 * The Redis key prefix of sessions, and of each user's set of session ids ("sign out on all devices"), by the user's
 * fhirUser (`Patient/{id}` or `Practitioner/{id}`).
 */
export function sessionKeys(redisPrefix: string): { sessions: string; userSessions: (fhirUser: string) => string } {
  return {
    sessions: `${redisPrefix}portal:session:`,
    userSessions: (fhirUser) => `${redisPrefix}portal:user-sessions:${fhirUser}`,
  };
}

/** The session middleware over Redis. */
export function portalSession(options: { redis: PortalRedis; redisPrefix: string; secret: string; secure: boolean }): RequestHandler {
  const store = new RedisStore({
    client: options.redis,
    prefix: sessionKeys(options.redisPrefix).sessions,
    ttl: IDLE_TIMEOUT_MS / 1000,
    disableTouch: false,
  });
  return session({
    name: SESSION_COOKIE,
    store,
    secret: options.secret,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    unset: 'destroy',
    proxy: undefined,
    cookie: {
      httpOnly: true,
      secure: options.secure,
      sameSite: 'lax',
      path: '/portal',
      maxAge: IDLE_TIMEOUT_MS,
    },
  });
}
