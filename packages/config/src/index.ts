/**
 * Configuration: the process environment parsed once, with zod, into a typed object.
 * Nothing else in CareCircle reads `process.env`; a bad value stops the process at start with a message naming it.
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const roleSchema = z.enum(['all', 'api', 'worker', 'portal']);

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  BASE_URL: z.url().optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  DATA_DIR: z.string().min(1).optional(),
  // Set by npm to the directory `npm start` was run from, so the default data directory is the project's, not a package's.
  INIT_CWD: z.string().optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// URL')
    .default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:_{}-]+$/).default('{carecircle}'),
  ADMIN_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
  PAGE_TOKEN_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  ROLE: roleSchema.default('all'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(50 * 1024 * 1024).default(1024 * 1024),
  // 0 turns the limit off; otherwise at least a second, so ordinary statements under load are never cut.
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .refine((ms) => ms === 0 || (ms >= 1000 && ms <= 3_600_000), 'must be 0 (no limit) or 1000 to 3600000')
    .default(30_000),
  CORS_ORIGINS: z.string().default(''),
  // Referral deadlines in business hours of the practice, per ServiceRequest.priority (routine, urgent, asap, stat);
  // practices without their own business-hours extension work Mon-Fri 09:00-17:00 in REFERRAL_TIME_ZONE.
  REFERRAL_TIME_ZONE: z.string().refine(isTimeZone, 'must be an IANA time zone, e.g. Europe/Berlin').default('UTC'),
  REFERRAL_ACK_BUSINESS_HOURS: priorityHours('routine=16,urgent=8,asap=4,stat=1'),
  REFERRAL_COMPLETE_BUSINESS_HOURS: priorityHours('routine=80,urgent=40,asap=16,stat=8'),
  REFERRAL_REMIND_BEFORE_BUSINESS_HOURS: z.coerce.number().min(0).max(24 * 60).default(4),
  REFERRAL_EXPIRE_AFTER_BUSINESS_HOURS: z.coerce.number().min(0).max(24 * 60).default(16),
  // Requests a caller may have refused for lack of consent within a minute before it is answered 429; 0 turns it off.
  DENIED_REQUESTS_PER_MINUTE: z.coerce.number().int().min(0).max(1_000_000).default(120),
  // Unset: allowed in development (a first webhook receiver runs on the developer's machine), refused otherwise.
  NOTIFY_ALLOW_LOOPBACK_HTTP: z.enum(['true', 'false']).optional(),
  NOTIFY_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  NOTIFY_MAX_RESPONSE_BYTES: z.coerce.number().int().min(1024).max(10 * 1024 * 1024).default(65_536),
  NOTIFY_DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  TRUST_PROXY: z
    .string()
    .regex(/^(false|true|\d{1,2})$/, 'must be false, true, or the number of proxy hops')
    .default('false'),
  // The worker's own HTTP port for liveness and readiness probes (ROLE=worker); unset runs none, 0 takes a free port.
  WORKER_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  // A port of its own for /metrics, scraped without the admin token; unset, /metrics needs the token on PORT.
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  // The client's portal (ROLE all or portal): where it calls the API, the app it signs in as, its session key.
  PORTAL_API_URL: z.url().optional(),
  PORTAL_CLIENT_ID: z.string().min(1).max(200).optional(),
  PORTAL_KEY_FILE: z.string().min(1).optional(),
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  PORTAL_LEAVE_URL: z.url().default('https://www.bbc.com/weather'),
});

export type ProcessRole = z.infer<typeof roleSchema>;

/** ServiceRequest.priority codes, the keys of the per-priority referral settings. */
const REFERRAL_PRIORITY_CODES = ['routine', 'urgent', 'asap', 'stat'] as const;
type PriorityHours = Readonly<Record<(typeof REFERRAL_PRIORITY_CODES)[number], number>>;

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * `routine=16,urgent=8,asap=4,stat=1`: business hours per priority, every priority once, each above 0 and at most 1440.
 * A variable giving only some priorities keeps the defaults of the others.
 */
