import { randomBytes } from 'node:crypto';
import { authenticateBearer, computeCodeChallenge, FREE_FAILURES_PER_PAIR, pairDelaySeconds } from '@carecircle/auth';
import { buildOrganization, buildPatient, buildPractitioner } from '@carecircle/testing';
import type express from 'express';
import request from 'supertest';
import { createAsAdmin, signInFormBinding } from '../smart-test-clients';
import { appWithClock, appWithoutRedis, createTestClock, openAuthTestApp, TEST_BASE_URL, type AuthTestApp } from './auth-test-app';

const REDIRECT_URI = 'https://app.example/callback';
const FHIR_BASE = `${TEST_BASE_URL}/fhir/R4`;

describe('user login: authorization code + PKCE, refresh rotation', () => {
  let t: AuthTestApp;
  let clientId: string;
  let otherAppId: string;
  let patientP1: string;
  let practiceA: string;
  const admin = () => `Bearer ${t.services.config.adminToken}`;
  const password = 'a long client password';
  // Each test that counts failed logins signs in from its own address (TRUST_PROXY is on), so counts never mix.
  let nextAddress = 1;
  const newAddress = () => `198.51.100.${nextAddress++}`;

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

  /** Posts the sign-in form as the browser it was shown to would: with the sign-in cookie and the form's csrf_token. */
  const signIn = (fields: Record<string, string>, app: express.Express = t.app, address = newAddress()) => {
    const binding = signInFormBinding(t, fields.client_id ?? '');
    return request(app)
      .post('/oauth2/authorize')
      .set('X-Forwarded-For', address)
      .set('Cookie', binding.cookie)
      .type('form')
      .send({ csrf_token: binding.csrf_token, ...fields });
  };

  /** Logs in through the form and returns the code from the redirect. */
  async function logIn(
    username: string,
    userPassword: string,
    verifier: string,
    overrides: Record<string, string> = {},
    app: express.Express = t.app,
  ): Promise<string> {
    const res = await signIn({ ...authorizeQuery(overrides, verifier), username, password: userPassword }, app).expect(302);
    const location = new URL(res.headers.location as string);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.searchParams.get('state')).toBe(overrides.state ?? 'state-123');
    return location.searchParams.get('code') as string;
  }

  const exchange = (code: string, verifier: string, extra: Record<string, string> = {}, app: express.Express = t.app) =>
    request(app)
      .post('/oauth2/token')
      .type('form')
      .send({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: clientId, ...extra });

  const refresh = (refreshToken: string, extra: Record<string, string> = {}, app: express.Express = t.app) =>
    request(app).post('/oauth2/token').type('form').send({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId, ...extra });

  async function createUser(username: string, user: { fhirUser: string; organization?: string }): Promise<string> {
    const res = await request(t.app).post('/admin/users').set('Authorization', admin()).send({ username, password, ...user }).expect(201);
    return res.body.id as string;
  }

  async function registerApp(scope: string): Promise<string> {
    const res = await request(t.app).post('/admin/clients').set('Authorization', admin()).send({ name: 'Another app', redirect_uris: [REDIRECT_URI], scope }).expect(201);
    return res.body.client_id as string;
  }

  beforeAll(async () => {
    t = await openAuthTestApp({ TRUST_PROXY: 'true' });
    practiceA = await createAsAdmin(t, buildOrganization({ name: 'Practice A' }));
    patientP1 = await createAsAdmin(t, buildPatient({ managingOrganization: { reference: practiceA } }));
    const practitioner = await createAsAdmin(t, buildPractitioner());
    const app = await request(t.app)
      .post('/admin/clients')
      .set('Authorization', admin())
      .send({ name: 'Client <Portal> & Co', redirect_uris: [REDIRECT_URI], scope: 'offline_access online_access patient/*.rs patient/Consent.cu user/*.rs' })
      .expect(201);
    clientId = app.body.client_id;
    otherAppId = await registerApp('offline_access patient/*.rs');
    await createUser('client.one', { fhirUser: patientP1 });
    await createUser('dr.a', { fhirUser: practitioner, organization: practiceA });
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

  test('authorize-post: the authorization request POSTed without credentials shows the sign-in form, like the GET', async () => {
    const res = await signIn(authorizeQuery()).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain('<label for="password">');
    expect(res.text).not.toContain('role="alert"');
    expect(res.text).toContain(`name="client_id" value="${clientId}"`);
    // A bad request POSTed is answered as the GET would answer it.
    const bad = await signIn(authorizeQuery({ redirect_uri: 'https://evil.example/cb' })).expect(400);
    expect(bad.headers.location).toBeUndefined();
  });

  test('a client logs in with PKCE and gets patient/ scopes only, a token carrying patient and fhirUser, and a refresh token', async () => {
    const verifier = newVerifier();
    const code = await logIn('Client.One', password, verifier);
    const res = await exchange(code, verifier).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 3600,
      patient: patientP1.slice('Patient/'.length),
      scope: 'launch/patient offline_access patient/*.rs',
    });
    expect(typeof res.body.refresh_token).toBe('string');
    const caller = await authenticateBearer(t.services, `Bearer ${res.body.access_token}`);
    expect(caller).toMatchObject({ kind: 'patient', fhirUser: patientP1, clientId });
  });

  test('a client asking only for user/ scopes gets invalid_scope: user/ scopes are for practitioners', async () => {
    const res = await signIn({ ...authorizeQuery({ scope: 'user/*.cruds' }), username: 'client.one', password }).expect(302);
    expect(new URL(res.headers.location as string).searchParams.get('error')).toBe('invalid_scope');
  });

  test('a practitioner gets user/ scopes only, with its organization, and no patient context', async () => {
    const verifier = newVerifier();
    const code = await logIn('dr.a', password, verifier);
    const res = await exchange(code, verifier).expect(200);
    expect(res.body.scope).toBe('offline_access user/Practitioner.rs');
    expect(res.body).not.toHaveProperty('patient');
    const caller = await authenticateBearer(t.services, `Bearer ${res.body.access_token}`);
    expect(caller).toMatchObject({ kind: 'practitioner', organization: practiceA });
  });

  test('offline_access is granted only when the app registered it: no refresh token otherwise', async () => {
    const narrowApp = await registerApp('patient/*.rs');
    const verifier = newVerifier();
    const code = await logIn('client.one', password, verifier, { client_id: narrowApp, scope: 'launch/patient offline_access online_access patient/*.rs' });
    const res = await exchange(code, verifier, { client_id: narrowApp }).expect(200);
    expect(res.body.scope).toBe('launch/patient patient/*.rs');
    expect(res.body).not.toHaveProperty('refresh_token');
  });

  test('a wrong verifier is invalid_grant, and the code is spent', async () => {
    const verifier = newVerifier();
    const code = await logIn('client.one', password, verifier);
    const wrong = await exchange(code, newVerifier()).expect(400);
    expect(wrong.body.error).toBe('invalid_grant');
    const retry = await exchange(code, verifier).expect(400);
    expect(retry.body.error).toBe('invalid_grant');
  });

  test('a code expires 60 seconds after it was issued', async () => {
    const clock = createTestClock();
    const app = appWithClock(t, clock);
    const verifier = newVerifier();
    const stillValid = await logIn('client.one', password, verifier, {}, app);
    clock.advance(59);
    await exchange(stillValid, verifier, {}, app).expect(200);
    const code = await logIn('client.one', password, verifier, {}, app);
    clock.advance(60);
    const res = await exchange(code, verifier, {}, app).expect(400);
    expect(res.body).toEqual({ error: 'invalid_grant', error_description: 'code has expired (codes are valid for 60 seconds)' });
  });

  test('a code is single use; presenting it again revokes what it produced', async () => {
    const verifier = newVerifier();
    const code = await logIn('client.one', password, verifier);
    const first = await exchange(code, verifier).expect(200);
    const again = await exchange(code, verifier).expect(400);
    expect(again.body.error).toBe('invalid_grant');
    const res = await refresh(first.body.refresh_token).expect(400);
    expect(res.body).toEqual({ error: 'invalid_grant', error_description: 'refresh_token has been revoked; sign in again' });
  });

  test('presenting a code again also ends the access tokens it produced, with or without a refresh token (RFC 6749 4.1.2)', async () => {
    const fhirRead = (accessToken: string) => request(t.app).get(`/fhir/R4/${patientP1}`).set('Authorization', `Bearer ${accessToken}`);
    for (const scope of ['launch/patient offline_access patient/*.rs', 'launch/patient patient/*.rs']) {
      const verifier = newVerifier();
      const code = await logIn('client.one', password, verifier, { scope });
      const first = await exchange(code, verifier).expect(200);
      await fhirRead(first.body.access_token as string).expect(200);
      await exchange(code, verifier).expect(400);
      await fhirRead(first.body.access_token as string).expect(401);
    }
  });

  test('a code is bound to its redirect_uri and client', async () => {
    const verifier = newVerifier();
    const code = await logIn('client.one', password, verifier);
    const res = await exchange(code, verifier, { redirect_uri: 'https://app.example/other' }).expect(400);
    expect(res.body.error).toBe('invalid_grant');
    const unknownClient = await exchange(code, verifier, { client_id: 'someone-else' }).expect(401);
    expect(unknownClient.body.error).toBe('invalid_client');
  });

  test('refresh tokens rotate; reusing a rotated one revokes the whole family', async () => {
    const verifier = newVerifier();
    const code = await logIn('client.one', password, verifier);
    const first = (await exchange(code, verifier).expect(200)).body.refresh_token as string;
    const second = await refresh(first).expect(200);
    expect(second.body.refresh_token).not.toBe(first);
    expect(second.body.patient).toBe(patientP1.slice('Patient/'.length));
    await authenticateBearer(t.services, `Bearer ${second.body.access_token}`);
    const reuse = await refresh(first).expect(400);
    expect(reuse.body).toEqual({ error: 'invalid_grant', error_description: 'refresh_token was already used; the session is revoked' });
    // The legitimate holder's newer token went down with the family, and so did every access token of the session.
    const after = await refresh(second.body.refresh_token).expect(400);
    expect(after.body.error).toBe('invalid_grant');
    await request(t.app).get(`/fhir/R4/${patientP1}`).set('Authorization', `Bearer ${second.body.access_token}`).expect(401);
  });

  test('a refresh may narrow the scope but never widen it', async () => {
    const verifier = newVerifier();
    const code = await logIn('client.one', password, verifier, { scope: 'launch/patient offline_access patient/Observation.rs' });
    const first = await exchange(code, verifier).expect(200);
    expect(first.body.scope).toBe('launch/patient offline_access patient/Observation.rs');
    const widened = await refresh(first.body.refresh_token, { scope: 'launch/patient offline_access patient/*.cruds patient/Consent.cu' }).expect(200);
    expect(widened.body.scope).toBe('launch/patient offline_access patient/Observation.rs');
    const narrowed = await refresh(widened.body.refresh_token, { scope: 'patient/Observation.r' }).expect(200);
    expect(narrowed.body.scope).toBe('patient/Observation.r');
    // Narrowing one access token leaves the session's scope as granted.
    const again = await refresh(narrowed.body.refresh_token).expect(200);
    expect(again.body.scope).toBe('launch/patient offline_access patient/Observation.rs');
    const nothingInCommon = await refresh(again.body.refresh_token, { scope: 'patient/Consent.cu' }).expect(400);
    expect(nothingInCommon.body.error).toBe('invalid_scope');
    // Refused before the token was spent: the session goes on.
    await refresh(again.body.refresh_token).expect(200);
  });

  test('a session keeps the purposes of use it was signed in for: refreshes inherit them and may only narrow them', async () => {
    const verifier = newVerifier();
    const code = await logIn('client.one', password, verifier);
    const first = await exchange(code, verifier, { purpose_of_use: 'TREAT PATRQT' }).expect(200);
    expect(first.body.purpose_of_use).toBe('TREAT PATRQT');
    const inherited = await refresh(first.body.refresh_token).expect(200);
    expect(inherited.body.purpose_of_use).toBe('TREAT PATRQT');
    await expect(authenticateBearer(t.services, `Bearer ${inherited.body.access_token}`)).resolves.toMatchObject({ purposes: ['TREAT', 'PATRQT'] });
    const narrowed = await refresh(inherited.body.refresh_token, { purpose_of_use: 'PATRQT' }).expect(200);
    expect(narrowed.body.purpose_of_use).toBe('PATRQT');
    const widened = await refresh(narrowed.body.refresh_token, { purpose_of_use: 'TREAT HPAYMT' }).expect(400);
    expect(widened.body).toEqual({
      error: 'invalid_request',
      error_description: "purpose_of_use may only narrow this session's purposes (TREAT PATRQT)",
    });
    // The refused refresh spent nothing, and narrowing one access token left the session's purposes as they were.
    const after = await refresh(narrowed.body.refresh_token).expect(200);
    expect(after.body.purpose_of_use).toBe('TREAT PATRQT');

    // A session signed in without purposes stays unrestricted, and a refresh may name any.
    const unrestrictedVerifier = newVerifier();
    const unrestricted = await exchange(await logIn('client.one', password, unrestrictedVerifier), unrestrictedVerifier).expect(200);
    expect(unrestricted.body).not.toHaveProperty('purpose_of_use');
    const named = await refresh(unrestricted.body.refresh_token, { purpose_of_use: 'HPAYMT' }).expect(200);
    expect(named.body.purpose_of_use).toBe('HPAYMT');
    expect((await refresh(named.body.refresh_token).expect(200)).body).not.toHaveProperty('purpose_of_use');
  });

  test('a refresh token is bound to its app: another client_id gets invalid_grant and the token stays usable', async () => {
    const verifier = newVerifier();
    const code = await logIn('client.one', password, verifier);
    const tokens = await exchange(code, verifier).expect(200);
    const stolen = await refresh(tokens.body.refresh_token, { client_id: otherAppId }).expect(400);
    expect(stolen.body).toEqual({ error: 'invalid_grant', error_description: 'refresh_token is not valid for this client' });
    await refresh(tokens.body.refresh_token).expect(200);
  });

  test('online_access: the session ends 12 hours after sign-in, however often it is refreshed; offline_access lives on', async () => {
    const clock = createTestClock();
    const app = appWithClock(t, clock);
    const online = newVerifier();
    const onlineCode = await logIn('client.one', password, online, { scope: 'launch/patient online_access patient/*.rs' }, app);
    let onlineTokens = (await exchange(onlineCode, online, {}, app).expect(200)).body as { refresh_token: string; expires_in: number; scope: string };
    expect(onlineTokens.scope).toBe('launch/patient online_access patient/*.rs');
    const offline = newVerifier();
    const offlineCode = await logIn('client.one', password, offline, { scope: 'launch/patient offline_access patient/*.rs' }, app);
    let offlineTokens = (await exchange(offlineCode, offline, {}, app).expect(200)).body as { refresh_token: string };
    for (let hour = 0; hour < 11; hour++) {
      clock.advance(3600);
      onlineTokens = (await refresh(onlineTokens.refresh_token, {}, app).expect(200)).body as typeof onlineTokens;
      offlineTokens = (await refresh(offlineTokens.refresh_token, {}, app).expect(200)).body as typeof offlineTokens;
    }
    // 11 h 30 min after sign-in: the access token ends with the session, 30 minutes later.
    clock.advance(1800);
    onlineTokens = (await refresh(onlineTokens.refresh_token, {}, app).expect(200)).body as typeof onlineTokens;
    expect(onlineTokens.expires_in).toBeGreaterThan(1790);
    expect(onlineTokens.expires_in).toBeLessThanOrEqual(1800);
    clock.advance(1801);
    const ended = await refresh(onlineTokens.refresh_token, {}, app).expect(400);
    expect(ended.body).toEqual({ error: 'invalid_grant', error_description: 'refresh_token has expired; sign in again' });
    await refresh(offlineTokens.refresh_token, {}, app).expect(200);
  });

  test('wrong credentials re-render the form with a generic error and 401', async () => {
    for (const [username, userPassword] of [
      ['client.one', 'not the password at all'],
      ['nobody.here', 'not the password at all'],
    ]) {
      const res = await signIn({ ...authorizeQuery(), username: username as string, password: userPassword as string }).expect(401);
      expect(res.text).toContain('role="alert"');
      expect(res.text).toContain('The username or password is not correct.');
      expect(res.text).not.toContain('not the password at all');
    }
  });

  test('failed logins slow one username from one address (429 with Retry-After), never its owner elsewhere', async () => {
    await createUser('throttled', { fhirUser: patientP1 });
    const attacker = newAddress();
    for (let i = 0; i < FREE_FAILURES_PER_PAIR + 1; i++) {
      await signIn({ ...authorizeQuery(), username: 'throttled', password: 'wrong password here' }, t.app, attacker).expect(401);
    }
    const waiting = await signIn({ ...authorizeQuery(), username: 'throttled', password }, t.app, attacker).expect(429);
    expect(Number(waiting.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(waiting.headers['retry-after'])).toBeLessThanOrEqual(pairDelaySeconds(FREE_FAILURES_PER_PAIR + 1));
    // Five wrong passwords from someone else do not lock the owner out: from another address they sign in at once.
    await signIn({ ...authorizeQuery(), username: 'throttled', password }).expect(302);
  });

  test('past the wait the pair may try again, and the next failure doubles the wait', async () => {
    await createUser('slowed', { fhirUser: patientP1 });
    const clock = createTestClock();
    const app = appWithClock(t, clock);
    const attacker = newAddress();
    for (let i = 0; i < FREE_FAILURES_PER_PAIR + 1; i++) {
      await signIn({ ...authorizeQuery(), username: 'slowed', password: 'wrong password here' }, app, attacker).expect(401);
    }
    await signIn({ ...authorizeQuery(), username: 'slowed', password: 'wrong password here' }, app, attacker).expect(429);
    clock.advance(pairDelaySeconds(FREE_FAILURES_PER_PAIR + 1) + 1);
    await signIn({ ...authorizeQuery(), username: 'slowed', password: 'wrong password here' }, app, attacker).expect(401);
    const waiting = await signIn({ ...authorizeQuery(), username: 'slowed', password }, app, attacker).expect(429);
    expect(Number(waiting.headers['retry-after'])).toBeGreaterThan(pairDelaySeconds(FREE_FAILURES_PER_PAIR + 1));
    clock.advance(pairDelaySeconds(FREE_FAILURES_PER_PAIR + 2) + 1);
    await signIn({ ...authorizeQuery(), username: 'slowed', password }, app, attacker).expect(302);
  });

  test('the wait of one username from one address doubles with each further failure, up to 15 minutes', () => {
    const waits = Array.from({ length: 12 }, (_, i) => pairDelaySeconds(i + 1));
    expect(waits).toEqual([0, 0, 0, 0, 15, 30, 60, 120, 240, 480, 900, 900]);
  });

  test('failed logins are limited per address: the 31st failure from one address is 429, other addresses go on', async () => {
    const address = newAddress();
    for (let i = 0; i < 30; i++) {
      await signIn({ ...authorizeQuery(), username: `guess-${i}`, password: 'wrong password here' }, t.app, address).expect(401);
    }
    const res = await signIn({ ...authorizeQuery(), username: 'guess-30', password: 'wrong password here' }, t.app, address).expect(429);
    expect(res.text).toContain('Too many unsuccessful attempts');
    // Even the right credentials wait out the window from that address; elsewhere the user signs in.
    await signIn({ ...authorizeQuery(), username: 'client.one', password }, t.app, address).expect(429);
    await signIn({ ...authorizeQuery(), username: 'client.one', password }).expect(302);
  }, 60_000);

  describe('the sign-in form completes only from this server\'s form, in the browser it was shown to (CSRF)', () => {
    const credentials = () => ({ ...authorizeQuery(), username: 'client.one', password });

    test('a browser shown the form signs in: an HttpOnly SameSite=Strict cookie and the form\'s csrf_token', async () => {
      const page = await request(t.app).get('/oauth2/authorize').query(authorizeQuery()).expect(200);
      expect(page.headers['referrer-policy']).toBe('same-origin');
      const setCookie = (page.headers['set-cookie'] as unknown as string[])[0] ?? '';
      expect(setCookie).toMatch(/^carecircle_signin=[A-Za-z0-9_-]{43};/);
      expect(setCookie).toMatch(/HttpOnly/);
      expect(setCookie).toMatch(/SameSite=Strict/);
      const token = /name="csrf_token" value="([^"]+)"/.exec(page.text)?.[1] as string;
      const res = await request(t.app)
        .post('/oauth2/authorize')
        .set('X-Forwarded-For', newAddress())
        .set('Cookie', setCookie.split(';')[0] as string)
        .set('Origin', TEST_BASE_URL)
        .type('form')
        .send({ ...credentials(), csrf_token: token })
        .expect(302);
      expect(new URL(res.headers.location as string).searchParams.get('code')).toBeTruthy();
    });

    test('a cross-site POST (another Origin, Origin null, another Referer) is 403 and yields no code', async () => {
      const binding = signInFormBinding(t, clientId);
      for (const [header, value] of [
        ['Origin', 'https://evil.example'],
        ['Origin', 'null'],
        ['Referer', 'https://evil.example/page'],
      ] as const) {
        const res = await request(t.app)
          .post('/oauth2/authorize')
          .set('X-Forwarded-For', newAddress())
          .set('Cookie', binding.cookie)
          .set(header, value)
          .type('form')
          .send({ ...credentials(), csrf_token: binding.csrf_token })
          .expect(403);
        expect(res.headers.location).toBeUndefined();
        expect(res.text).toContain('not sent from the CareCircle sign-in page');
      }
    });

    test('without the cookie, or with a token made for another cookie or app, it is 403 with a fresh form and no code', async () => {
      const mine = signInFormBinding(t, clientId);
      const other = signInFormBinding(t, clientId);
      const forOtherApp = signInFormBinding(t, otherAppId);
      for (const [cookie, token] of [
        [undefined, undefined],
        [undefined, mine.csrf_token],
        [mine.cookie, undefined],
        [mine.cookie, other.csrf_token],
        [forOtherApp.cookie, forOtherApp.csrf_token],
      ] as const) {
        const post = request(t.app).post('/oauth2/authorize').set('X-Forwarded-For', newAddress());
        const res = await (cookie ? post.set('Cookie', cookie) : post)
          .type('form')
          .send({ ...credentials(), ...(token ? { csrf_token: token } : {}) })
          .expect(403);
        expect(res.headers.location).toBeUndefined();
        expect(res.text).toContain('This sign-in form has expired');
        expect(res.text).toMatch(/name="csrf_token" value="[A-Za-z0-9_-]{43}"/);
      }
    });
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
    const res = await signIn({ ...authorizeQuery({ scope: 'patient/Observation.cud system/*.rs' }), username: 'client.one', password }).expect(302);
    expect(new URL(res.headers.location as string).searchParams.get('error')).toBe('invalid_scope');
  });

  test('an unknown purpose_of_use is invalid_request', async () => {
    const verifier = newVerifier();
    const code = await logIn('client.one', password, verifier);
    const res = await exchange(code, verifier, { purpose_of_use: 'TREAT MARKETING' }).expect(400);
    expect(res.body.error).toBe('invalid_request');
  });

  test('a disabled user cannot log in, and refresh says truthfully why it stopped working', async () => {
    const userId = await createUser('leaving', { fhirUser: patientP1 });
    const verifier = newVerifier();
    const code = await logIn('leaving', password, verifier);
    const tokens = await exchange(code, verifier).expect(200);
    await request(t.app).post(`/admin/users/${userId}/disable`).set('Authorization', admin()).expect(200);
    await expect(authenticateBearer(t.services, `Bearer ${tokens.body.access_token}`)).rejects.toThrow();
    const res = await refresh(tokens.body.refresh_token).expect(400);
    expect(res.body).toEqual({ error: 'invalid_grant', error_description: 'the user or the app has been disabled' });
    await signIn({ ...authorizeQuery(), username: 'leaving', password }).expect(401);
  });

  test('without Redis: sign-in and code redemption answer 503 with Retry-After; refresh (Postgres only) still works', async () => {
    const verifier = newVerifier();
    const code = await logIn('client.one', password, verifier);
    const tokens = await exchange(code, verifier).expect(200);
    const down = appWithoutRedis(t);
    try {
      const page = await signIn({ ...authorizeQuery(), username: 'client.one', password }, down.app).expect(503);
      expect(page.headers['retry-after']).toBe('5');
      expect(page.text).toContain('not possible at the moment');
      const redeem = await exchange('any-code', verifier, {}, down.app).expect(503);
      expect(redeem.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
      expect(redeem.headers['retry-after']).toBe('5');
      expect(redeem.headers['cache-control']).toBe('no-store');
      const refreshed = await refresh(tokens.body.refresh_token, {}, down.app).expect(200);
      await request(down.app).get(`/fhir/R4/${patientP1}`).set('Authorization', `Bearer ${refreshed.body.access_token}`).expect(200);
    } finally {
      down.disconnect();
    }
  }, 30_000);
});
