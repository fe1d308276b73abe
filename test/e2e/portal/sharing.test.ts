/**
 * "Who can see what" and "see what they see" in Chromium: Alex's overview (the OB-GYN's card with its categories in
 * plain words and therapy session notes never shared; a sharing that ends within 30 days first with its reminder; a
 * stopped one folded under "No longer sharing"), one sharing's details and history, and the preview, checked against
 * what the partner's own system gets from the API; Jordan asking for Alex's sharing gets the 404 page; a client who
 * shares with nobody gets the empty state; keyboard only; Spanish; axe-core on every page shown.
 */
import type { Bundle, Composition, Consent } from '@medplum/fhirtypes';
import type { Page } from 'playwright-core';
import { personToken } from '@carecircle/demo';
import { categoryWords } from '../../../services/portal/src/i18n/categories';
import { axeViolations, signInThroughPortal, SIGN_IN_LABELS, startPortalSystem, type PortalSystem } from '../../support/portal-system';

jest.setTimeout(240_000);

const SHARE_CATEGORY_SYSTEM = 'https://carecircle.dev/fhir/CodeSystem/share-category';
const OBGYN = "Harbour Women's Health (OB-GYN)";
const PELVIC = 'Harbour Pelvic Health (pelvic-floor PT)';

let system: PortalSystem;
let alexToken: string;
/** Alex's consent naming the OB-GYN (the demo's), the one ending soon naming the pelvic PT, and a stopped one. */
const ids = { obgyn: '', endingSoon: '', stopped: '', jordan: '' };

function isoDay(offsetDays: number): string {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

function sharingConsent(patient: string, practice: string, recipient: string, categories: string[], end?: string): Consent {
  return {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: patient },
    performer: [{ reference: patient }],
    organization: [{ reference: `Organization/${practice}` }],
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision: {
      type: 'permit',
      ...(end ? { period: { start: isoDay(-1), end } } : {}),
      actor: [
        {
          role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] },
          reference: { reference: recipient },
        },
      ],
      purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }],
      code: categories.map((code) => ({ coding: [{ system: SHARE_CATEGORY_SYSTEM, code }] })),
    },
  };
}

