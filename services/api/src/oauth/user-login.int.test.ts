import { randomBytes } from 'node:crypto';
import { authenticateBearer, computeCodeChallenge } from '@carecircle/auth';
import request from 'supertest';
import { openAuthTestApp, TEST_BASE_URL, type AuthTestApp } from './auth-test-app';

const REDIRECT_URI = 'https://app.example/callback';
const FHIR_BASE = `${TEST_BASE_URL}/fhir/R4`;

describe('user login: authorization code + PKCE, refresh rotation', () => {
  let t: AuthTestApp;
  let clientId: string;
  const admin = () => `Bearer ${t.services.config.adminToken}`;

  function authorizeQuery(overrides: Record<string, string | undefined> = {}, verifier = newVerifier()): Record<string, string> {
    const query: Record<string, string | undefined> = {
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT_URI,
      scope: 'launch/patient offline_access patient/*.rs user/Practitioner.rs',
      state: 'state-123',
      code_challenge: computeCodeChallenge(verifier),
      code_challenge_method: 'S256',
      aud: FHIR_BASE,
      ...overrides,
    };
    return Object.fromEntries(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined));
  }

  function newVerifier(): string {
    return randomBytes(32).toString('base64url');
  }

  /** Logs in through the form and returns the code from the redirect. */
  async function logIn(username: string, password: string, verifier: string, overrides: Record<string, string> = {}): Promise<string> {
    const res = await request(t.app)
      .post('/oauth2/authorize')
      .type('form')
      .send({ ...authorizeQuery(overrides, verifier), username, password })
      .expect(302);
    const location = new URL(res.headers.location as string);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.searchParams.get('state')).toBe(overrides.state ?? 'state-123');
    return location.searchParams.get('code') as string;
  }

  const exchange = (code: string, verifier: string, extra: Record<string, string> = {}) =>
    request(t.app)
      .post('/oauth2/token')
      .type('form')
      .send({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: clientId, ...extra });

  const refresh = (refreshToken: string) =>
    request(t.app).post('/oauth2/token').type('form').send({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId });

  beforeAll(async () => {
    t = await openAuthTestApp();
    const app = await request(t.app)
      .post('/admin/clients')
      .set('Authorization', admin())
      .send({ name: 'Client <Portal> & Co', redirect_uris: [REDIRECT_URI], scope: 'patient/*.rs patient/Consent.cu user/*.rs' })
      .expect(201);
    clientId = app.body.client_id;
    for (const user of [
      { username: 'client.one', password: 'a long client password', fhirUser: 'Patient/p1' },
      { username: 'dr.a', password: 'a long doctor password', fhirUser: 'Practitioner/pr1', organization: 'Organization/practice-a' },
      { username: 'throttled', password: 'a long throttled password', fhirUser: 'Patient/p2' },
    ]) {
      await request(t.app).post('/admin/users').set('Authorization', admin()).send(user).expect(201);
    }
  });
  afterAll(async () => {
    await t.close();
  });

  test('the sign-in page is accessible HTML that echoes the request safely', async () => {
    const res = await request(t.app)
      .get('/oauth2/authorize')
      .query(authorizeQuery({ state: '"><script>alert(1)</script>' }))
      .expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.text).toContain('<html lang="en">');
    expect(res.text).toContain('<label for="username">');
    expect(res.text).toContain('<label for="password">');
    expect(res.text).toContain('autocomplete="current-password"');
    expect(res.text).not.toContain('<script>');
    expect(res.text).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(res.text).toContain('Client &lt;Portal&gt; &amp; Co');
  });

  test('a client logs in with PKCE and gets a token carrying patient and fhirUser, plus a refresh token', async () => {
    const verifier = newVerifier();
    const code = await logIn('Client.One', 'a long client password', verifier);
    const res = await exchange(code, verifier).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 3600,
      patient: 'p1',
      scope: 'launch/patient offline_access patient/*.rs user/Practitioner.rs',
    });
    expect(typeof res.body.refresh_token).toBe('string');
    const caller = await authenticateBearer(t.services, `Bearer ${res.body.access_token}`);
    expect(caller).toMatchObject({ kind: 'patient', fhirUser: 'Patient/p1', clientId });
  });

  test('a practitioner gets user/ scopes only, with its organization, and no patient context', async () => {
    const verifier = newVerifier();
    const code = await logIn('dr.a', 'a long doctor password', verifier);
    const res = await exchange(code, verifier).expect(200);
    expect(res.body.scope).toBe('offline_access user/Practitioner.rs');
    expect(res.body).not.toHaveProperty('patient');
    const caller = await authenticateBearer(t.services, `Bearer ${res.body.access_token}`);
    expect(caller).toMatchObject({ kind: 'practitioner', fhirUser: 'Practitioner/pr1', organization: 'Organization/practice-a' });
  });

  test('a wrong verifier is invalid_grant, and the code is spent', async () => {
    const verifier = newVerifier();
    const code = await logIn('client.one', 'a long client password', verifier);
    const wrong = await exchange(code, newVerifier()).expect(400);
    expect(wrong.body.error).toBe('invalid_grant');
    const retry = await exchange(code, verifier).expect(400);
    expect(retry.body.error).toBe('invalid_grant');
  });

  test('a code is single use; presenting it again revokes what it produced', async () => {
    const verifier = newVerifier();
    const code = await logIn('client.one', 'a long client password', verifier);
    const first = await exchange(code, verifier).expect(200);
    const again = await exchange(code, verifier).expect(400);
    expect(again.body.error).toBe('invalid_grant');
    const res = await refresh(first.body.refresh_token).expect(400);
    expect(res.body.error).toBe('invalid_grant');
  });

  test('a code is bound to its redirect_uri and client', async () => {
    const verifier = newVerifier();
    const code = await logIn('client.one', 'a long client password', verifier);
    const res = await exchange(code, verifier, { redirect_uri: 'https://app.example/other' }).expect(400);
    expect(res.body.error).toBe('invalid_grant');
    const unknownClient = await exchange(code, verifier, { client_id: 'someone-else' }).expect(401);
    expect(unknownClient.body.error).toBe('invalid_client');
  });

  test('refresh tokens rotate; reusing a rotated one revokes the whole family', async () => {
    const verifier = newVerifier();
    const code = await logIn('client.one', 'a long client password', verifier);
    const first = (await exchange(code, verifier).expect(200)).body.refresh_token as string;
    const second = await refresh(first).expect(200);
    expect(second.body.refresh_token).not.toBe(first);
    expect(second.body.patient).toBe('p1');
    await authenticateBearer(t.services, `Bearer ${second.body.access_token}`);
    const reuse = await refresh(first).expect(400);
    expect(reuse.body.error).toBe('invalid_grant');
    // The legitimate holder's newer token went down with the family.
    const after = await refresh(second.body.refresh_token).expect(400);
    expect(after.body.error).toBe('invalid_grant');
  });

  test('wrong credentials re-render the form with a generic error and 401', async () => {
    for (const [username, password] of [
      ['client.one', 'not the password at all'],
      ['nobody.here', 'not the password at all'],
    ]) {
      const res = await request(t.app)
        .post('/oauth2/authorize')
        .type('form')
        .send({ ...authorizeQuery(), username, password })
        .expect(401);
      expect(res.text).toContain('role="alert"');
      expect(res.text).toContain('The username or password is not correct.');
      expect(res.text).not.toContain('not the password at all');
    }
  });

  test('failed logins are rate-limited per username (429), even with the right password afterwards', async () => {
    for (let i = 0; i < 5; i++) {
      await request(t.app).post('/oauth2/authorize').type('form').send({ ...authorizeQuery(), username: 'throttled', password: 'wrong password here' }).expect(401);
    }
    await request(t.app)
      .post('/oauth2/authorize')
      .type('form')
      .send({ ...authorizeQuery(), username: 'throttled', password: 'a long throttled password' })
      .expect(429);
  });

  test('an unregistered redirect_uri is shown an error page, never redirected to', async () => {
    const res = await request(t.app).get('/oauth2/authorize').query(authorizeQuery({ redirect_uri: 'https://evil.example/cb' })).expect(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.text).toContain('not registered');
  });

  test.each([
    ['without PKCE', { code_challenge: undefined }, 'invalid_request'],
    ['with the plain PKCE method', { code_challenge_method: 'plain' }, 'invalid_request'],
    ['for another audience', { aud: 'https://other.example/fhir' }, 'invalid_request'],
    ['for a token response type', { response_type: 'token' }, 'unsupported_response_type'],
  ])('a request %s goes back to the app with an error', async (_name, overrides, error) => {
    const res = await request(t.app).get('/oauth2/authorize').query(authorizeQuery(overrides)).expect(302);
    const location = new URL(res.headers.location as string);
    expect(location.searchParams.get('error')).toBe(error);
    expect(location.searchParams.get('state')).toBe('state-123');
  });

  test('asking only for scopes the app is not registered for is invalid_scope', async () => {
    const res = await request(t.app)
      .post('/oauth2/authorize')
      .type('form')
      .send({ ...authorizeQuery({ scope: 'patient/Observation.cud system/*.rs' }), username: 'client.one', password: 'a long client password' })
      .expect(302);
    expect(new URL(res.headers.location as string).searchParams.get('error')).toBe('invalid_scope');
  });

  test('a disabled user cannot log in, and refresh tokens stop working', async () => {
    const created = await request(t.app)
      .post('/admin/users')
      .set('Authorization', admin())
      .send({ username: 'leaving', password: 'a long leaving password', fhirUser: 'Patient/p3' })
      .expect(201);
    const verifier = newVerifier();
    const code = await logIn('leaving', 'a long leaving password', verifier);
    const tokens = await exchange(code, verifier).expect(200);
    await request(t.app).post(`/admin/users/${created.body.id}/disable`).set('Authorization', admin()).expect(200);
    await expect(authenticateBearer(t.services, `Bearer ${tokens.body.access_token}`)).rejects.toThrow();
    await refresh(tokens.body.refresh_token).expect(400);
    await request(t.app)
      .post('/oauth2/authorize')
      .type('form')
      .send({ ...authorizeQuery(), username: 'leaving', password: 'a long leaving password' })
      .expect(401);
  });
});
