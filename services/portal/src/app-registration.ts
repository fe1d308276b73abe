/**
 * The portal's registration with the API as a confidential app (SMART `client-confidential-asymmetric`): a client_id
 * and a private key whose public half the API holds. It signs a client assertion (private_key_jwt) for each token
 * request, so a stolen code or refresh token is useless without the portal's key.
 *
 * In production both come from configuration (`PORTAL_CLIENT_ID`, `PORTAL_KEY_FILE`: a private JWK as JSON, with its
 * `kid`). In development and tests the portal registers itself over the admin API with the admin token, the way an
 * operator would, and keeps the client_id and key in `<dataDir>/portal/app.json` (0600): on a later start it updates
 * the registration (redirect URI and key, so a changed BASE_URL works) or, when the database no longer knows it,
 * registers again.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '@carecircle/config';

/** Every sign-in asks for a refresh token ending with the sign-in's 12 hours, and the user's FHIR identity. */
const SESSION_SCOPES = 'online_access fhirUser';
/** A client (the client's area): read the own record, give and change the own consents. */
const CLIENT_RESOURCE_SCOPES = 'patient/*.rs patient/Consent.cru';
/**
 * A practitioner (the practice area): read what the practitioner may see, make referrals (a ServiceRequest and the
 * Task made with it), cancel them (Task update), remind partners (Communication create), and draft coordinated
 * updates (Composition). The API records a draft's Provenance and AuditEvent through the writer's own repository, so
 * drafting needs their create scopes too.
 */
const PRACTICE_RESOURCE_SCOPES =
  'user/*.rs user/ServiceRequest.c user/Task.cu user/Communication.c user/Composition.cru user/Provenance.c user/AuditEvent.c';

/** What the portal asks for when a client signs in. */
export const CLIENT_AREA_SCOPE = `${SESSION_SCOPES} ${CLIENT_RESOURCE_SCOPES}`;
/** What the portal asks for when a practitioner signs in. */
export const PRACTICE_AREA_SCOPE = `${SESSION_SCOPES} ${PRACTICE_RESOURCE_SCOPES}`;
/**
 * The portal's registration: both areas' scopes. The API grants a client only `patient/` scopes and a practitioner
 * only `user/` ones, so each area asks for its own set (and the sign-in page names only what that area does).
 */
export const PORTAL_SCOPE = `${SESSION_SCOPES} ${CLIENT_RESOURCE_SCOPES} ${PRACTICE_RESOURCE_SCOPES}`;
export const PORTAL_APP_NAME = 'CareCircle sharing portal';

export interface PortalApp {
  readonly clientId: string;
  readonly privateKey: KeyObject;
  readonly kid: string;
  /** The JWS algorithm the key signs with. */
  readonly alg: 'ES384';
}

interface KeptApp {
  clientId: string;
  privateJwk: Record<string, unknown>;
}

/** Reads or makes the portal's registration. */
export async function resolvePortalApp(config: Config, apiUrl: string, fetchImpl: typeof fetch = fetch): Promise<PortalApp> {
  const { portal } = config;
  if (portal.clientId && portal.keyFile) {
    const jwk = JSON.parse(await readFile(portal.keyFile, 'utf8')) as Record<string, unknown>;
    return appFrom(portal.clientId, jwk);
  }
  if (config.env === 'production') {
    throw new Error('the portal needs PORTAL_CLIENT_ID and PORTAL_KEY_FILE in production');
  }
  return keptDevelopmentApp(config, apiUrl, fetchImpl);
}

function appFrom(clientId: string, privateJwk: Record<string, unknown>): PortalApp {
  const privateKey = createPrivateKey({ key: privateJwk as never, format: 'jwk' });
  const kid = typeof privateJwk.kid === 'string' ? privateJwk.kid : '';
  return { clientId, privateKey, kid, alg: 'ES384' };
}

async function keptDevelopmentApp(config: Config, apiUrl: string, fetchImpl: typeof fetch): Promise<PortalApp> {
  const dir = join(config.dataDir, 'portal');
  const file = join(dir, 'app.json');
  const kept = await readKept(file);
  const privateJwk = kept?.privateJwk ?? newPrivateJwk();
  const publicJwk = publicJwkOf(privateJwk);
  const registration = {
    name: PORTAL_APP_NAME,
    redirect_uris: [`${config.portal.publicUrl}/callback`],
    jwks: { keys: [publicJwk] },
    scope: PORTAL_SCOPE,
  };
  let clientId = kept?.clientId;
  if (clientId) {
    const patched = await adminCall(config, apiUrl, fetchImpl, 'PATCH', `/admin/clients/${encodeURIComponent(clientId)}`, registration);
    if (patched.status === 404) {
      clientId = undefined;
    } else if (!patched.ok) {
      throw new Error(`the API refused to update the portal's registration (${patched.status}): ${await patched.text()}`);
    }
  }
  if (!clientId) {
    const created = await adminCall(config, apiUrl, fetchImpl, 'POST', '/admin/clients', registration);
    if (!created.ok) {
      throw new Error(`the API refused to register the portal (${created.status}): ${await created.text()}`);
    }
    clientId = ((await created.json()) as { client_id: string }).client_id;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(file, `${JSON.stringify({ clientId, privateJwk } satisfies KeptApp, null, 2)}\n`, { mode: 0o600 });
  }
  return appFrom(clientId, privateJwk);
}

async function readKept(file: string): Promise<KeptApp | undefined> {
  try {
    const kept = JSON.parse(await readFile(file, 'utf8')) as Partial<KeptApp>;
    return typeof kept.clientId === 'string' && typeof kept.privateJwk === 'object' && kept.privateJwk !== null
      ? (kept as KeptApp)
      : undefined;
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') {
      return undefined;
    }
    throw err;
  }
}

function newPrivateJwk(): Record<string, unknown> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'ES384', use: 'sig' };
}

function publicJwkOf(privateJwk: Record<string, unknown>): Record<string, unknown> {
  const publicKey = createPublicKey(createPrivateKey({ key: privateJwk as never, format: 'jwk' }));
  return { ...publicKey.export({ format: 'jwk' }), kid: privateJwk.kid, alg: 'ES384', use: 'sig' };
}

function adminCall(config: Config, apiUrl: string, fetchImpl: typeof fetch, method: string, path: string, body: unknown): Promise<Response> {
  return fetchImpl(`${apiUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${config.adminToken}`, 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
}
