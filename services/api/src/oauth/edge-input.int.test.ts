/**
 * Hostile and malformed input to the OAuth endpoints over HTTP (in-process app, real PostgreSQL and Redis). Each
 * endpoint answers in its own format, never with an OperationOutcome and never with a 500: the token endpoint RFC 6749
 * JSON with `Cache-Control: no-store`, the browser-facing authorization endpoint an HTML page. Each block names the
 * audit finding it protects.
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { computeCodeChallenge } from '@carecircle/auth';
import { buildOrganization, buildPatient } from '@carecircle/testing';
import request from 'supertest';
import { CLIENT_ASSERTION_TYPE, createAsAdmin, registerApp, registerSystemClient, signAssertion, type ClientKey } from '../smart-test-clients';
import { openAuthTestApp, TEST_BASE_URL, type AuthTestApp } from './auth-test-app';

const REDIRECT_URI = 'https://app.example/callback';
const FORM = 'application/x-www-form-urlencoded';

let t: AuthTestApp;
let appId: string;
let systemClient: { clientId: string; key: ClientKey };
const password = 'a long enough password';

interface Answer {
  status: number;
  headers: Record<string, string | undefined>;
  body: unknown;
  text: string;
}

/** Expects RFC 6749 error JSON with `status` and `error`, never cached. */
function expectOAuthError(res: Answer, status: number, error: string): void {
  expect({ status: res.status, contentType: res.headers['content-type'], body: res.body }).toEqual({
    status,
    contentType: expect.stringMatching(/^application\/json/),
    body: { error, error_description: expect.any(String) },
  });
  expect(res.headers['cache-control']).toBe('no-store');
}

/** Expects the authorization endpoint's HTML error page with `status`: no redirect, never cached, an alert to read. */
function expectErrorPage(res: Answer, status: number): void {
  expect({ status: res.status, contentType: res.headers['content-type'], location: res.headers.location }).toEqual({
    status,
    contentType: expect.stringMatching(/^text\/html/),
    location: undefined,
  });
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.text).toContain('<html lang="en">');
  expect(res.text).toContain('role="alert"');
}

/** A token request with the form exactly as written (so it can repeat fields or hold escapes). */
function postToken(form: string) {
  return request(t.app).post('/oauth2/token').set('Content-Type', FORM).send(form);
}

/** The authorization request's fields, URL-encoded, with `overrides` (undefined leaves a field out). */
function authorizeFields(overrides: Record<string, string | undefined> = {}): URLSearchParams {
  const fields: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: appId,
    redirect_uri: REDIRECT_URI,
    scope: 'launch/patient patient/*.rs',
    state: 'state-123',
    code_challenge: computeCodeChallenge(randomBytes(32).toString('base64url')),
    code_challenge_method: 'S256',
    aud: `${TEST_BASE_URL}/fhir/R4`,
    ...overrides,
  };
  return new URLSearchParams(Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined));
}

beforeAll(async () => {
  t = await openAuthTestApp();
  const practice = await createAsAdmin(t, buildOrganization({ name: 'Practice' }));
  const patient = await createAsAdmin(t, buildPatient({ managingOrganization: { reference: practice } }));
  appId = await registerApp(t, 'launch/patient patient/*.rs');
  systemClient = await registerSystemClient(t, practice, 'system/Patient.rs');
  await request(t.app)
    .post('/admin/users')
    .set('Authorization', `Bearer ${t.services.config.adminToken}`)
    .send({ username: 'client.edge', password, fhirUser: patient })
    .expect(201);
});
afterAll(async () => {
  await t.close();
});

describe('D4: the token endpoint answers every bad request as RFC 6749 JSON', () => {
  test.each<[string, () => string, number, string]>([
    ['NUL in the client_id of a refresh', () => 'grant_type=refresh_token&refresh_token=x&client_id=a%00b', 400, 'invalid_request'],
    [
      'NUL in the client_id of a code redemption',
      () => `grant_type=authorization_code&code=x&code_verifier=${'v'.repeat(43)}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&client_id=a%00b`,
      400,
      'invalid_request',
    ],
    ['NUL in a parameter name', () => 'grant_type=refresh_token&refresh_token=x&client_id=a&x%00=1', 400, 'invalid_request'],
    ['grant_type given twice', () => 'grant_type=client_credentials&grant_type=client_credentials', 400, 'invalid_request'],
    ['refresh_token given twice', () => `grant_type=refresh_token&refresh_token=x&refresh_token=y&client_id=${appId}`, 400, 'invalid_request'],
    ['a client_id that is not UTF-8', () => `grant_type=refresh_token&refresh_token=x&client_id=%FF${appId}`, 400, 'invalid_request'],
    ['a form larger than 32 kB', () => `grant_type=refresh_token&client_id=${appId}&refresh_token=${'x'.repeat(40_000)}`, 413, 'invalid_request'],
  ])('%s', async (_name, form, status, error) => {
    expectOAuthError(await postToken(form()), status, error);
  });

  test('a repeated parameter is named in the description', async () => {
    const res = await postToken('grant_type=client_credentials&grant_type=client_credentials');
    expect(res.body.error_description).toBe('grant_type may appear only once');
  });

  test.each([
    ['NUL in iss', { iss: 'a\u0000b' }],
    ['an unpaired surrogate in iss', { iss: 'a\ud800' }],
    ['NUL in sub', { sub: 'a\u0000b' }],
  ])('a client assertion with %s is invalid_client (401)', async (_name, claims) => {
    const assertion = signAssertion(t, systemClient.key, systemClient.clientId, claims);
    const res = await request(t.app)
      .post('/oauth2/token')
      .type('form')
      .send({ grant_type: 'client_credentials', scope: 'system/Patient.rs', client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion });
    expectOAuthError(res, 401, 'invalid_client');
  });

  test.each(['gzip', 'deflate', 'br', 'zstd', 'compress'])('Content-Encoding %s on a plain body is invalid_request', async (encoding) => {
    const res = await request(t.app).post('/oauth2/token').set('Content-Type', FORM).set('Content-Encoding', encoding).send('grant_type=client_credentials');
    expectOAuthError(res, 400, 'invalid_request');
  });

  test('a gzip body that really is gzip is read', async () => {
    const res = await request(t.app)
      .post('/oauth2/token')
      .set('Content-Type', FORM)
      .set('Content-Encoding', 'gzip')
      .serialize((bytes: unknown) => bytes as string)
      .send(gzipSync('grant_type=password'));
    expectOAuthError(res, 400, 'unsupported_grant_type');
  });
});

