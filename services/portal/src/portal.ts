/**
 * The portal service: an Express router served at `/portal` (by the API's process for ROLE all, or on its own for
 * ROLE portal), with its own Redis connection for sessions. It is a client of the public API only: it knows the API
 * by URL (config.portal.apiUrl) and signs in as its own registered app; it imports nothing of the store, consent or
 * auth packages.
 */
import { join } from 'node:path';
import express, { type Router } from 'express';
import { createClient } from 'redis';
import type { Config } from '@carecircle/config';
import type { Logger } from '@carecircle/log';
import { resolvePortalApp, type PortalApp } from './app-registration';
import { verifyCsrf } from './http/csrf';
import { errorPages, notFoundPage } from './http/error-pages';
import { pageHeaders } from './http/page-headers';
import { portalSession, type PortalRedis } from './http/session';
import { OAuthClient } from './oauth-client';
import { createPortalRoutes } from './routes';

export interface Portal {
  /** Mount at `/portal`. */
  readonly router: Router;
  /**
   * Connects Redis and makes sure the portal's app registration exists (retried at the next sign-in if it fails).
   * `listeningPort`: the port of the process serving the portal and the API together (ROLE all), for PORT=0.
   */
  start(listeningPort?: number): Promise<void>;
  /** True when Redis (the sessions) answers within a second. */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

export interface PortalOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly fetch?: typeof fetch;
}

export function createPortal(options: PortalOptions): Portal {
  const { config, logger } = options;
  const redis: PortalRedis = createClient({
    url: config.redisUrl,
    socket: { connectTimeout: 5000, reconnectStrategy: (retries) => Math.min(retries * 200, 2000) },
    // A command while Redis is away fails at once (the page says "try again"), rather than waiting in a queue.
    disableOfflineQueue: true,
  });
  redis.on('error', (err: Error) => logger.warn({ err: { name: err.name, message: err.message } }, 'portal redis'));

  let apiUrl = config.portal.apiUrl;
  let registration: Promise<PortalApp> | undefined;
  const app = (): Promise<PortalApp> => {
    registration ??= resolvePortalApp(config, apiUrl, options.fetch).catch((err: unknown) => {
      registration = undefined;
      throw err;
    });
    return registration;
  };
  const oauth = new OAuthClient(config, () => apiUrl, app, options.fetch);
  const deps = {
    apiUrl: () => apiUrl,
    leaveUrl: config.portal.leaveUrl,
    oauth,
    redis,
    redisPrefix: config.redisPrefix,
    secureCookies: config.portal.secureCookies,
    logger,
  };

  const router = express.Router();
  router.use(pageHeaders());
  router.use('/assets', express.static(join(__dirname, 'assets'), { maxAge: '1d', index: false, fallthrough: false }));
  router.use(portalSession({ redis, redisPrefix: config.redisPrefix, secret: config.portal.sessionSecret, secure: config.portal.secureCookies }));
  router.use(express.urlencoded({ extended: false, limit: '32kb', parameterLimit: 100 }));
  router.use(verifyCsrf(new URL(config.baseUrl).origin));
  router.use(createPortalRoutes(deps));
  router.use(notFoundPage(deps));
  router.use(errorPages(deps, logger));

  return {
    router,
    async start(listeningPort) {
      if (listeningPort !== undefined && config.role === 'all' && apiUrl === `http://127.0.0.1:${config.port}`) {
        apiUrl = `http://127.0.0.1:${listeningPort}`;
      }
      await redis.connect();
      try {
        await app();
      } catch (err) {
        logger.warn({ err: { name: (err as Error).name, message: (err as Error).message } }, 'portal registration not ready; retried at the next sign-in');
      }
    },
    async ready() {
      try {
        return redis.isReady && (await Promise.race([redis.ping(), new Promise<string>((r) => setTimeout(() => r('timeout'), 1000))])) === 'PONG';
      } catch {
        return false;
      }
    },
    async close() {
      if (redis.isOpen) {
        await redis.close();
      }
    },
  };
}
