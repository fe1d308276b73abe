/**
 * The sign-in page as an app's user meets it: which app asks and what for in plain words, English or Spanish
 * (ui_locales, else Accept-Language), a neutral title, the Cancel button (RFC 6749 access_denied, held to the same
 * CSRF checks as signing in), accessible markup, a CSP without 'unsafe-inline', and the error page for requests that
 * cannot be sent back to the app.
 */
import { createHash, randomBytes } from 'node:crypto';
import { computeCodeChallenge } from '@carecircle/auth';
import { buildOrganization, buildPatient } from '@carecircle/testing';
import request from 'supertest';
import { createAsAdmin, signInFormBinding } from '../smart-test-clients';
import { openAuthTestApp, TEST_BASE_URL, type AuthTestApp } from './auth-test-app';

const REDIRECT_URI = 'https://portal.example/callback';

describe('the sign-in page', () => {
  let t: AuthTestApp;
  let appId: string;
  const admin = () => `Bearer ${t.services.config.adminToken}`;

  function authorizeQuery(overrides: Record<string, string | undefined> = {}): Record<string, string> {
    const query: Record<string, string | undefined> = {
      response_type: 'code',
      client_id: appId,
      redirect_uri: REDIRECT_URI,
      scope: 'offline_access patient/*.rs patient/Consent.cu',
      state: 'state-42',
      code_challenge: computeCodeChallenge(randomBytes(32).toString('base64url')),
      code_challenge_method: 'S256',
      aud: `${TEST_BASE_URL}/fhir/R4`,
      ...overrides,
    };
    return Object.fromEntries(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined));
  }

  const show = (query: Record<string, string>, acceptLanguage?: string) => {
    const req = request(t.app).get('/oauth2/authorize').query(query);
    return acceptLanguage ? req.set('Accept-Language', acceptLanguage) : req;
  };

  /** Posts the form as the browser it was shown to (its cookie and csrf_token), optionally overriding either. */
  const post = (fields: Record<string, string>, binding = signInFormBinding(t, appId)) =>
    request(t.app).post('/oauth2/authorize').set('Cookie', binding.cookie).type('form').send({ csrf_token: binding.csrf_token, ...fields });

  beforeAll(async () => {
    t = await openAuthTestApp();
    const practice = await createAsAdmin(t, buildOrganization({ name: 'Practice' }));
    const patient = await createAsAdmin(t, buildPatient({ managingOrganization: { reference: practice } }));
    await request(t.app).post('/admin/users').set('Authorization', admin()).send({ username: 'alex.client', password: 'a long client password', fhirUser: patient }).expect(201);
    appId = (
      await request(t.app)
        .post('/admin/clients')
        .set('Authorization', admin())
        .send({ name: 'Sharing <Portal>', redirect_uris: [REDIRECT_URI], scope: 'offline_access patient/*.rs patient/Consent.cu' })
        .expect(201)
    ).body.client_id;
  });
  afterAll(async () => {
    await t.close();
  });

  test('names the app and says in plain words what it asks for, under a neutral title', async () => {
    const res = await show(authorizeQuery()).expect(200);
    expect(res.text).toContain('<title>CareCircle</title>');
    expect(res.text).toContain('Sharing &lt;Portal&gt; is asking to:');
    expect(res.text).toContain('<li>See your CareCircle record (never your therapist&#39;s psychotherapy notes)</li>');
    expect(res.text).toContain('<li>Give, change and stop sharing permissions</li>');
    expect(res.text).toContain('<li>Keep you signed in until you sign out');
  });

  test('is accessible: lang, main landmark, labels, autocomplete, error region linked to the fields', async () => {
    const res = await show(authorizeQuery()).expect(200);
    expect(res.text).toContain('<html lang="en">');
    expect(res.headers['content-language']).toBe('en');
    expect(res.text).toMatch(/<main>[\s\S]*<h1>Sign in to CareCircle<\/h1>[\s\S]*<\/main>/);
    expect(res.text).toContain('<label for="username">Username</label>');
    expect(res.text).toContain('<label for="password">Password</label>');
    expect(res.text).toContain('autocomplete="username"');
    expect(res.text).toContain('autocomplete="current-password"');
    expect(res.text).toContain(':focus-visible{');
    const failed = await post({ ...authorizeQuery(), username: 'alex.client', password: 'not the password' }).set('X-Forwarded-For', '203.0.113.9').expect(401);
    expect(failed.text).toContain('<p class="error" id="login-error" role="alert">The username or password is not correct.</p>');
    expect(failed.text).toMatch(/id="username"[^>]*aria-describedby="login-error" aria-invalid="true"/);
    expect(failed.text).toMatch(/id="password"[^>]*aria-describedby="login-error" aria-invalid="true"/);
  });

  test('the CSP allows the page\'s one stylesheet by its hash, and no inline style or script beyond it', async () => {
    const res = await show(authorizeQuery()).expect(200);
    const csp = res.headers['content-security-policy'] as string;
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("default-src 'none'");
    const style = /<style>([\s\S]*?)<\/style>/.exec(res.text)?.[1] as string;
    expect(csp).toContain(`style-src 'sha256-${createHash('sha256').update(style).digest('base64')}'`);
    expect(res.text).not.toContain('<script');
    expect(res.text).not.toContain(' style=');
  });

  test('speaks Spanish for ui_locales=es, carried through the form, and for a Spanish browser', async () => {
    const res = await show(authorizeQuery({ ui_locales: 'es-MX en' })).expect(200);
    expect(res.text).toContain('<html lang="es">');
    expect(res.headers['content-language']).toBe('es');
    expect(res.text).toContain('<label for="username">Usuario</label>');
    expect(res.text).toContain('<label for="password">Contraseña</label>');
    expect(res.text).toContain('>Iniciar sesión</button>');
    expect(res.text).toContain('>Cancelar</button>');
    expect(res.text).toContain('<li>Dar, cambiar y retirar permisos para compartir</li>');
    expect(res.text).toContain('<title>CareCircle</title>');
    expect(res.text).toContain('<input type="hidden" name="ui_locales" value="es-MX en">');
    // The form posted back keeps the language (a wrong password: the form again, in Spanish).
    const again = await post({ ...authorizeQuery({ ui_locales: 'es-MX en' }), username: 'alex.client', password: 'wrong password!' })
      .set('X-Forwarded-For', '203.0.113.10')
      .expect(401);
    expect(again.text).toContain('<html lang="es">');
    expect(again.text).toContain('El usuario o la contraseña no son correctos.');

    const browser = await show(authorizeQuery(), 'es-ES,es;q=0.9,en;q=0.8').expect(200);
    expect(browser.text).toContain('<html lang="es">');
    // ui_locales goes first.
    expect((await show(authorizeQuery({ ui_locales: 'en' }), 'es').expect(200)).text).toContain('<html lang="en">');
    expect((await show(authorizeQuery(), 'fr').expect(200)).text).toContain('<html lang="en">');
  });

  test('Cancel is a second submit button of the form, exempt from the required-field check', async () => {
    const res = await show(authorizeQuery()).expect(200);
    expect(res.text).toContain('<button type="submit" class="primary" name="decision" value="sign-in">Sign in</button>');
    expect(res.text).toMatch(/<button type="submit" class="secondary" name="decision" value="cancel" formnovalidate[^>]*>Cancel<\/button>/);
  });

  test('Cancel redirects to the app with error=access_denied and its state', async () => {
    const res = await post({ ...authorizeQuery(), decision: 'cancel', username: '', password: '' }).expect(302);
    const location = new URL(res.headers.location as string);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('state')).toBe('state-42');
    expect(location.searchParams.get('code')).toBeNull();
    // Without the fields at all, too.
    await post({ ...authorizeQuery(), decision: 'cancel' }).expect(302);
  });

  test('Cancel is held to the sign-in\'s CSRF checks: another site is 403, a missing or foreign token 403 with a fresh form', async () => {
    const crossSite = await post({ ...authorizeQuery(), decision: 'cancel' }).set('Origin', 'https://evil.example').expect(403);
    expect(crossSite.headers.location).toBeUndefined();
    expect(crossSite.text).toContain('not sent from the CareCircle sign-in page');
    const noToken = await request(t.app).post('/oauth2/authorize').type('form').send({ ...authorizeQuery(), decision: 'cancel' }).expect(403);
    expect(noToken.headers.location).toBeUndefined();
    expect(noToken.text).toContain('This sign-in form has expired');
    const otherBrowser = signInFormBinding(t, appId);
    const mixed = await post({ ...authorizeQuery(), decision: 'cancel' }, { cookie: signInFormBinding(t, appId).cookie, csrf_token: otherBrowser.csrf_token }).expect(403);
    expect(mixed.headers.location).toBeUndefined();
  });

  test('a bare GET is an accessible 400 page saying client_id is missing; nothing is redirected', async () => {
    const res = await request(t.app).get('/oauth2/authorize').expect(400);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain('<html lang="en">');
    expect(res.text).toContain('<title>CareCircle</title>');
    expect(res.text).toContain('<h1>This sign-in cannot continue</h1>');
    expect(res.text).toContain('role="alert"');
    expect(res.text).toContain('The request has no client_id');
    expect(res.headers['content-security-policy']).not.toContain('unsafe-inline');
  });

  test.each<[string, Record<string, string | undefined>, string]>([
    ['an unknown client', { client_id: 'no-such-app' }, 'client_id does not name an enabled app'],
    ['an unregistered redirect_uri', { redirect_uri: 'https://evil.example/cb' }, 'redirect_uri is missing, or is not exactly one'],
    ['no redirect_uri', { redirect_uri: undefined }, 'redirect_uri is missing'],
    ['a state too long to send back', { state: 'x'.repeat(1025) }, 'state is longer than 1024 characters'],
  ])('%s is a 400 page naming what the developer should fix', async (_name, overrides, developerText) => {
    const res = await show(authorizeQuery(overrides)).expect(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.text).toContain("For the app&#39;s developer:");
    expect(res.text).toContain(developerText);
  });

  test('the error page speaks Spanish too', async () => {
    const res = await show(authorizeQuery({ client_id: 'no-such-app', ui_locales: 'es' })).expect(400);
    expect(res.text).toContain('<html lang="es">');
    expect(res.text).toContain('<h1>Este inicio de sesión no puede continuar</h1>');
    expect(res.text).toContain('Esta aplicación no está registrada en CareCircle');
  });

  test.each<[string, Record<string, string | undefined>, string]>([
    ['no PKCE', { code_challenge: undefined }, 'invalid_request'],
    ['PKCE plain', { code_challenge_method: 'plain' }, 'invalid_request'],
    ['response_type token', { response_type: 'token' }, 'unsupported_response_type'],
    ['another aud', { aud: 'https://other.example/fhir' }, 'invalid_request'],
  ])('%s goes back to the registered redirect_uri with error= and state (RFC 6749 4.1.2.1)', async (_name, overrides, error) => {
    const res = await show(authorizeQuery(overrides)).expect(302);
    const location = new URL(res.headers.location as string);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.searchParams.get('error')).toBe(error);
    expect(location.searchParams.get('state')).toBe('state-42');
  });
});
