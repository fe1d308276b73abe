import { authenticateBearer } from '@carecircle/auth';
import { buildOrganization, buildPatient } from '@carecircle/testing';
import request from 'supertest';
import { authorizationCodeFor, CLIENT_ASSERTION_TYPE, createAsAdmin, generateClientKey, signAssertion, type ClientKey } from '../smart-test-clients';
import { openAuthTestApp, TEST_BASE_URL, type AuthTestApp } from './auth-test-app';

const REDIRECT_URI = 'https://portal.example/callback';
const SCOPE = 'offline_access patient/*.rs patient/Consent.cu';

describe('confidential apps (SMART client-confidential-asymmetric): authorization code + PKCE + private_key_jwt', () => {
  let t: AuthTestApp;
  const key: ClientKey = generateClientKey('ES384');
  let appId: string;
  let publicAppId: string;
  let systemId: string;
  let systemKey: ClientKey;
  const admin = () => `Bearer ${t.services.config.adminToken}`;
  const username = 'portal.client';
  const password = 'a long client password';

  /** Signs the client in through the form for `clientId`; returns the code and its verifier. */
  async function codeFor(clientId: string): Promise<{ code: string; verifier: string }> {
    const granted = await authorizationCodeFor(t, clientId, { username, password }, SCOPE, REDIRECT_URI);
    if (!granted) {
      throw new Error('the sign-in was refused');
    }
    return granted;
  }

  const token = (fields: Record<string, string>) => request(t.app).post('/oauth2/token').type('form').send(fields);
  const withAssertion = (fields: Record<string, string>, assertion = signAssertion(t, key, appId)) =>
    token({ ...fields, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion });
  const redeem = (code: string, verifier: string) => ({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI });

  beforeAll(async () => {
    t = await openAuthTestApp();
    const practice = await createAsAdmin(t, buildOrganization({ name: 'Practice' }));
    const patient = await createAsAdmin(t, buildPatient({ managingOrganization: { reference: practice } }));
    await request(t.app).post('/admin/users').set('Authorization', admin()).send({ username, password, fhirUser: patient }).expect(201);
    const registered = await request(t.app)
      .post('/admin/clients')
      .set('Authorization', admin())
      .send({ name: 'Sharing portal', redirect_uris: [REDIRECT_URI], jwks: { keys: [key.publicJwk] }, scope: SCOPE })
      .expect(201);
    appId = registered.body.client_id;
    publicAppId = (
      await request(t.app).post('/admin/clients').set('Authorization', admin()).send({ name: 'Public app', redirect_uris: [REDIRECT_URI], scope: SCOPE }).expect(201)
    ).body.client_id;
    systemKey = generateClientKey('RS384');
    systemId = (
      await request(t.app)
        .post('/admin/clients')
        .set('Authorization', admin())
        .send({ name: 'Practice EHR', organization: practice, jwks: { keys: [systemKey.publicJwk] }, scope: 'system/*.rs' })
        .expect(201)
    ).body.client_id;
  });
  afterAll(async () => {
    await t.close();
  });

  test('registration with redirect_uris and keys makes a confidential app, shown and kept as one by GET and PATCH', async () => {
    const shown = await request(t.app).get(`/admin/clients/${appId}`).set('Authorization', admin()).expect(200);
    expect(shown.body).toMatchObject({
      kind: 'confidential',
      token_endpoint_auth_method: 'private_key_jwt',
      redirect_uris: [REDIRECT_URI],
      jwks: { keys: [expect.objectContaining({ kid: key.kid })] },
    });
    expect(shown.body).not.toHaveProperty('organization');
    const publicApp = await request(t.app).get(`/admin/clients/${publicAppId}`).set('Authorization', admin()).expect(200);
    expect(publicApp.body).toMatchObject({ kind: 'public', token_endpoint_auth_method: 'none' });

    // A PATCH of the redirect URIs keeps the keys; a PATCH of the keys keeps the redirect URIs.
    const more = await request(t.app)
      .patch(`/admin/clients/${appId}`)
      .set('Authorization', admin())
      .send({ redirect_uris: [REDIRECT_URI, 'https://portal.example/other'] })
      .expect(200);
    expect(more.body).toMatchObject({ kind: 'confidential', jwks: { keys: [expect.objectContaining({ kid: key.kid })] } });
    const rekeyed = await request(t.app).patch(`/admin/clients/${appId}`).set('Authorization', admin()).send({ jwks: { keys: [key.publicJwk] } }).expect(200);
    expect(rekeyed.body).toMatchObject({ kind: 'confidential', redirect_uris: [REDIRECT_URI, 'https://portal.example/other'] });
    // A public app stays public: it cannot be given keys afterwards.
    await request(t.app).patch(`/admin/clients/${publicAppId}`).set('Authorization', admin()).send({ jwks: { keys: [key.publicJwk] } }).expect(400);
  });

  test.each<[string, Record<string, unknown>]>([
    ['both jwks and jwks_uri', { jwks_uri: 'https://portal.example/jwks.json' }],
    ['system/ scopes', { scope: 'system/*.rs' }],
    ['a private key in the JWKS', { jwks: { keys: [{ ...key.publicJwk, d: 'secret' }] } }],
    ['an organization', { organization: 'Organization/x' }],
  ])('registration of a confidential app with %s is 400', async (_name, change) => {
    // (Built here: test.each's table is read before beforeAll runs.)
    const body = { name: 'x', redirect_uris: [REDIRECT_URI], jwks: { keys: [key.publicJwk] }, scope: SCOPE, ...change };
    const res = await request(t.app).post('/admin/clients').set('Authorization', admin()).send(body).expect(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });

  test('signs a user in, redeems the code with its client assertion and PKCE, and refreshes with an assertion', async () => {
    const { code, verifier } = await codeFor(appId);
    const res = await withAssertion(redeem(code, verifier)).expect(200);
    expect(res.body).toMatchObject({ token_type: 'Bearer', patient: expect.any(String) });
    expect(res.body.scope).toContain('patient/Consent.cu');
    expect(res.body.refresh_token).toEqual(expect.any(String));
    const caller = await authenticateBearer(t.services, `Bearer ${res.body.access_token}`);
    expect(caller).toMatchObject({ kind: 'patient', clientId: appId });

    // client_id alongside the assertion is fine when it names the same app.
    const refreshed = await withAssertion({ grant_type: 'refresh_token', refresh_token: res.body.refresh_token, client_id: appId }).expect(200);
    expect(refreshed.body.refresh_token).not.toBe(res.body.refresh_token);
  });

  test('a code or refresh token of a confidential app without a valid assertion is invalid_client (401), and stays good', async () => {
    const { code, verifier } = await codeFor(appId);
    const bare = await token({ ...redeem(code, verifier), client_id: appId }).expect(401);
    expect(bare.body.error).toBe('invalid_client');
    expect(bare.body.error_description).toContain('client_assertion');
    const noClient = await token(redeem(code, verifier)).expect(401);
    expect(noClient.body.error).toBe('invalid_client');
    const now = Math.floor(Date.now() / 1000);
    for (const assertion of [
      signAssertion(t, generateClientKey('ES384'), appId),
      signAssertion(t, key, appId, { aud: 'https://elsewhere.example/token' }),
      signAssertion(t, key, appId, { exp: now + 3600 }),
      signAssertion(t, key, appId, { sub: 'someone-else' }),
    ]) {
      expect((await withAssertion(redeem(code, verifier), assertion).expect(401)).body.error).toBe('invalid_client');
    }
    // Another client's assertion (with its client_id) does not redeem this app's code either.
    const foreign = await token({
      ...redeem(code, verifier),
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: signAssertion(t, systemKey, systemId),
    }).expect(400);
    expect(foreign.body.error).toBe('unauthorized_client');
    // Client authentication comes before the code is spent: the code still redeems with the app's own assertion.
    const good = await withAssertion(redeem(code, verifier)).expect(200);

    expect((await token({ grant_type: 'refresh_token', refresh_token: good.body.refresh_token, client_id: appId }).expect(401)).body.error).toBe('invalid_client');
    await withAssertion({ grant_type: 'refresh_token', refresh_token: good.body.refresh_token }).expect(200);
  });

  test('an assertion is single use (jti), and PKCE is still required', async () => {
    const { code, verifier } = await codeFor(appId);
    const assertion = signAssertion(t, key, appId);
    const wrongVerifier = await withAssertion({ ...redeem(code, 'x'.repeat(43)) }, assertion).expect(400);
    expect(wrongVerifier.body.error).toBe('invalid_grant');
    const replay = await withAssertion(redeem(code, verifier), assertion).expect(401);
    expect(replay.body).toEqual({ error: 'invalid_client', error_description: 'client_assertion jti was already used' });
  });

  test('a confidential app may not use client_credentials; a system client may not redeem codes', async () => {
    const res = await withAssertion({ grant_type: 'client_credentials', scope: 'patient/*.rs' }).expect(400);
    expect(res.body.error).toBe('unauthorized_client');
    const { code, verifier } = await codeFor(publicAppId);
    const system = await token({ ...redeem(code, verifier), client_id: systemId }).expect(401);
    expect(system.body.error).toBe('invalid_client');
  });

  test('public apps keep working with client_id and PKCE alone', async () => {
    const { code, verifier } = await codeFor(publicAppId);
    const res = await token({ ...redeem(code, verifier), client_id: publicAppId }).expect(200);
    await token({ grant_type: 'refresh_token', refresh_token: res.body.refresh_token, client_id: publicAppId }).expect(200);
  });

  test('the SMART configuration advertises confidential asymmetric clients', async () => {
    const res = await request(t.app).get('/.well-known/smart-configuration').expect(200);
    expect(res.body.capabilities).toEqual(expect.arrayContaining(['client-confidential-asymmetric', 'client-public']));
    expect(res.body.token_endpoint_auth_methods_supported).toContain('private_key_jwt');
    expect(res.body.token_endpoint).toBe(`${TEST_BASE_URL}/oauth2/token`);
  });
});