describe('D9: the authorization endpoint answers bad requests with its HTML page', () => {
  test('NUL in client_id (GET) is the error page, not an OperationOutcome', async () => {
    const res = await request(t.app).get(`/oauth2/authorize?${authorizeFields({ client_id: undefined })}&client_id=a%00`);
    expectErrorPage(res, 400);
    expect(res.text).toContain('not registered');
  });

  test('a query that is not UTF-8 is the error page', async () => {
    expectErrorPage(await request(t.app).get(`/oauth2/authorize?${authorizeFields({ state: undefined })}&state=%FF`), 400);
  });

  test('NUL in the username (POST) shows the form again with the generic error, 400, and no lookup', async () => {
    const res = await request(t.app).post('/oauth2/authorize').set('Content-Type', FORM).send(`${authorizeFields()}&username=client.edge%00&password=x`);
    expect({ status: res.status, contentType: res.headers['content-type'] }).toEqual({ status: 400, contentType: expect.stringMatching(/^text\/html/) });
    expect(res.text).toContain('The username or password is not correct.');
    expect(res.text).not.toContain('\u0000');
  });

  test('a form larger than 32 kB is the error page with 413', async () => {
    const res = await request(t.app).post('/oauth2/authorize').set('Content-Type', FORM).send(`${authorizeFields()}&username=${'u'.repeat(40_000)}&password=x`);
    expectErrorPage(res, 413);
  });

  test('a form that is not UTF-8, or in an encoding it is not in, is the error page', async () => {
    expectErrorPage(await request(t.app).post('/oauth2/authorize').set('Content-Type', FORM).send(`${authorizeFields()}&username=%FF&password=x`), 400);
    const gzipped = await request(t.app).post('/oauth2/authorize').set('Content-Type', FORM).set('Content-Encoding', 'gzip').send(authorizeFields().toString());
    expectErrorPage(gzipped, 400);
  });

  test('a state too long to send back is shown, not redirected with it echoed', async () => {
    const state = 's'.repeat(10_000);
    for (const overrides of [{ state }, { state, response_type: 'token' }]) {
      const res = await request(t.app).get(`/oauth2/authorize?${authorizeFields(overrides)}`);
      expectErrorPage(res, 400);
      expect(res.text).toContain('longer than 1024 characters');
      expect(res.text).not.toContain(state);
    }
    // 1024 characters are still fine.
    expect((await request(t.app).get(`/oauth2/authorize?${authorizeFields({ state: 's'.repeat(1024) })}`)).status).toBe(200);
  });

  test('a state holding NUL is shown too; a missing state still goes back to the app', async () => {
    expectErrorPage(await request(t.app).get(`/oauth2/authorize?${authorizeFields({ state: 'a\u0000b' })}`), 400);
    const missing = await request(t.app).get(`/oauth2/authorize?${authorizeFields({ state: undefined })}`).expect(302);
    expect(new URL(missing.headers.location as string).searchParams.get('error_description')).toBe('state is required');
  });

  test('a parameter given twice: client_id or redirect_uri (or state) is the page; another goes back as invalid_request', async () => {
    expectErrorPage(await request(t.app).get(`/oauth2/authorize?${authorizeFields()}&client_id=${appId}`), 400);
    expectErrorPage(await request(t.app).get(`/oauth2/authorize?${authorizeFields()}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`), 400);
    expectErrorPage(await request(t.app).get(`/oauth2/authorize?${authorizeFields()}&state=other`), 400);
    const scope = await request(t.app).get(`/oauth2/authorize?${authorizeFields()}&scope=patient/*.rs`).expect(302);
    const location = new URL(scope.headers.location as string);
    expect([location.searchParams.get('error'), location.searchParams.get('error_description'), location.searchParams.get('state')]).toEqual([
      'invalid_request',
      'scope may appear only once',
      'state-123',
    ]);
    // Posted with credentials, the same.
    const posted = await request(t.app).post('/oauth2/authorize').set('Content-Type', FORM).send(`${authorizeFields()}&scope=patient/*.rs&username=client.edge&password=${encodeURIComponent(password)}`);
    expect(posted.status).toBe(302);
    expect(new URL(posted.headers.location as string).searchParams.get('error')).toBe('invalid_request');
  });
});
