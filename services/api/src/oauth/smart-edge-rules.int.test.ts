/**
 * SMART edge rules stock clients rely on: the RFC 6750 challenge on 401s of the FHIR API, a SMART configuration that
 * advertises only what we do (no `issuer` without OpenID Connect), and a backend client that names no scope (as
 * MedplumClient's startJwtAssertionLogin does) getting its registered scopes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { issueAccessToken, type AccessTokenSubject } from '@carecircle/auth';
import { MedplumClient } from '@medplum/core';
import { buildOrganization, buildPatient } from '@carecircle/testing';
import type { Bundle } from '@medplum/fhirtypes';
import request from 'supertest';
import { createAsAdmin, generateClientKey, signAssertion, type ClientKey } from '../smart-test-clients';
import { openAuthTestApp, TEST_BASE_URL, type AuthTestApp } from './auth-test-app';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const REGISTERED = 'system/Patient.rs system/Observation.rs';

let t: AuthTestApp;
let server: Server;
let clientId: string;
let key: ClientKey;

beforeAll(async () => {
  t = await openAuthTestApp();
  const organization = await createAsAdmin(t, buildOrganization({ name: 'Partner' }));
  await createAsAdmin(t, buildPatient({ managingOrganization: { reference: organization } }));
  key = generateClientKey('ES384');
  const registered = await request(t.app)
    .post('/admin/clients')
    .set('Authorization', `Bearer ${t.adminToken}`)
    .send({ name: 'Partner EHR', organization, jwks: { keys: [key.publicJwk] }, scope: REGISTERED })
    .expect(201);
  clientId = registered.body.client_id as string;
  server = createServer(t.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await t.close();
});

const tokenRequest = (fields: Record<string, string>) =>
  request(t.app)
    .post('/oauth2/token')
    .type('form')
    .send({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: signAssertion(t, key, clientId), ...fields });

describe('WWW-Authenticate (RFC 6750 section 3)', () => {
  test('no token, or another scheme: Bearer realm only, no error attribute', async () => {
    for (const authorization of [undefined, 'Basic dXNlcjpwYXNz']) {
      const req = request(t.app).get('/fhir/R4/Patient');
      const res = await (authorization ? req.set('Authorization', authorization) : req).expect(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="CareCircle"');
    }
  });

  test('a bad, malformed or expired token: error="invalid_token" with a description, realm kept', async () => {
    const expected = 'Bearer realm="CareCircle", error="invalid_token", error_description="The access token is invalid, expired or revoked"';
    for (const authorization of ['Bearer not-a-token', 'Bearer eyJhbGciOiJub25lIn0.e30.', 'Bearer', 'bearer a b']) {
      const res = await request(t.app).get('/fhir/R4/Patient').set('Authorization', authorization).expect(401);
      expect(res.headers['www-authenticate']).toBe(expected);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    // Signed by the server's own key as the token endpoint signs, but expired two minutes ago (past the skew).
    const { body } = await tokenRequest({ scope: 'system/Patient.rs' }).expect(200);
    const claims = JSON.parse(Buffer.from(String(body.access_token).split('.')[1] ?? '', 'base64url').toString()) as AccessTokenSubject;
    const subject: AccessTokenSubject = { sub: claims.sub, client_id: claims.client_id, scope: claims.scope, organization: claims.organization as string };
    const expired = await issueAccessToken(t.services, subject, -120);
    const res = await request(t.app).get('/fhir/R4/Patient').set('Authorization', `Bearer ${expired.accessToken}`).expect(401);
    expect(res.headers['www-authenticate']).toBe(expected);
  });
});

describe('SMART configuration', () => {
  test('advertises no issuer, since no id_token is issued (no sso-openid-connect)', async () => {
    const res = await request(t.app).get('/.well-known/smart-configuration').expect(200);
    expect(res.body).not.toHaveProperty('issuer');
    expect(res.body.capabilities).not.toContain('sso-openid-connect');
    expect(res.body.jwks_uri).toBe(`${TEST_BASE_URL}/.well-known/jwks.json`);
  });
});

describe('client_credentials without scope', () => {
  test('grants the registered scopes and says so in the response', async () => {
    const res = await tokenRequest({}).expect(200);
    expect(res.body.scope).toBe(REGISTERED);
    const empty = await tokenRequest({ scope: '' }).expect(200);
    expect(empty.body.scope).toBe(REGISTERED);
  });

  test('a named scope is still narrowed to the registration, never widened', async () => {
    const res = await tokenRequest({ scope: 'system/Patient.rs system/Consent.rs' }).expect(200);
    expect(res.body.scope).toBe('system/Patient.rs');
    const none = await tokenRequest({ scope: 'system/Consent.rs' }).expect(400);
    expect(none.body.error).toBe('invalid_scope');
  });

  test("MedplumClient's startJwtAssertionLogin (no scope) signs in and searches with the registered scopes", async () => {
    const local = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const medplum = new MedplumClient({
      baseUrl: `${TEST_BASE_URL}/`,
      // The app answers on loopback; its URLs (token audience, FHIR base) stay the configured base URL's.
      fetch: (url: string, init?: RequestInit) => fetch(url.replace(TEST_BASE_URL, local), init),
    });
    await medplum.startJwtAssertionLogin(signAssertion(t, key, clientId));
    const bundle: Bundle = await medplum.search('Patient');
    expect(bundle.resourceType).toBe('Bundle');
    await expect(medplum.search('Consent')).rejects.toThrow();
  });
});