function priorityHours(defaults: string) {
  return z
    .string()
    .default(defaults)
    .transform((value, ctx): PriorityHours => {
      const result: Record<string, number> = Object.fromEntries(defaults.split(',').map((pair) => pair.split('=')).map(([k, v]) => [k, Number(v)]));
      for (const pair of value.split(',').map((p) => p.trim()).filter(Boolean)) {
        const [key = '', hours = ''] = pair.split('=').map((p) => p.trim());
        const n = Number(hours);
        if (!(REFERRAL_PRIORITY_CODES as readonly string[]).includes(key) || hours === '' || !Number.isFinite(n) || n <= 0 || n > 24 * 60) {
          ctx.addIssue({ code: 'custom', message: 'must be priority=hours pairs (routine, urgent, asap, stat; 0 < hours <= 1440), comma-separated' });
          return z.NEVER;
        }
        result[key] = n;
      }
      return result as PriorityHours;
    });
}

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly port: number;
  /** Public base URL without a trailing slash, e.g. `http://localhost:8080`. */
  readonly baseUrl: string;
  /** FHIR base URL: `${baseUrl}/fhir/R4`. */
  readonly fhirBaseUrl: string;
  /** PostgreSQL connection string; absent means embedded PGlite under `dataDir`. */
  readonly databaseUrl: string | undefined;
  /**
   * The longest a database statement of the API may run (lock waits included) before PostgreSQL cancels it and the
   * request answers 503; 0 for no limit. Migrations are exempt. PGlite has none.
   */
  readonly databaseStatementTimeoutMs: number;
  readonly dataDir: string;
  readonly redisUrl: string;
  /** Key prefix for every Redis key and queue, hash-tagged so Redis Cluster keeps a queue in one slot. */
  readonly redisPrefix: string;
  readonly adminToken: string;
  /** True when the admin token was generated for this run (development only) and should be printed. */
  readonly adminTokenGenerated: boolean;
  /**
   * The key that signs search and history `_page` tokens: HKDF-SHA256 of `PAGE_TOKEN_SECRET`, or of `ADMIN_TOKEN` when
   * that is not set, so every replica of a deployment signs and accepts the same tokens.
   */
  readonly pageTokenKey: Uint8Array;
  readonly role: ProcessRole;
  readonly logLevel: string;
  /** Largest request body accepted, in bytes; larger bodies answer 413. */
  readonly maxBodyBytes: number;
  readonly corsOrigins: readonly string[];
  /**
   * Proxies in front of the API whose X-Forwarded-For to believe: false (none), true (all), or a hop count.
   * Per-address login limits need the client's address, not the load balancer's.
   */
  readonly trustProxy: boolean | number;
  /**
   * Port of the worker process's health server (`/healthz`, `/readyz`) when it runs alone (ROLE=worker); undefined
   * when none is wanted. The API's own probes are on `port`.
   */
  readonly workerHealthPort: number | undefined;
  /**
   * Port of a separate server answering `/metrics` (Prometheus text) without a token, for scrapers inside the
   * deployment; undefined when none. The API's port serves `/metrics` with the admin token either way, and a worker run
   * alone also answers it on its health port.
   */
  readonly metricsPort: number | undefined;
  /**
   * A referral's deadlines and follow-up steps, in business hours of the practice (DESIGN.md, "Referral
   * follow-through"): to acknowledge (the Task's restriction.period.end) and to complete, per priority; the reminder
   * before the acknowledgement deadline and the expiry after it; the zone of practices that name none.
   */
  readonly referralDeadlines: {
    readonly timeZone: string;
    readonly acknowledgeWithin: PriorityHours;
    readonly completeWithin: PriorityHours;
    readonly remindBefore: number;
    readonly expireAfter: number;
  };
  /**
   * Requests of one caller refused for lack of consent (each writes to a client's accounting of disclosures) allowed
   * per minute; past it the caller is answered 429 until the minute ends. 0: no limit.
   */
  readonly deniedRequestsPerMinute: number;
  /** The client's portal, served at `${baseUrl}/portal` by ROLE all and ROLE portal. */
  readonly portal: PortalConfig;
  /** Notification delivery: http:// endpoints on loopback allowed (development), timeouts, size cap, concurrency. */
  readonly notify: {
    readonly allowLoopbackHttp: boolean;
    readonly requestTimeoutMs: number;
    readonly maxResponseBytes: number;
    readonly deliveryConcurrency: number;
  };
}

/** The portal's settings: it is a client of the public API, so it knows the API only by URL and its own registration. */
export interface PortalConfig {
  /** `${baseUrl}/portal`: where browsers reach it, and the base of its OAuth redirect URI. */
  readonly publicUrl: string;
  /**
   * Where the portal's server calls the API (token endpoint, FHIR REST): `PORTAL_API_URL`, else this process's own
   * port on loopback for ROLE all, else `baseUrl`. Token audiences stay `baseUrl`'s, whatever address is called.
   */
  readonly apiUrl: string;
  /**
   * The portal's registration as a confidential app (client_id and the file holding its private JWK). Both unset in
   * development: the portal registers itself with the admin token and keeps both in `<dataDir>/portal/`.
   */
  readonly clientId: string | undefined;
  readonly keyFile: string | undefined;
  /** Signs the session cookie: HKDF-SHA256 of `SESSION_SECRET`, else of `ADMIN_TOKEN`. */
  readonly sessionSecret: string;
  /** Cookies marked Secure: whenever the public base is https. */
  readonly secureCookies: boolean;
  /** Where "Leave quickly" goes: a neutral page. */
  readonly leaveUrl: string;
}

/** Thrown for an invalid environment; the message names every offending variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface LoadOptions {
  /**
   * In development without ADMIN_TOKEN: keep the generated admin token in `<dataDir>/admin-token` (created once, mode
   * 0600) and use it on every start, so the token printed once, and the tools beside the server (`npm run demo`,
   * `npm run token`), keep working across restarts. The processes and tools pass it; tests do not.
   */
  keepDevelopmentAdminToken?: boolean;
}

