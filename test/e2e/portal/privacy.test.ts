/**
 * A client sees only the own record through the portal, whatever URL is typed: signed in as Jordan, every portal route
 * that takes an id answers 404 for Alex's ids (GET and POST, with Jordan's own valid form token) and changes nothing;
 * Jordan's "who saw what" never shows Alex's disclosures; without a sign-in every client page sends the browser to
 * the start page and every form is refused. The route list is read from the portal's router, so a route added
 * without a rule here fails this test.
 */
import { loadConfig } from '@carecircle/config';
import { createLogger } from '@carecircle/log';
import { createPortal, listRoutes } from '@carecircle/portal';
import type { Consent } from '@medplum/fhirtypes';
import type { APIRequestContext, BrowserContext } from 'playwright-core';
import { partnerStatus, signInThroughPortal, startPortalSystem, type PortalSystem } from '../../support/portal-system';

jest.setTimeout(240_000);

/**
 * How each route is held to the rule: `front-door` routes need no sign-in; `client` ones do, and `:ids` are Alex's;
 * `practice` ones need a signed-in practitioner (test/e2e/portal/practice.test.ts and updates.test.ts walk them, and
 * updates.test.ts holds the client's update pages to another client's ids).
 */
const RULES: Record<string, 'front-door' | 'client' | 'sign-out' | 'practice'> = {
  'GET /sign-in': 'front-door',
  'GET /practice/sign-in': 'front-door',
  'GET /practice/signed-out': 'front-door',
  'GET /practice/': 'front-door',
  'POST /practice/referrals/:taskId/remind': 'practice',
  'GET /practice/referrals/:taskId/reminded': 'practice',
  'GET /practice/referrals/:taskId/cancel': 'practice',
  'POST /practice/referrals/:taskId/cancel': 'practice',
  'GET /practice/referrals/:taskId/cancelled': 'practice',
  'GET /practice/referrals/:taskId/resend': 'practice',
  'POST /practice/referrals/:taskId/resend': 'practice',
  'GET /practice/referrals/:taskId/sent': 'practice',
  'GET /practice/clients': 'practice',
  'GET /practice/clients/:patientId': 'practice',
  'GET /practice/clients/:patientId/updates/new': 'practice',
  'POST /practice/clients/:patientId/updates/new': 'practice',
  'GET /practice/updates/:compositionId': 'practice',
  'POST /practice/updates/:compositionId/submit': 'practice',
  'POST /practice/updates/:compositionId/withdraw': 'practice',
  'GET /updates': 'client',
  'GET /updates/:compositionId': 'client',
  'GET /updates/:compositionId/approve': 'client',
  'POST /updates/:compositionId/approve': 'client',
  'GET /updates/:compositionId/decline': 'client',
  'POST /updates/:compositionId/decline': 'client',
  'GET /updates/:compositionId/done': 'client',
  'GET /callback': 'front-door',
  'GET /signed-out': 'front-door',
  'GET /language': 'front-door',
  'GET /': 'front-door',
  'POST /sign-out': 'sign-out',
  'POST /sign-out-everywhere': 'sign-out',
  'GET /sharing/:consentId': 'client',
  'GET /sharing/:consentId/preview': 'client',
  'GET /accounting': 'client',
  'GET /accounting.csv': 'client',
  'GET /share': 'client',
  'POST /share': 'client',
  'GET /share/shared/:consentId': 'client',
  'GET /sharing/:consentId/change': 'client',
  'POST /sharing/:consentId/change': 'client',
  'GET /sharing/:consentId/change/done': 'client',
  'GET /sharing/:consentId/stop': 'client',
  'POST /sharing/:consentId/stop': 'client',
  'GET /sharing/:consentId/stop/done': 'client',
};

const routes = (() => {
  const portal = createPortal({ config: loadConfig({ NODE_ENV: 'test', ADMIN_TOKEN: 'x'.repeat(40) }), logger: createLogger('silent') });
  return listRoutes(portal.router).map((r) => `${r.method} ${r.path}`);
})();

let system: PortalSystem;
let jordan: BrowserContext;
let request: APIRequestContext;
let jordanCsrf: string;
let alexConsent: Consent & { id: string };

beforeAll(async () => {
  system = await startPortalSystem();
  const alex = system.state.people.alex.fhirUser;
  const consents = (await (await system.adminFhir(`/Consent?patient=${alex}&status=active`)).json()) as { entry?: { resource: Consent & { id: string } }[] };
  const found = consents.entry?.[0]?.resource;
  if (!found) {
    throw new Error('the demo network gave Alex no active consent');
  }
  alexConsent = found;
  // Alex's medicines are read by the OB-GYN clinic: a disclosure in Alex's accounting that Jordan's never has.
  await partnerStatus(system, 'obgyn', `/Observation?patient=${alex}`);
  jordan = await system.newContext();
  const page = await jordan.newPage();
  await signInThroughPortal(page, system.state, 'jordan');
  await page.goto('/portal/share');
  jordanCsrf = (await page.locator('input[name="csrf_token"]').first().getAttribute('value')) ?? '';
  expect(jordanCsrf).not.toBe('');
  request = jordan.request;
});