/** A FHIR request as Alex (the client's own token from the demo's sign-in), as the portal would make it. */
async function asAlex<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(`${system.baseUrl}/fhir/R4${path}`, {
    method,
    headers: { Authorization: `Bearer ${alexToken}`, Accept: 'application/fhir+json', 'Content-Type': 'application/fhir+json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as T;
  if (!res.ok) {
    throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  }
  return json;
}

beforeAll(async () => {
  system = await startPortalSystem();
  const { state } = system;
  alexToken = (await personToken(system.toolConfig, state, 'alex')).access_token;
  const alex = state.people.alex.fhirUser;
  const pelvic = `Organization/${state.partners['pelvic-pt'].organization}`;
  const consents = await asAlex<Bundle<Consent>>('GET', `/Consent?patient=${alex}`);
  ids.obgyn = consents.entry?.[0]?.resource?.id ?? '';
  // Ending in 10 days, given by Alex and then widened: its history has "given" and "changed".
  const soon = await asAlex<Consent & { id: string }>('POST', '/Consent', sharingConsent(alex, state.practice, pelvic, ['progress'], isoDay(10)));
  const widened = sharingConsent(alex, state.practice, pelvic, ['progress', 'sexual-history'], isoDay(10));
  await asAlex('PUT', `/Consent/${soon.id}`, { ...widened, id: soon.id }, { 'If-Match': 'W/"1"' });
  ids.endingSoon = soon.id;
  const old = await asAlex<Consent & { id: string }>('POST', '/Consent', sharingConsent(alex, state.practice, pelvic, ['care-plan']));
  await asAlex('PUT', `/Consent/${old.id}`, { ...old, status: 'inactive' }, { 'If-Match': 'W/"1"' });
  ids.stopped = old.id;
  const jordan = await system.adminFhir(`/Consent?patient=${state.people.jordan.fhirUser}`);
  ids.jordan = ((await jordan.json()) as Bundle<Consent>).entry?.[0]?.resource?.id ?? '';
});

afterAll(async () => {
  await system?.stop();
});

async function headingTexts(page: Page, level: number): Promise<string[]> {
  return (await page.getByRole('main').getByRole('heading', { level }).allTextContents()).map((t) => t.trim());
}

describe('who can see what', () => {
  test('Alex sees the OB-GYN card in plain words, notes never shared, the ending sharing first, the stopped one apart', async () => {
    const context = await system.newContext();
    const page = await context.newPage();
    await signInThroughPortal(page, system.state, 'alex');
    expect(await page.title()).toBe('CareCircle');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Who can see what');
    expect(await axeViolations(page)).toEqual([]);

    // Ending within 30 days comes first, with its reminder.
    expect(await headingTexts(page, 2)).toEqual(['Ending soon', 'Sharing now', 'No longer sharing']);
    const cards = page.getByRole('article');
    await expect(cards.first().getByRole('heading', { level: 3 }).textContent()).resolves.toBe(PELVIC);
    await expect(cards.first().getAttribute('class')).resolves.toContain('card-ending');
    await expect(cards.first().textContent()).resolves.toMatch(/Sharing with Harbour Pelvic Health \(pelvic-floor PT\) ends on .+, in (9|10) days\./);

    const obgyn = page.getByRole('article', { name: OBGYN });
    const text = (await obgyn.textContent()) ?? '';
    expect(text).toContain('Obstetrics and gynecology (OB-GYN)');
    for (const category of ['treatment-goals', 'mental-health', 'medications'] as const) {
      expect(text).toContain(categoryWords.en[category].name);
      expect(text).toContain(categoryWords.en[category].contains);
    }
    expect(text).not.toContain(categoryWords.en['trauma-history'].name);
    expect(text).toMatch(/Never shared\s*Therapy session notes.*never shared with anyone, not even with your consent/);
    expect(text).toContain('To treat you');
    expect(text).toContain('Until you stop it');
    expect(text).toContain('Sharing now');
    for (const link of ['Details and history', 'See what they see', 'Change what they see', 'Stop sharing']) {
      await expect(obgyn.getByRole('link', { name: `${link}, ${OBGYN}` }).count()).resolves.toBe(1);
    }
    await expect(obgyn.getByRole('link', { name: `Change what they see, ${OBGYN}` }).getAttribute('href')).resolves.toBe(`/portal/sharing/${ids.obgyn}/change`);
    await expect(obgyn.getByRole('link', { name: `Stop sharing, ${OBGYN}` }).getAttribute('href')).resolves.toBe(`/portal/sharing/${ids.obgyn}/stop`);

    // The stopped sharing is folded away, and offers no change or stop.
    const past = page.getByRole('group').filter({ hasText: 'Stopped on' });
    await expect(past.count()).resolves.toBe(1);
    await expect(page.locator('details.past-sharing').getAttribute('open')).resolves.toBeNull();
    await expect(page.locator(`a[href="/portal/sharing/${ids.stopped}/stop"]`).count()).resolves.toBe(0);
    await context.close();
  });

  test('the details page shows the facts and the history: given by Alex, then widened', async () => {
    const context = await system.newContext();
    const page = await context.newPage();
    await signInThroughPortal(page, system.state, 'alex');
    await page.getByRole('link', { name: `Details and history, ${PELVIC}` }).click();
    await page.waitForURL(new RegExp(`/portal/sharing/${ids.endingSoon}$`));
    expect(await page.title()).toBe('CareCircle');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(PELVIC);
    expect(await axeViolations(page)).toEqual([]);
    const history = page.getByRole('main').getByRole('list').filter({ hasText: 'You started sharing' });
    const items = (await history.locator(':scope > li').allTextContents()).map((t) => t.replace(/\s+/g, ' '));
    expect(items).toHaveLength(2);
    expect(items[0]).toContain(`You started sharing with ${PELVIC}.`);
    expect(items[0]).toContain('What they can see: How things are going.');
    expect(items[0]).toContain('By: You');
    expect(items[1]).toContain(`You changed what ${PELVIC} can see.`);
    expect(items[1]).toContain('Now also: Sexual history.');
    // The OB-GYN's, recorded by the practice with the signed form: set up from a request Alex signed.
    await page.goto(`/portal/sharing/${ids.obgyn}`);
    await expect(page.getByRole('main').textContent()).resolves.toContain(`Sharing with ${OBGYN} was set up from a request you signed.`);
    expect(await axeViolations(page)).toEqual([]);
    await context.close();
  });

  test('the preview shows exactly the sections the API gives the OB-GYN’s own system, and nothing else', async () => {
    const context = await system.newContext();
    const page = await context.newPage();
    await signInThroughPortal(page, system.state, 'alex');
    await page.getByRole('link', { name: `See what they see, ${OBGYN}` }).click();
    await page.waitForURL(new RegExp(`/portal/sharing/${ids.obgyn}/preview$`));
    expect(await axeViolations(page)).toEqual([]);
    const main = page.getByRole('main');
    await expect(main.textContent()).resolves.toContain(`This is exactly what ${OBGYN} can see today. It is not shared again when you look at it.`);

    // What the partner's own system gets now, through its system token.
    const token = await system.partnerToken('obgyn');
    const res = await fetch(`${system.baseUrl}/fhir/R4/${system.state.people.alex.fhirUser}/$summary`, {
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/fhir+json' },
    });
    expect(res.status).toBe(200);
    const bundle = (await res.json()) as Bundle;
    const composition = bundle.entry?.[0]?.resource as Composition;
    const partnerSections = (composition.section ?? []).map((s) => s.code?.coding?.[0]?.code as keyof (typeof categoryWords)['en']);
    expect(partnerSections.sort()).toEqual(['medications', 'mental-health', 'treatment-goals']);
    const shown = await headingTexts(page, 2);
    expect(shown[0]).toBe('About you');
    expect(shown.slice(1).sort()).toEqual(partnerSections.map((c) => categoryWords.en[c].name).sort());

    const text = (await main.textContent()) ?? '';
    expect(text).toContain('Name: Alex Rivera');
    expect(text).toContain('Goal: Intercourse without pain within six months');
    expect(text).toContain('Generalized anxiety');
    expect(text).toContain('Current medication: Sertraline 50 mg daily, prescribed by primary care');
    // None of the others: no trauma history, no concern, no homework, no session notes; never a code.
    for (const hidden of ['Trauma history', 'History of sexual trauma', 'Pain with penetration', 'Pelvic-floor relaxation homework', 'Process notes', '21897009']) {
      expect(text).not.toContain(hidden);
    }

    // The pelvic PT's preview names the shared category that holds nothing yet.
    await page.goto(`/portal/sharing/${ids.endingSoon}/preview`);
    expect(await headingTexts(page, 2)).toEqual(['About you', 'How things are going', 'Shared, but nothing in them yet']);
    await expect(page.getByRole('main').textContent()).resolves.toContain('Homework adherence: Completed 2 of 3 practice sessions this week');
    await expect(page.getByRole('region', { name: 'Shared, but nothing in them yet' }).getByRole('listitem').allTextContents()).resolves.toEqual(['Sexual history']);
    expect(await axeViolations(page)).toEqual([]);

    // A stopped sharing lets them see nothing.
    await page.goto(`/portal/sharing/${ids.stopped}/preview`);
    await expect(page.getByRole('main').textContent()).resolves.toContain(`${PELVIC} cannot see anything through this sharing, because it is not active.`);
    expect(await axeViolations(page)).toEqual([]);
    await context.close();
  });

  test('Jordan asking for Alex’s sharing, or for an id that is no id, gets the 404 page', async () => {
    const context = await system.newContext();
    const page = await context.newPage();
    await signInThroughPortal(page, system.state, 'jordan');
    for (const path of [`/portal/sharing/${ids.obgyn}`, `/portal/sharing/${ids.obgyn}/preview`, `/portal/sharing/${ids.endingSoon}`, '/portal/sharing/no%20such%20id', '/portal/sharing/x..y/preview']) {
      const res = await page.goto(path);
      expect(res?.status()).toBe(404);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Page not found');
      await expect(page.getByRole('main').textContent()).resolves.not.toMatch(/Harbour|Alex/);
    }
    expect(await axeViolations(page)).toEqual([]);
    // Jordan's own is there.
    expect((await page.goto(`/portal/sharing/${ids.jordan}`))?.status()).toBe(200);
    await context.close();
  });

  test('keyboard only: from the overview to the details, the preview and back, and the folded past opened', async () => {
    const context = await system.newContext();
    const page = await context.newPage();
    await signInThroughPortal(page, system.state, 'alex');

    /** Tabs (forwards or back) until the focused element's accessible name is `name`; fails after 80 presses. */
    async function tabTo(name: string, key: 'Tab' | 'Shift+Tab' = 'Tab'): Promise<void> {
      for (let i = 0; i < 80; i++) {
        await page.keyboard.press(key);
        const focused = await page.evaluate(() => {
          const el = document.activeElement;
          return (el?.getAttribute('aria-label') ?? el?.textContent ?? '').replace(/\s+/g, ' ').trim();
        });
        if (focused === name) {
          return;
        }
      }
      throw new Error(`could not reach "${name}" with ${key}`);
    }

    await tabTo(`Details and history, ${OBGYN}`);
    await page.keyboard.press('Enter');
    await page.waitForURL(new RegExp(`/portal/sharing/${ids.obgyn}$`));
    await tabTo(`See what they see, ${OBGYN}`);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/preview$/);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(OBGYN);
    await tabTo('Back to who can see what');
    await tabTo(`Details and history, ${OBGYN}`, 'Shift+Tab');
    await tabTo('Back to who can see what');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/portal\/$/);
    // The stopped sharing opens with the keyboard (a <details> summary), showing its facts.
    const summary = (await page.locator('details.past-sharing summary').textContent()) ?? '';
    await tabTo(summary.replace(/\s+/g, ' ').trim());
    await page.keyboard.press('Space');
    await expect(page.locator('details.past-sharing').getAttribute('open')).resolves.toBe('');
    await expect(page.locator('details.past-sharing').textContent()).resolves.toContain(categoryWords.en['care-plan'].name);
    expect(await axeViolations(page)).toEqual([]);
    await context.close();
  });

  test('the overview in Spanish', async () => {
    const context = await system.newContext({ locale: 'es-ES' });
    const page = await context.newPage();
    await signInThroughPortal(page, system.state, 'alex', SIGN_IN_LABELS.es);
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('es');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Quién puede ver qué');
    expect(await headingTexts(page, 2)).toEqual(['Termina pronto', 'Compartiendo ahora', 'Ya no comparte']);
    const obgyn = (await page.getByRole('article', { name: OBGYN }).textContent()) ?? '';
    for (const words of ['Sus objetivos', 'Salud mental', 'Medicamentos', 'Notas de las sesiones de terapia', 'Para tratarle', 'Hasta que usted lo detenga', 'Compartiendo ahora']) {
      expect(obgyn).toContain(words);
    }
    await expect(page.getByRole('article').first().textContent()).resolves.toMatch(/termina el .+, dentro de (9|10) días/);
    expect(await axeViolations(page)).toEqual([]);
    await context.close();
  });

  test('a client who shares with nobody gets a calm empty state and the way to share', async () => {
    // Jordan's one sharing stopped (by the practice, as the operator here), so Jordan shares with nobody now.
    const current = (await (await system.adminFhir(`/Consent/${ids.jordan}`)).json()) as Consent & { id: string };
    const stopped = await system.adminFhir(`/Consent/${ids.jordan}`, { method: 'PUT', body: JSON.stringify({ ...current, status: 'inactive' }) });
    expect(stopped.status).toBe(200);
    const context = await system.newContext();
    const page = await context.newPage();
    await signInThroughPortal(page, system.state, 'jordan');
    await expect(page.getByRole('heading', { level: 2 }).first().textContent()).resolves.toBe('You are not sharing with any other providers');
    await expect(page.getByRole('main').getByRole('link', { name: 'Share with a provider' }).getAttribute('href')).resolves.toBe('/portal/share');
    expect(await headingTexts(page, 2)).toEqual(['You are not sharing with any other providers', 'No longer sharing']);
    expect(await axeViolations(page)).toEqual([]);
    await context.close();
  });
});
