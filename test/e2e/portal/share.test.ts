/**
 * Sharing with a provider, changing what it sees and stopping, in Chromium, with the partner's system checked through
 * the real API after each step: nothing is shared before the signature; once signed, the pelvic-floor clinic reads
 * Alex's goals and progress but not her trauma history; narrowed, its next search no longer returns progress; stopped,
 * its very next read is 404. Also: the problems each step can show (400, linked to the fields), a consent changed
 * meanwhile, a change the API refuses (a calm page, nothing changed), the share journey keyboard-only, the review in
 * Spanish, and Jordan trying Alex’s consent id in every URL (GET and POST with Jordan's own form token: 404, nothing
 * changes). axe-core (WCAG 2.0-2.2 A/AA) on every page.
 */
import type { Bundle, Consent, Resource } from '@medplum/fhirtypes';
import type { Locator, Page } from 'playwright-core';
import { axeViolations, signInThroughPortal, SIGN_IN_LABELS, startPortalSystem, type PortalSystem } from '../../support/portal-system';

jest.setTimeout(240_000);

const PELVIC = /Harbour Pelvic Health/;
const NEXT_YEAR = new Date().getUTCFullYear() + 1;

let system: PortalSystem;
let alex: string;
let jordan: string;
let pelvicPt: string;
/** The consent Alex gives in the first test, used by the later ones. */
let consentId: string;

beforeAll(async () => {
  system = await startPortalSystem();
  alex = system.state.people.alex.fhirUser;
  jordan = system.state.people.jordan.fhirUser;
  pelvicPt = `Organization/${system.state.partners['pelvic-pt'].organization}`;
});

afterAll(async () => {
  await system?.stop();
});

/** What the pelvic-floor clinic's system meets: status and, for a search, the matching resources. */
async function asPelvicPt(path: string): Promise<{ status: number; matches: Resource[] }> {
  const token = await system.partnerToken('pelvic-pt');
  const res = await fetch(`${system.baseUrl}/fhir/R4${path}`, { headers: { Authorization: `Bearer ${token}`, Accept: 'application/fhir+json' } });
  const body = (await res.json()) as Resource;
  const matches =
    body.resourceType === 'Bundle' ? ((body as Bundle).entry ?? []).filter((e) => e.search?.mode !== 'include').map((e) => e.resource as Resource) : [];
  return { status: res.status, matches };
}

/** The client's consents, as the operator reads them. */
async function consentsOf(patient: string): Promise<Consent[]> {
  const res = await system.adminFhir(`/Consent?patient=${patient}&_count=100`);
  return (((await res.json()) as Bundle<Consent>).entry ?? []).map((e) => e.resource as Consent);
}

async function consent(id: string): Promise<Consent> {
  return (await (await system.adminFhir(`/Consent/${id}`)).json()) as Consent;
}

/** Clicks a form's button and answers the status of the page that came back (a redirect's final page too). */
async function submit(page: Page, button: Locator): Promise<number> {
  const response = page.waitForResponse((r) => r.request().isNavigationRequest() && r.request().method() === 'POST');
  await button.click();
  const status = (await response).status();
  await page.waitForLoadState();
  return status;
}

/** Enter on the focused submit button, waiting for the page the form answers (not the one still showing). */
async function pressEnterToSubmit(page: Page): Promise<void> {
  const response = page.waitForResponse((r) => r.request().isNavigationRequest() && r.request().method() === 'POST');
  await page.keyboard.press('Enter');
  await response;
  await page.waitForLoadState();
}

async function heading(page: Page): Promise<string> {
  return ((await page.getByRole('heading', { level: 1 }).textContent()) ?? '').trim();
}

/** The error summary's problems, as the links say them. */
async function problems(page: Page): Promise<string[]> {
  return (await page.locator('.error-summary a').allTextContents()).map((t) => t.trim());
}

/** Moves the focus with Tab (or Shift+Tab) until the focused element's accessible name matches. */
async function tabTo(page: Page, name: RegExp, options: { shift?: boolean } = {}): Promise<void> {
  for (let i = 0; i < 80; i += 1) {
    await page.keyboard.press(options.shift ? 'Shift+Tab' : 'Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLInputElement | null;
      if (!el) {
        return '';
      }
      const label = el.labels?.[0]?.textContent ?? '';
      return `${label} ${el.getAttribute('aria-label') ?? ''} ${el.tagName === 'INPUT' ? '' : (el.textContent ?? '')}`.trim();
    });
    if (name.test(focused)) {
      return;
    }
  }
  throw new Error(`no element named ${String(name)} took the focus`);
}