/**
 * Parses the environment into a {@link Config}.
 * @param env - the variables to read, `process.env` by default (tests pass their own).
 */
export function loadConfig(env: Record<string, string | undefined> = process.env, options: LoadOptions = {}): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`Invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  if (e.NODE_ENV === 'production' && !e.ADMIN_TOKEN) {
    throw new ConfigError('Invalid configuration: ADMIN_TOKEN is required in production');
  }
  if (e.NODE_ENV === 'production' && e.NOTIFY_ALLOW_LOOPBACK_HTTP === 'true') {
    throw new ConfigError('Invalid configuration: NOTIFY_ALLOW_LOOPBACK_HTTP is for development only');
  }
  if (e.NODE_ENV === 'production' && e.ROLE === 'portal' && !(e.PORTAL_CLIENT_ID && e.PORTAL_KEY_FILE)) {
    throw new ConfigError('Invalid configuration: PORTAL_CLIENT_ID and PORTAL_KEY_FILE are required for ROLE=portal in production');
  }
  if (Boolean(e.PORTAL_CLIENT_ID) !== Boolean(e.PORTAL_KEY_FILE)) {
    throw new ConfigError('Invalid configuration: PORTAL_CLIENT_ID and PORTAL_KEY_FILE are set together or not at all');
  }
  const baseUrl = (e.BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  const dataDir = e.DATA_DIR ?? join(e.INIT_CWD ?? process.cwd(), '.carecircle');
  const adminToken =
    e.ADMIN_TOKEN ??
    (options.keepDevelopmentAdminToken && e.NODE_ENV === 'development' ? keptAdminToken(dataDir) : randomBytes(32).toString('base64url'));
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    baseUrl,
    fhirBaseUrl: `${baseUrl}/fhir/R4`,
    databaseUrl: e.DATABASE_URL,
    databaseStatementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
    dataDir,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX,
    adminToken,
    adminTokenGenerated: !e.ADMIN_TOKEN,
    pageTokenKey: new Uint8Array(hkdfSync('sha256', e.PAGE_TOKEN_SECRET ?? adminToken, 'carecircle', 'page-token', 32)),
    role: e.ROLE,
    logLevel: e.LOG_LEVEL,
    maxBodyBytes: e.MAX_BODY_BYTES,
    corsOrigins: e.CORS_ORIGINS.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    referralDeadlines: {
      timeZone: e.REFERRAL_TIME_ZONE,
      acknowledgeWithin: e.REFERRAL_ACK_BUSINESS_HOURS,
      completeWithin: e.REFERRAL_COMPLETE_BUSINESS_HOURS,
      remindBefore: e.REFERRAL_REMIND_BEFORE_BUSINESS_HOURS,
      expireAfter: e.REFERRAL_EXPIRE_AFTER_BUSINESS_HOURS,
    },
    deniedRequestsPerMinute: e.DENIED_REQUESTS_PER_MINUTE,
    portal: {
      publicUrl: `${baseUrl}/portal`,
      apiUrl: (e.PORTAL_API_URL ?? (e.ROLE === 'all' ? `http://127.0.0.1:${e.PORT}` : baseUrl)).replace(/\/+$/, ''),
      clientId: e.PORTAL_CLIENT_ID,
      keyFile: e.PORTAL_KEY_FILE,
      sessionSecret: Buffer.from(hkdfSync('sha256', e.SESSION_SECRET ?? adminToken, 'carecircle', 'portal-session', 32)).toString('base64url'),
      secureCookies: baseUrl.startsWith('https://'),
      leaveUrl: e.PORTAL_LEAVE_URL,
    },
    notify: {
      allowLoopbackHttp: e.NOTIFY_ALLOW_LOOPBACK_HTTP === undefined ? e.NODE_ENV === 'development' : e.NOTIFY_ALLOW_LOOPBACK_HTTP === 'true',
      requestTimeoutMs: e.NOTIFY_REQUEST_TIMEOUT_MS,
      maxResponseBytes: e.NOTIFY_MAX_RESPONSE_BYTES,
      deliveryConcurrency: e.NOTIFY_DELIVERY_CONCURRENCY,
    },
    trustProxy: e.TRUST_PROXY === 'true' ? true : e.TRUST_PROXY === 'false' ? false : Number(e.TRUST_PROXY),
    workerHealthPort: e.WORKER_HEALTH_PORT,
    metricsPort: e.METRICS_PORT,
  };
}

/** The development admin token kept in `<dataDir>/admin-token`, made on first use. */
function keptAdminToken(dataDir: string): string {
  const file = join(dataDir, 'admin-token');
  try {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept.length >= 32) {
      return kept;
    }
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'ENOENT') {
      throw new ConfigError(`Cannot read the development admin token in ${file}: ${(err as Error).message}`);
    }
  }
  const token = randomBytes(32).toString('base64url');
  try {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
  } catch (err) {
    throw new ConfigError(`Cannot keep the development admin token in ${file}: ${(err as Error).message}; set ADMIN_TOKEN`);
  }
  return token;
}
