/**
 * What the HTTP app is built from: opened once at start (main.ts) or per test suite, closed at shutdown.
 * Routers receive this object; nothing reaches for globals.
 */
import type { Config } from '@carecircle/config';
import type { Logger } from '@carecircle/log';
import type { Database, TokenHolderCheck } from '@carecircle/store';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';

export interface AppServices {
  readonly config: Config;
  readonly db: Database;
  readonly redis: Redis;
  readonly logger: Logger;
  /** The process's metrics registry: the API's request and pool metrics, and the worker's when it runs in-process. */
  readonly metrics: Registry;
  /** Token holders found enabled, remembered until any change (store's token-holder-cache.ts). */
  readonly tokenHolders?: TokenHolderCheck;
}