afterAll(async () => {
  await jordan?.close();
  await system?.stop();
});

async function alexConsentNow(): Promise<Consent> {
  return (await (await system.adminFhir(`/Consent/${alexConsent.id}`)).json()) as Consent;
}

describe('another client’s ids in every portal URL', () => {
  test('every route of the portal has a rule here (a new route must be added)', () => {
    expect([...routes].sort()).toEqual(Object.keys(RULES).sort());
  });

  const idRoutes = Object.entries(RULES)
    .filter(([route, rule]) => rule === 'client' && route.includes(':consentId'))
    .map(([route]) => route);

  test.each(idRoutes)('%s with Alex’s consent id, as Jordan: 404 and nothing changes', async (route) => {
    const [method, template] = route.split(' ') as [string, string];
    const url = `/portal${template.replace(':consentId', alexConsent.id)}`;
    const answer =
      method === 'GET'
        ? await request.get(url, { maxRedirects: 0 })
        : await request.post(url, {
            maxRedirects: 0,
            form: { csrf_token: jordanCsrf, step: 'confirm', categories: 'trauma-history', name: 'Jordan Lee', agree: 'yes', version: alexConsent.meta?.versionId ?? '1' },
          });
    expect(answer.status()).toBe(404);
    const body = await answer.text();
    expect(body).not.toContain('Alex');
    const now = await alexConsentNow();
    expect(now.status).toBe('active');
    expect(now.meta?.versionId).toBe(alexConsent.meta?.versionId);
  });

  test('Jordan’s "who saw what" never shows Alex’s disclosures (which Alex’s shows)', async () => {
    const alex = await system.newContext();
    await signInThroughPortal(await alex.newPage(), system.state, 'alex');
    expect(await (await alex.request.get('/portal/accounting.csv')).text()).toMatch(/Medicines/);
    await alex.close();
    const csv = await request.get('/portal/accounting.csv');
    expect(csv.status()).toBe(200);
    const text = await csv.text();
    expect(text).not.toMatch(/Medicines|Alex|Rivera/);
    const page = await request.get('/portal/accounting');
    expect(await page.text()).not.toMatch(/Medicines|Alex|Rivera/);
  });

  test('signed out, every client page goes to the start page and every form is refused', async () => {
    const stranger = await system.newContext();
    for (const [route, rule] of Object.entries(RULES)) {
      if (rule !== 'client') {
        continue;
      }
      const [method, template] = route.split(' ') as [string, string];
      const url = `/portal${template.replace(':consentId', alexConsent.id)}`;
      const answer = method === 'GET' ? await stranger.request.get(url, { maxRedirects: 0 }) : await stranger.request.post(url, { maxRedirects: 0, form: { csrf_token: 'x' } });
      if (method === 'GET') {
        expect({ route, status: answer.status(), location: answer.headers().location }).toEqual({ route, status: 303, location: '/portal/' });
      } else {
        expect({ route, status: answer.status() }).toEqual({ route, status: 403 });
      }
    }
    await stranger.close();
  });

  test('signed out, every practice page goes to the practice area’s start page and every form is refused', async () => {
    const stranger = await system.newContext();
    for (const [route, rule] of Object.entries(RULES)) {
      if (rule !== 'practice') {
        continue;
      }
      const [method, template] = route.split(' ') as [string, string];
      const url = `/portal${template.replace(/:(taskId|patientId|compositionId)/, 'some-id')}`;
      const answer = method === 'GET' ? await stranger.request.get(url, { maxRedirects: 0 }) : await stranger.request.post(url, { maxRedirects: 0, form: { csrf_token: 'x' } });
      if (method === 'GET') {
        expect({ route, status: answer.status(), location: answer.headers().location }).toEqual({ route, status: 303, location: '/portal/practice/' });
      } else {
        expect({ route, status: answer.status() }).toEqual({ route, status: 403 });
      }
    }
    await stranger.close();
  });

  test('signed in as a client, every practice page and form answers 403 "this area is for the practice"', async () => {
    for (const [route, rule] of Object.entries(RULES)) {
      if (rule !== 'practice') {
        continue;
      }
      const [method, template] = route.split(' ') as [string, string];
      const url = `/portal${template.replace(/:(taskId|patientId|compositionId)/, 'some-id')}`;
      const answer = method === 'GET' ? await request.get(url, { maxRedirects: 0 }) : await request.post(url, { maxRedirects: 0, form: { csrf_token: jordanCsrf } });
      expect({ route, status: answer.status() }).toEqual({ route, status: 403 });
      expect(await answer.text()).toContain('This area is for the practice');
    }
  });
});
