/**
 * The portal's front door in Chromium: the start page, signing in through the API's sign-in page (and cancelling it),
 * Spanish from the browser and by the switch, signing out and out everywhere, the headers that keep a page private,
 * and axe-core (WCAG 2.0-2.2 A/AA) on every page met on the way.
 */
import { axeViolations, signInThroughPortal, SIGN_IN_LABELS, startPortalSystem, type PortalSystem } from '../../support/portal-system';

jest.setTimeout(180_000);

let system: PortalSystem;

beforeAll(async () => {
  system = await startPortalSystem();
});

afterAll(async () => {
  await system?.stop();
});

describe('signing in to the portal', () => {
  test('a client signs in through the API sign-in page and lands on the sharing overview; each page is axe clean', async () => {
    const context = await system.newContext();
    const page = await context.newPage();
    await page.goto('/portal/');
    expect(await page.title()).toBe('CareCircle');
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.waitForURL(/\/oauth2\/authorize/);
    expect(await page.title()).toBe('CareCircle');
    expect(await axeViolations(page)).toEqual([]);
    await page.getByLabel('Username').fill(system.state.people.alex.username);
    await page.getByLabel('Password').fill(system.state.people.alex.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(/\/portal\/$/);
    await expect(page.getByRole('navigation', { name: 'Main' }).isVisible()).resolves.toBe(true);
    expect(await axeViolations(page)).toEqual([]);
    // The browser holds only the session cookie: HttpOnly, SameSite, scoped to the portal; no token anywhere.
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'carecircle_portal');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/portal' });
    expect(JSON.stringify(cookies)).not.toMatch(/eyJ/);
    await context.close();
  });

  test('cancelling on the sign-in page comes back to the portal signed out, saying nothing changed', async () => {
    const context = await system.newContext();
    const page = await context.newPage();
    await page.goto('/portal/sign-in');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.waitForURL(/\/portal\/callback/);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('You did not sign in');
    expect(await axeViolations(page)).toEqual([]);
    await context.close();
  });

  test('a bare or broken sign-in request gets a page that says what is wrong, in plain words, axe clean', async () => {
    const context = await system.newContext();
    const page = await context.newPage();
    const bare = await page.goto('/oauth2/authorize');
    expect(bare?.status()).toBe(400);
    expect(await page.title()).toBe('CareCircle');
    await expect(page.getByRole('heading', { level: 1 }).isVisible()).resolves.toBe(true);
    await expect(page.getByRole('alert').textContent()).resolves.toBe('The app did not say which app it is.');
    // And, for the app's developer, what to fix.
    await expect(page.locator('main').textContent()).resolves.toContain('client_id');
    expect(await axeViolations(page)).toEqual([]);
    const unknown = await page.goto('/oauth2/authorize?response_type=code&client_id=nobody&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&state=x');
    expect(unknown?.status()).toBe(400);
    expect(page.url()).toContain('/oauth2/authorize');
    expect(await axeViolations(page)).toEqual([]);
    await context.close();
  });

  test('a Spanish browser gets Spanish, the switch changes it, and the sign-in page follows', async () => {
    const context = await system.newContext({ locale: 'es-ES' });
    const page = await context.newPage();
    await page.goto('/portal/');
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('es');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Sus decisiones sobre compartir');
    await page.getByRole('link', { name: 'View in English' }).click();
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('en');
    await page.getByRole('link', { name: 'Ver en español' }).click();
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('es');
    await signInThroughPortal(page, system.state, 'jordan', SIGN_IN_LABELS.es);
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('es');
    expect(await axeViolations(page)).toEqual([]);
    await context.close();
  });

  test('pages are never cached, are framed by no one, and allow only our own script and style', async () => {
    const res = await fetch(`${system.baseUrl}/portal/`);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
  });

  test('signing out ends the session; signing out on all devices ends the other browser’s too', async () => {
    const first = await system.newContext();
    const second = await system.newContext();
    const a = await first.newPage();
    const b = await second.newPage();
    await signInThroughPortal(a, system.state, 'alex');
    await signInThroughPortal(b, system.state, 'alex');
    await a.getByRole('button', { name: 'Sign out on all devices' }).click();
    await a.waitForURL(/\/portal\/signed-out/);
    await expect(a.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('You are signed out');
    expect(await axeViolations(a)).toEqual([]);
    // The other browser's next page is the start page again: its session is gone.
    await b.goto('/portal/');
    await expect(b.getByRole('link', { name: 'Sign in' }).isVisible()).resolves.toBe(true);
    await expect(b.getByRole('navigation', { name: 'Main' }).count()).resolves.toBe(0);
    await first.close();
    await second.close();
  });

  test('a form posted without its token, or from another site, changes nothing and says the form expired', async () => {
    const context = await system.newContext();
    const page = await context.newPage();
    await signInThroughPortal(page, system.state, 'alex');
    const status = await page.evaluate(async () => {
      const res = await fetch('/portal/sign-out', { method: 'POST', body: new URLSearchParams({ csrf_token: 'forged' }) });
      return res.status;
    });
    expect(status).toBe(403);
    await page.goto('/portal/');
    await expect(page.getByRole('navigation', { name: 'Main' }).isVisible()).resolves.toBe(true);
    await context.close();
  });
});
