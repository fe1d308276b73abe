/**
 * What the demo tools need to know, read once at their start: the server they talk to and its data directory (from
 * the same variables and defaults `npm start` reads, so `npm start` and `npm run demo` in one folder agree), and, for
 * the webhook receiver, its port and secret.
 */
import { loadConfig } from '@carecircle/config';
import { join } from 'node:path';
import { z } from 'zod';

export interface ToolConfig {
  /** The server's public base, e.g. `http://localhost:8080`. */
  baseUrl: string;
  /** `${baseUrl}/fhir/R4` */
  fhirBaseUrl: string;
  /** The operator's token: ADMIN_TOKEN, or the development token `npm start` keeps in the data directory. */
  adminToken: string;
  /** Where the demo keeps what it made: ids, sign-ins and the partner systems' private keys (mode 0600). */
  demoDir: string;
}

/** The tools' configuration from `env` (process.env by default). */
export function loadToolConfig(env: Record<string, string | undefined> = process.env): ToolConfig {
  const config = loadConfig(env, { keepDevelopmentAdminToken: true });
  return {
    baseUrl: config.baseUrl,
    fhirBaseUrl: config.fhirBaseUrl,
    adminToken: config.adminToken,
    demoDir: join(config.dataDir, 'demo'),
  };
}

const receiverSchema = z.object({
  RECEIVER_PORT: z.coerce.number().int().min(1).max(65535).default(9090),
  HOOK_SECRET: z.string().min(32, 'must be at least 32 characters (the subscription secret)'),
});

export interface ReceiverConfig {
  port: number;
  secret: string;
}

/** The webhook receiver's configuration; throws a message naming what is wrong. */
export function loadReceiverConfig(env: Record<string, string | undefined> = process.env): ReceiverConfig {
  const parsed = receiverSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`Invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return { port: parsed.data.RECEIVER_PORT, secret: parsed.data.HOOK_SECRET };
}
