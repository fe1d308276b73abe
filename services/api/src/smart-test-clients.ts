/**
 * For integration tests: real SMART clients against the in-process app. Registers a backend-services client with a
 * freshly generated key and signs its assertions; registers an app and a user and logs the user in through the
 * authorize form with PKCE. Every token is obtained the way a partner system or person would obtain it.
 */
import { generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { computeCodeChallenge, signInCookieName, signInFormToken, signInNonce } from '@carecircle/auth';
import type { Resource } from '@medplum/fhirtypes';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import type { TestApp } from './test-harness';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const REDIRECT_URI = 'https://app.example/callback';

export interface ClientKey {
  alg: 'RS384' | 'ES384';
  kid: string;
  privateKey: KeyObject;
  publicJwk: Record<string, unknown>;
}

/** A new signing key for a backend client, with its public JWK. */
export function generateClientKey(alg: 'RS384' | 'ES384'): ClientKey {
  const { privateKey, publicKey } =
    alg === 'RS384' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const kid = randomUUID();
  return { alg, kid, privateKey, publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' } };
}

/** A client assertion (SMART Backend Services) for `clientId`, audience the app's token endpoint. */
export function signAssertion(t: TestApp, key: ClientKey, clientId: string, overrides: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const aud = `${t.services.config.baseUrl}/oauth2/token`;
  return jwt.sign({ iss: clientId, sub: clientId, aud, exp: now + 240, jti: randomUUID(), ...overrides }, key.privateKey, {
    algorithm: key.alg,
    keyid: key.kid,
  });
}

function admin(t: TestApp): string {
  return `Bearer ${t.services.config.adminToken}`;
}

/** Creates a resource as the operator and returns its reference (`Type/id`): organizations, practitioners, clients. */
export async function createAsAdmin(t: TestApp, resource: Resource): Promise<string> {
  const res = await request(t.app)
    .post(`/fhir/R4/${resource.resourceType}`)
    .set('Authorization', admin(t))
    .set('Content-Type', 'application/fhir+json')
    .send(resource)
    .expect(201);
  return `${resource.resourceType}/${(res.body as Resource).id}`;
}

/**
 * Registers a backend system of `organization` (which must exist) and returns a function that fetches access tokens
 * for it, optionally for other scopes and with token-request fields such as `purpose_of_use`.
 */
export async function registerSystemClient(
  t: TestApp,
  organization: string,
  scope: string,
): Promise<{ clientId: string; key: ClientKey; token: (asked?: string, fields?: Record<string, string>) => Promise<string> }> {
  const key = generateClientKey('ES384');
  const res = await request(t.app)
    .post('/admin/clients')
    .set('Authorization', admin(t))
    .send({ name: `System of ${organization}`, organization, jwks: { keys: [key.publicJwk] }, scope })
    .expect(201);
  const clientId = res.body.client_id as string;
  return {
    clientId,
    key,
    async token(asked = scope, fields = {}) {
      const tokenResponse = await request(t.app)
        .post('/oauth2/token')
        .type('form')
        .send({
          grant_type: 'client_credentials',
          scope: asked,
          client_assertion_type: CLIENT_ASSERTION_TYPE,
          client_assertion: signAssertion(t, key, clientId),
          ...fields,
        })
        .expect(200);
      return tokenResponse.body.access_token as string;
    },
  };
}

/** Registers a public app able to ask for `appScope`. */
export async function registerApp(t: TestApp, appScope: string): Promise<string> {
  const res = await request(t.app)
    .post('/admin/clients')
    .set('Authorization', admin(t))
    .send({ name: 'Test app', redirect_uris: [REDIRECT_URI], scope: appScope })
    .expect(201);
  return res.body.client_id as string;
}

/**
 * What a browser that was shown the sign-in form for `clientId` sends back with it: the sign-in cookie and the form's
 * `csrf_token` (as the page would carry them, made with the app's own key instead of a GET of the page).
 */
export function signInFormBinding(t: Pick<TestApp, 'services'>, clientId: string): { cookie: string; csrf_token: string } {
  const nonce = signInNonce(undefined);
  return { cookie: `${signInCookieName(t.services.config)}=${nonce}`, csrf_token: signInFormToken(t.services.config, nonce, clientId) };
}

/** A token response for a user's sign-in. */
export interface UserTokenResponse {
  access_token: string;
  patient?: string;
  scope: string;
  refresh_token?: string;
}

/**
 * Signs an existing user in to `appClientId` through the authorize form with PKCE, as a browser would (the form's
 * cookie and csrf_token): the authorization code and its verifier, or undefined when the sign-in is refused.
 */
export async function authorizationCodeFor(
  t: Pick<TestApp, 'app' | 'services'>,
  appClientId: string,
  credentials: { username: string; password: string },
  scope: string,
  redirectUri: string = REDIRECT_URI,
): Promise<{ code: string; verifier: string } | undefined> {
  const verifier = randomBytes(32).toString('base64url');
  const { cookie, csrf_token } = signInFormBinding(t, appClientId);
  const authorize = await request(t.app)
    .post('/oauth2/authorize')
    .set('Cookie', cookie)
    .type('form')
    .send({
      csrf_token,
      response_type: 'code',
      client_id: appClientId,
      redirect_uri: redirectUri,
      scope,
      state: 's',
      code_challenge: computeCodeChallenge(verifier),
      code_challenge_method: 'S256',
      aud: t.services.config.fhirBaseUrl,
      ...credentials,
    });
  if (authorize.status !== 302) {
    return undefined;
  }
  return { code: new URL(authorize.headers.location as string).searchParams.get('code') as string, verifier };
}

/**
 * Signs an existing user in through the authorize form with PKCE, as a browser would, and redeems the code; undefined
 * when the sign-in is refused. `tokenFields` go with the code exchange.
 */
export async function signInUser(
  t: TestApp,
  appClientId: string,
  credentials: { username: string; password: string },
  scope: string,
  tokenFields: Record<string, string> = {},
): Promise<UserTokenResponse | undefined> {
  const granted = await authorizationCodeFor(t, appClientId, credentials, scope);
  if (!granted) {
    return undefined;
  }
  const token = await request(t.app)
    .post('/oauth2/token')
    .type('form')
    .send({
      grant_type: 'authorization_code',
      code: granted.code,
      code_verifier: granted.verifier,
      redirect_uri: REDIRECT_URI,
      client_id: appClientId,
      ...tokenFields,
    })
    .expect(200);
  return token.body as UserTokenResponse;
}

/**
 * Creates a user (whose fhirUser and organization must exist) and logs them in through the authorize form with PKCE;
 * returns the token response. `tokenFields` go with the code exchange (e.g. `purpose_of_use`).
 */
export async function logInUser(
  t: TestApp,
  appClientId: string,
  user: { fhirUser: string; organization?: string },
  scope: string,
  tokenFields: Record<string, string> = {},
): Promise<UserTokenResponse> {
  const username = `user-${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('base64url');
  await request(t.app).post('/admin/users').set('Authorization', admin(t)).send({ username, password, ...user }).expect(201);
  const token = await signInUser(t, appClientId, { username, password }, scope, tokenFields);
  if (!token) {
    throw new Error(`signing ${username} in was refused`);
  }
  return token;
}
