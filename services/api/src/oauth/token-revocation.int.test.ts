import { buildOrganization, buildPatient } from '@carecircle/testing';
import request from 'supertest';
import {
  authorizationCodeFor,
  CLIENT_ASSERTION_TYPE,
  createAsAdmin,
  generateClientKey,
  registerSystemClient,
  signAssertion,
  type ClientKey,
} from '../smart-test-clients';
import { openAuthTestApp, type AuthTestApp } from './auth-test-app';

const REDIRECT_URI = 'https://portal.example/callback';

interface Tokens {
  access_token: string;
  refresh_token?: string;
  patient: string;
}

describe('POST /oauth2/revoke (RFC 7009): signing out one session, or every session of the user in the app', () => {
  let t: AuthTestApp;
  const key: ClientKey = generateClientKey('ES384');
  let portalId: string;
  let publicAppId: string;
  let patient: string;
  const admin = () => `Bearer ${t.services.config.adminToken}`;
  const users = { alex: 'alex.client', sam: 'sam.client' } as const;
  const password = 'a long client password';

  /** Signs `username` in to `clientId` and redeems the code as that app would (assertion or client_id). */
  async function signIn(clientId: string, username: string, scope = 'offline_access patient/*.rs'): Promise<Tokens> {
    const granted = await authorizationCodeFor(t, clientId, { username, password }, scope, REDIRECT_URI);
    if (!granted) {
      throw new Error('the sign-in was refused');
    }
    const res = await request(t.app)
      .post('/oauth2/token')
      .type('form')
      .send({ grant_type: 'authorization_code', code: granted.code, code_verifier: granted.verifier, redirect_uri: REDIRECT_URI, ...credentialsOf(clientId) })
      .expect(200);
    return res.body as Tokens;
  }

  function credentialsOf(clientId: string): Record<string, string> {
    return clientId === portalId
      ? { client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: signAssertion(t, key, portalId) }
      : { client_id: clientId };
  }

  const revoke = (clientId: string, fields: Record<string, string>) =>
    request(t.app).post('/oauth2/revoke').type('form').send({ ...credentialsOf(clientId), ...fields });
  const refresh = (clientId: string, refreshToken: string) =>
    request(t.app).post('/oauth2/token').type('form').send({ grant_type: 'refresh_token', refresh_token: refreshToken, ...credentialsOf(clientId) });
  const readSelf = (tokens: Tokens) => request(t.app).get(`/fhir/R4/Patient/${tokens.patient}`).set('Authorization', `Bearer ${tokens.access_token}`);

  beforeAll(async () => {
    t = await openAuthTestApp();
    const practice = await createAsAdmin(t, buildOrganization({ name: 'Practice' }));
    patient = await createAsAdmin(t, buildPatient({ managingOrganization: { reference: practice } }));
    const other = await createAsAdmin(t, buildPatient({ managingOrganization: { reference: practice } }));
    await request(t.app).post('/admin/users').set('Authorization', admin()).send({ username: users.alex, password, fhirUser: patient }).expect(201);
    await request(t.app).post('/admin/users').set('Authorization', admin()).send({ username: users.sam, password, fhirUser: other }).expect(201);
    const scope = 'offline_access online_access patient/*.rs';
    portalId = (
      await request(t.app)
        .post('/admin/clients')
        .set('Authorization', admin())
        .send({ name: 'Portal', redirect_uris: [REDIRECT_URI], jwks: { keys: [key.publicJwk] }, scope })
        .expect(201)
    ).body.client_id;
    publicAppId = (
      await request(t.app).post('/admin/clients').set('Authorization', admin()).send({ name: 'Phone app', redirect_uris: [REDIRECT_URI], scope }).expect(201)
    ).body.client_id;
  });
  afterAll(async () => {
    await t.close();
  });

  test('revoking a refresh token ends its session: the rotated family and the access tokens, nothing else', async () => {
    const session = await signIn(portalId, users.alex);
    const rotated = (await refresh(portalId, session.refresh_token as string).expect(200)).body as Tokens;
    const otherSession = await signIn(portalId, users.alex);

    const res = await revoke(portalId, { token: rotated.refresh_token as string, token_type_hint: 'refresh_token' }).expect(200);
    expect(res.text).toBe('');
    expect(res.headers['cache-control']).toBe('no-store');
    expect((await refresh(portalId, rotated.refresh_token as string).expect(400)).body.error).toBe('invalid_grant');
    await readSelf(session).expect(401);
    await readSelf(rotated).expect(401);
    // The same user's other session in the same app goes on.
    await readSelf(otherSession).expect(200);
    await refresh(portalId, otherSession.refresh_token as string).expect(200);
  });

  test('a public app revokes with its client_id; an access token revokes its session too', async () => {
    const session = await signIn(publicAppId, users.alex);
    await revoke(publicAppId, { token: session.access_token, token_type_hint: 'access_token' }).expect(200);
    await readSelf(session).expect(401);
    expect((await refresh(publicAppId, session.refresh_token as string).expect(400)).body.error).toBe('invalid_grant');
  });

  test('carecircle_sessions=all signs the user out of every session in this app, and only this user in this app', async () => {
    const phone = await signIn(portalId, users.alex);
    const laptop = await signIn(portalId, users.alex);
    const withoutRefresh = await signIn(portalId, users.alex, 'patient/*.rs');
    expect(withoutRefresh.refresh_token).toBeUndefined();
    const otherApp = await signIn(publicAppId, users.alex);
    const otherUser = await signIn(portalId, users.sam);

    // Tokens issued in the second of the revocation are still accepted (whole seconds): step past it.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await revoke(portalId, { token: phone.refresh_token as string, carecircle_sessions: 'all' }).expect(200);
    for (const tokens of [phone, laptop, withoutRefresh]) {
      await readSelf(tokens).expect(401);
    }
    expect((await refresh(portalId, laptop.refresh_token as string).expect(400)).body.error).toBe('invalid_grant');
    await readSelf(otherApp).expect(200);
    await request(t.app).get(`/fhir/R4/Patient/${otherUser.patient}`).set('Authorization', `Bearer ${otherUser.access_token}`).expect(200);
    // Signing in again afterwards works.
    await readSelf(await signIn(portalId, users.alex)).expect(200);
  });

  test('an unknown token, or another app\'s, is 200 and revokes nothing', async () => {
    const session = await signIn(portalId, users.sam);
    await revoke(publicAppId, { token: session.refresh_token as string }).expect(200);
    await revoke(publicAppId, { token: session.access_token, carecircle_sessions: 'all' }).expect(200);
    await revoke(publicAppId, { token: 'not-a-token-of-ours' }).expect(200);
    await revoke(publicAppId, { token: 'eyJhbGciOiJub25lIn0.e30.' }).expect(200);
    await readSelf(session).expect(200);
    await refresh(portalId, session.refresh_token as string).expect(200);
  });

  test.each<[string, () => Record<string, string>, number, string]>([
    ['no token', () => ({ ...credentialsOf(publicAppId) }), 400, 'invalid_request'],
    ['a token given twice', () => ({ ...credentialsOf(publicAppId), token: ['a', 'b'] as unknown as string }), 400, 'invalid_request'],
    ['an unknown value of carecircle_sessions', () => ({ ...credentialsOf(publicAppId), token: 'x', carecircle_sessions: 'everyone' }), 400, 'invalid_request'],
    ['no client', () => ({ token: 'x' }), 401, 'invalid_client'],
    ['an unknown client_id', () => ({ token: 'x', client_id: 'no-such-app' }), 401, 'invalid_client'],
    ['a confidential app\'s client_id without its assertion', () => ({ token: 'x', client_id: portalId }), 401, 'invalid_client'],
    [
      'an assertion signed with another key',
      () => ({ token: 'x', client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: signAssertion(t, generateClientKey('ES384'), portalId) }),
      401,
      'invalid_client',
    ],
  ])('%s is RFC 6749 JSON, never a 500', async (_name, fields, status, error) => {
    const res = await request(t.app).post('/oauth2/revoke').type('form').send(fields()).expect(status);
    expect(res.body.error).toBe(error);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  test("a backend system's access token is unsupported_token_type", async () => {
    const practice = await createAsAdmin(t, buildOrganization({ name: 'Another practice' }));
    const system = await registerSystemClient(t, practice, 'system/Patient.rs');
    const accessToken = await system.token();
    const res = await request(t.app)
      .post('/oauth2/revoke')
      .type('form')
      .send({ token: accessToken, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: signAssertion(t, system.key, system.clientId) })
      .expect(400);
    expect(res.body.error).toBe('unsupported_token_type');
  });
});