describe('sharing with a provider', () => {
  test('Alex shares her goals and progress with the pelvic-floor clinic until a date; nothing is shared before she signs', async () => {
    const before = await consentsOf(alex);
    expect((await asPelvicPt(`/${alex}`)).status).toBe(404);

    const context = await system.newContext();
    const page = await context.newPage();
    await signInThroughPortal(page, system.state, 'alex');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Share with a provider' }).click();
    await page.waitForURL(/\/portal\/share$/);
    expect(await heading(page)).toBe('Who do you want to share with?');
    expect(await page.title()).toBe('CareCircle');
    expect(await axeViolations(page)).toEqual([]);

    // Nothing chosen: the same question, 400, with a summary that links to the first choice.
    expect(await submit(page, page.getByRole('button', { name: 'Continue' }))).toBe(400);
    expect(await problems(page)).toEqual(['Choose who you want to share with']);
    expect(await axeViolations(page)).toEqual([]);
    await page.locator('.error-summary a').click();
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('recipient');

    await page.getByRole('radio', { name: PELVIC }).check();
    expect(await submit(page, page.getByRole('button', { name: 'Continue' }))).toBe(200);
    expect(await heading(page)).toBe('What can Harbour Pelvic Health (pelvic-floor PT) see?');
    // Psychotherapy notes are never a choice.
    await expect(page.getByRole('checkbox', { name: 'Therapy session notes' }).count()).resolves.toBe(0);
    await expect(page.getByRole('heading', { name: 'Never shared' }).isVisible()).resolves.toBe(true);
    expect(await axeViolations(page)).toEqual([]);
    expect(await submit(page, page.getByRole('button', { name: 'Continue' }))).toBe(400);
    expect(await problems(page)).toEqual(['Choose at least one thing they can see']);
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('checkbox', { name: 'Your goals' }).check();
    await page.getByRole('checkbox', { name: 'How things are going' }).check();
    await submit(page, page.getByRole('button', { name: 'Continue' }));

    expect(await heading(page)).toBe('Why can they see it?');
    await expect(page.getByRole('radio', { name: 'To treat you' }).isChecked()).resolves.toBe(true);
    expect(await axeViolations(page)).toEqual([]);
    await submit(page, page.getByRole('button', { name: 'Continue' }));

    expect(await heading(page)).toBe('How long can they see it?');
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('radio', { name: 'Until a date' }).check();
    await page.getByRole('textbox', { name: 'Day' }).fill('1');
    await page.getByRole('textbox', { name: 'Month' }).fill('3');
    await page.getByRole('textbox', { name: 'Year' }).fill('2020');
    expect(await submit(page, page.getByRole('button', { name: 'Continue' }))).toBe(400);
    expect(await problems(page)).toEqual(['The last day must be in the future']);
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('textbox', { name: 'Year' }).fill(String(NEXT_YEAR));
    await submit(page, page.getByRole('button', { name: 'Continue' }));

    // Check your answers, in plain words.
    expect(await heading(page)).toBe('Check what you are about to share');
    const summary = page.locator('dl.summary');
    await expect(summary.textContent()).resolves.toMatch(/Harbour Pelvic Health.*Your goals.*How things are going.*To treat you.*1 Mar \d{4}.*Therapy session notes/s);
    expect(await axeViolations(page)).toEqual([]);
    // Nothing is shared after the review: no new Consent, and the clinic still meets 404.
    expect((await consentsOf(alex)).length).toBe(before.length);
    expect((await asPelvicPt(`/${alex}`)).status).toBe(404);

    // Change keeps the other answers and comes back to the review.
    await submit(page, page.getByRole('button', { name: 'Change what they can see' }));
    expect(await heading(page)).toBe('What can Harbour Pelvic Health (pelvic-floor PT) see?');
    await expect(page.getByRole('checkbox', { name: 'How things are going' }).isChecked()).resolves.toBe(true);
    await submit(page, page.getByRole('button', { name: 'Continue' }));
    expect(await heading(page)).toBe('Check what you are about to share');
    await expect(summary.textContent()).resolves.toContain(`1 Mar ${NEXT_YEAR}`);
    await submit(page, page.getByRole('button', { name: 'Continue' }));

    // The signature: both the statement and the name are required.
    expect(await heading(page)).toBe('Sign to confirm');
    expect(await axeViolations(page)).toEqual([]);
    expect(await submit(page, page.getByRole('button', { name: 'Share now' }))).toBe(400);
    expect(await problems(page)).toEqual(['Tick the box to agree to the statement', 'Type your full name to sign']);
    expect(await axeViolations(page)).toEqual([]);
    expect((await consentsOf(alex)).length).toBe(before.length);
    expect((await asPelvicPt(`/${alex}`)).status).toBe(404);

    const statement = page.getByRole('checkbox', {
      name: `I agree to share your goals and how things are going with Harbour Pelvic Health (pelvic-floor PT) to treat you until 1 Mar ${NEXT_YEAR}. I can stop this at any time. It takes effect on their very next request.`,
    });
    await statement.check();
    await page.getByRole('textbox', { name: 'Your full name' }).fill('Alex Rivera');
    await page.getByRole('button', { name: 'Share now' }).click();
    await page.waitForURL(/\/portal\/share\/shared\/[A-Za-z0-9\-.]+$/);
    consentId = page.url().split('/').pop() ?? '';
    expect(await heading(page)).toBe('You are now sharing with Harbour Pelvic Health (pelvic-floor PT)');
    await expect(page.getByRole('link', { name: 'See exactly what they can see now' }).getAttribute('href')).resolves.toBe(`/portal/sharing/${consentId}/preview`);
    expect(await axeViolations(page)).toEqual([]);
    // Nothing identifying in any URL visited: ids only.
    expect(page.url()).not.toMatch(/goal|progress|Alex|Rivera/i);

    // The Consent: the sharing-consent shape, with the signature recorded in sourceAttachment.
    const given = await consent(consentId);
    expect(given).toMatchObject({
      status: 'active',
      patient: { reference: alex },
      performer: [{ reference: alex }],
      provision: { actor: [{ reference: { reference: pelvicPt } }], period: { end: `${NEXT_YEAR}-03-01` }, purpose: [{ code: 'TREAT' }] },
    });
    expect(given.provision?.code?.map((c) => c.coding?.[0]?.code)).toEqual(['treatment-goals', 'progress']);
    expect(given.sourceAttachment?.title).toBe('Electronic signature');
    expect(Buffer.from(given.sourceAttachment?.data ?? '', 'base64').toString('utf8')).toContain('Signed by (typed name): Alex Rivera');

    // From the clinic's very next request: the Patient, the goal and the progress, never the trauma history.
    expect((await asPelvicPt(`/${alex}`)).status).toBe(200);
    const goals = await asPelvicPt(`/Goal?patient=${alex}`);
    expect(goals.matches.map((g) => g.resourceType)).toEqual(['Goal']);
    const conditions = await asPelvicPt(`/Condition?patient=${alex}`);
    expect(conditions.status).toBe(200);
    expect(JSON.stringify(conditions.matches)).not.toMatch(/trauma/i);
    expect((await asPelvicPt(`/Observation?patient=${alex}`)).matches.length).toBeGreaterThan(0);
    // The clinic sees the consent naming it without the signature.
    const seen = await asPelvicPt(`/Consent?actor=${pelvicPt}`);
    expect(seen.matches.map((c) => c.id)).toContain(consentId);
    expect(JSON.stringify(seen.matches)).not.toContain('Alex Rivera');
    await context.close();
  });

  test('Alex narrows what the clinic sees: the change is shown plainly, and its next search no longer returns progress', async () => {
    const context = await system.newContext();
    const page = await context.newPage();
    await signInThroughPortal(page, system.state, 'alex');
    await page.goto(`/portal/sharing/${consentId}/change`);
    expect(await heading(page)).toBe('What can Harbour Pelvic Health (pelvic-floor PT) see?');
    await expect(page.getByRole('checkbox', { name: 'Your goals' }).isChecked()).resolves.toBe(true);
    await expect(page.getByRole('checkbox', { name: 'How things are going' }).isChecked()).resolves.toBe(true);
    expect(await axeViolations(page)).toEqual([]);

    // Choosing nothing says how to stop instead.
    await page.getByRole('checkbox', { name: 'Your goals' }).uncheck();
    await page.getByRole('checkbox', { name: 'How things are going' }).uncheck();
    expect(await submit(page, page.getByRole('button', { name: 'Continue' }))).toBe(400);
    expect((await problems(page))[0]).toMatch(/^Choose at least one thing they can see\. To stop sharing/);
    expect(await axeViolations(page)).toEqual([]);

    await page.getByRole('checkbox', { name: 'Your goals' }).check();
    await submit(page, page.getByRole('button', { name: 'Continue' }));
    expect(await heading(page)).toBe('Why can they see it?');
    await submit(page, page.getByRole('button', { name: 'Continue' }));
    expect(await heading(page)).toBe('How long can they see it?');
    await expect(page.getByRole('textbox', { name: 'Year' }).inputValue()).resolves.toBe(String(NEXT_YEAR));
    await page.getByRole('radio', { name: 'Until I stop it' }).check();
    await submit(page, page.getByRole('button', { name: 'Continue' }));

    expect(await heading(page)).toBe('Check the change');
    const rows = page.locator('dl.summary');
    await expect(rows.textContent()).resolves.toMatch(/They will no longer see\s*How things are going/);
    await expect(rows.textContent()).resolves.toMatch(/They will still see\s*Your goals/);
    await expect(rows.textContent()).resolves.toContain(`Until you stop it (was: 1 Mar ${NEXT_YEAR})`);
    expect(await axeViolations(page)).toEqual([]);
    await submit(page, page.getByRole('button', { name: 'Continue' }));

    expect(await heading(page)).toBe('Sign to confirm');
    expect(await submit(page, page.getByRole('button', { name: 'Confirm the change' }))).toBe(400);
    await page.getByRole('checkbox', { name: /^I agree that Harbour Pelvic Health \(pelvic-floor PT\) can see your goals to treat you until I stop it\./ }).check();
    await page.getByRole('textbox', { name: 'Your full name' }).fill('Alex Rivera');
    await page.getByRole('button', { name: 'Confirm the change' }).click();
    await page.waitForURL(new RegExp(`/portal/sharing/${consentId}/change/done$`));
    expect(await heading(page)).toBe('You changed what Harbour Pelvic Health (pelvic-floor PT) can see');
    expect(await axeViolations(page)).toEqual([]);

    const changed = await consent(consentId);
    expect(changed.meta?.versionId).toBe('2');
    expect(changed.provision?.code?.map((c) => c.coding?.[0]?.code)).toEqual(['treatment-goals']);
    expect(changed.provision?.period?.end).toBeUndefined();
    // The clinic's next search: the goal, no progress.
    expect((await asPelvicPt(`/Goal?patient=${alex}`)).matches).toHaveLength(1);
    expect((await asPelvicPt(`/Observation?patient=${alex}`)).matches).toEqual([]);
    await context.close();
  });

  test('a consent changed meanwhile shows what it says now; then Alex stops sharing and the clinic’s very next read is 404', async () => {
    const context = await system.newContext();
    const page = await context.newPage();
    await signInThroughPortal(page, system.state, 'alex');
    await page.goto(`/portal/sharing/${consentId}/stop`);
    expect(await heading(page)).toBe('Stop sharing with Harbour Pelvic Health (pelvic-floor PT)?');
    await expect(page.locator('main').textContent()).resolves.toContain(
      'From their very next request, they will not be able to see anything from your record. What they already received stays with them. Their system is told that sharing stopped.',
    );
    await expect(page.locator('dl.summary').textContent()).resolves.toContain('Your goals');
    expect(await axeViolations(page)).toEqual([]);

    // Changed elsewhere after the page was shown (a new version): the stop is not made; the page says so.
    const current = await consent(consentId);
    const bumped = await system.adminFhir(`/Consent/${consentId}`, { method: 'PUT', body: JSON.stringify({ ...current, dateTime: new Date().toISOString() }) });
    expect(bumped.status).toBe(200);
    expect(await submit(page, page.getByRole('button', { name: 'Stop sharing' }))).toBe(409);
    expect(await heading(page)).toBe('This choice changed while you were looking at it');
    await expect(page.locator('dl.summary').textContent()).resolves.toMatch(/Sharing.*Your goals/s);
    expect(await axeViolations(page)).toEqual([]);
    expect((await consent(consentId)).status).toBe('active');

    await page.getByRole('link', { name: 'Start again' }).click();
    await page.waitForURL(new RegExp(`/portal/sharing/${consentId}/stop$`));
    await page.getByRole('button', { name: 'Stop sharing' }).click();
    await page.waitForURL(new RegExp(`/portal/sharing/${consentId}/stop/done$`));
    expect(await heading(page)).toBe('You stopped sharing with Harbour Pelvic Health (pelvic-floor PT)');
    expect(await axeViolations(page)).toEqual([]);
    expect((await consent(consentId)).status).toBe('inactive');
    expect((await asPelvicPt(`/${alex}`)).status).toBe(404);
    expect((await asPelvicPt(`/Goal?patient=${alex}`)).matches).toEqual([]);

    // Coming back to stop or change it says calmly that it has stopped.
    await page.goto(`/portal/sharing/${consentId}/stop`);
    expect(await heading(page)).toBe('Sharing with Harbour Pelvic Health (pelvic-floor PT) has already stopped');
    expect(await axeViolations(page)).toEqual([]);
    await page.goto(`/portal/sharing/${consentId}/change`);
    expect(await heading(page)).toBe('Sharing with Harbour Pelvic Health (pelvic-floor PT) has already stopped');
    await context.close();
  });

  test('Jordan trying Alex’s consent id in every URL, by GET and by POST with Jordan’s own form token, gets 404 and changes nothing', async () => {
    const alexObgyn = (await consentsOf(alex)).find((c) => c.status === 'active' && c.id !== consentId);
    expect(alexObgyn?.id).toBeDefined();
    const id = alexObgyn?.id ?? '';
    const versionBefore = alexObgyn?.meta?.versionId;

    const context = await system.newContext();
    const page = await context.newPage();
    await signInThroughPortal(page, system.state, 'jordan');
    for (const path of [`/portal/sharing/${id}/change`, `/portal/sharing/${id}/stop`, `/portal/sharing/${id}/change/done`, `/portal/sharing/${id}/stop/done`, `/portal/share/shared/${id}`]) {
      const res = await page.goto(path);
      expect([path, res?.status()]).toEqual([path, 404]);
      expect(await heading(page)).toBe('Page not found');
    }
    expect(await axeViolations(page)).toEqual([]);
    const token = await page.locator('input[name="csrf_token"]').first().inputValue();
    const statuses = await page.evaluate(
      async ({ id, token, version }) => {
        const post = async (path: string, fields: Record<string, string>) =>
          (await fetch(path, { method: 'POST', body: new URLSearchParams({ csrf_token: token, ...fields }) })).status;
        return [
          await post(`/portal/sharing/${id}/stop`, { version }),
          await post(`/portal/sharing/${id}/change`, {
            step: 'sign',
            version,
            category: 'demographics',
            purpose: 'TREAT',
            until: 'open',
            'signature-name': 'Jordan Lee',
            'signature-agree': 'yes',
          }),
        ];
      },
      { id, token, version: versionBefore ?? '1' },
    );
    expect(statuses).toEqual([404, 404]);
    const after = await consent(id);
    expect(after.status).toBe('active');
    expect(after.meta?.versionId).toBe(versionBefore);
    await context.close();
  });

  test('the share journey keyboard-only: Jordan shares his goals with the pelvic-floor clinic until he stops it', async () => {
    const context = await system.newContext();
    const page = await context.newPage();
    await signInThroughPortal(page, system.state, 'jordan');
    await tabTo(page, /^Share with a provider$/);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/portal\/share$/);

    await tabTo(page, PELVIC);
    await page.keyboard.press('Space');
    await tabTo(page, /^Continue$/);
    await pressEnterToSubmit(page);
    expect(await heading(page)).toBe('What can Harbour Pelvic Health (pelvic-floor PT) see?');

    await tabTo(page, /^Your goals$/);
    await page.keyboard.press('Space');
    await tabTo(page, /^Continue$/);
    await pressEnterToSubmit(page);
    expect(await heading(page)).toBe('Why can they see it?');

    // The default purpose is already chosen: to treat.
    await tabTo(page, /^To treat you$/);
    await tabTo(page, /^Continue$/);
    await pressEnterToSubmit(page);
    expect(await heading(page)).toBe('How long can they see it?');

    await tabTo(page, /^Until I stop it$/);
    await page.keyboard.press('Space');
    await tabTo(page, /^Continue$/);
    await pressEnterToSubmit(page);
    expect(await heading(page)).toBe('Check what you are about to share');

    await tabTo(page, /^Continue$/);
    await pressEnterToSubmit(page);
    expect(await heading(page)).toBe('Sign to confirm');

    await tabTo(page, /^I agree to share your goals with Harbour Pelvic Health/);
    await page.keyboard.press('Space');
    await tabTo(page, /^Your full name$/);
    await page.keyboard.type('Jordan Lee');
    await tabTo(page, /^Back$/);
    await tabTo(page, /^Share now$/, { shift: true });
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/portal\/share\/shared\//);
    expect(await heading(page)).toBe('You are now sharing with Harbour Pelvic Health (pelvic-floor PT)');
    expect(await axeViolations(page)).toEqual([]);
    expect((await asPelvicPt(`/${jordan}`)).status).toBe(200);
    expect((await asPelvicPt(`/Goal?patient=${jordan}`)).matches).toHaveLength(1);
    await context.close();
  });

  test('the review in Spanish', async () => {
    const context = await system.newContext({ locale: 'es-ES' });
    const page = await context.newPage();
    await signInThroughPortal(page, system.state, 'alex', SIGN_IN_LABELS.es);
    await page.goto('/portal/share');
    expect(await heading(page)).toBe('¿Con quién quiere compartir?');
    await page.getByRole('radio', { name: PELVIC }).check();
    await submit(page, page.getByRole('button', { name: 'Continuar' }));
    await page.getByRole('checkbox', { name: 'Sus objetivos' }).check();
    await page.getByRole('checkbox', { name: 'Medicamentos' }).check();
    await submit(page, page.getByRole('button', { name: 'Continuar' }));
    await submit(page, page.getByRole('button', { name: 'Continuar' }));
    await page.getByRole('radio', { name: 'Hasta que yo lo detenga' }).check();
    await submit(page, page.getByRole('button', { name: 'Continuar' }));
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('es');
    expect(await heading(page)).toBe('Revise lo que va a compartir');
    await expect(page.locator('dl.summary').textContent()).resolves.toMatch(/Con quién.*Harbour Pelvic Health.*Sus objetivos.*Medicamentos.*Para tratarle.*Hasta que usted lo detenga/s);
    await expect(page.getByRole('button', { name: 'Cambiar lo que pueden ver' }).isVisible()).resolves.toBe(true);
    expect(await axeViolations(page)).toEqual([]);
    await submit(page, page.getByRole('button', { name: 'Continuar' }));
    expect(await submit(page, page.getByRole('button', { name: 'Compartir ahora' }))).toBe(400);
    expect(await problems(page)).toEqual(['Marque la casilla para aceptar la declaración', 'Escriba su nombre completo para firmar']);
    expect(await axeViolations(page)).toEqual([]);
    await context.close();
  });

  test('a change the API refuses (the provider was removed meanwhile) shows a calm page and changes nothing', async () => {
    const given = (await consentsOf(jordan)).find((c) => c.status === 'active' && c.provision?.actor?.[0]?.reference?.reference === pelvicPt);
    const id = given?.id ?? '';
    const context = await system.newContext();
    const page = await context.newPage();
    await signInThroughPortal(page, system.state, 'jordan');
    await page.goto(`/portal/sharing/${id}/change`);
    await page.getByRole('checkbox', { name: 'Your care plan' }).check();
    for (let i = 0; i < 3; i += 1) {
      await submit(page, page.getByRole('button', { name: 'Continue' }));
    }
    await submit(page, page.getByRole('button', { name: 'Continue' }));
    expect(await heading(page)).toBe('Sign to confirm');
    await page.getByRole('checkbox', { name: /^I agree that/ }).check();
    await page.getByRole('textbox', { name: 'Your full name' }).fill('Jordan Lee');
    // The clinic leaves the network before Jordan confirms: the API refuses a consent naming it (422).
    expect((await system.adminFhir(`/${pelvicPt}`, { method: 'DELETE' })).status).toBeLessThan(300);
    expect(await submit(page, page.getByRole('button', { name: 'Confirm the change' }))).toBe(422);
    expect(await heading(page)).toBe('CareCircle could not save this');
    await expect(page.locator('main').textContent()).resolves.toContain('Nothing has been shared or changed.');
    expect(await axeViolations(page)).toEqual([]);
    expect((await consent(id)).meta?.versionId).toBe(given?.meta?.versionId);
    await context.close();
  });
});
