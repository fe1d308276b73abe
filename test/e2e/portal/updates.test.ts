/**
 * Coordinated updates in Chromium (issue 12), both sides: the therapist, in the practice area, picks Alex's
 * pelvic-floor PT clinic, chooses the trauma-history summary and the homework adherence from Alex's chart (a category
 * Alex does not share with the clinic is shown but not choosable, psychotherapy notes are never offered), writes the
 * letter, previews exactly what the clinic will receive and sends it to Alex; Alex, in the client area, finds it
 * waiting, reads it as the clinic will, and approves it with a typed-name signature; the clinic's system then reads
 * it through the API, marked against re-disclosure. A second update Alex declines, with a reason, never reaches the
 * clinic. A forged choice outside the consent is refused with the category named. Jordan cannot open Alex's update.
 * axe-core (WCAG 2.0-2.2 A/AA) on every page met.
 */
import type { Bundle, Composition, Condition, Consent } from '@medplum/fhirtypes';
import type { BrowserContext, Page } from 'playwright-core';
import { axeViolations, signInThroughPortal, startPortalSystem, type PortalSystem } from '../../support/portal-system';

jest.setTimeout(300_000);

const STATE = 'https://carecircle.dev/fhir/StructureDefinition/update-state';
const NORDSCLCD = 'NORDSCLCD';
const PT_NAME = 'Harbour Pelvic Health (pelvic-floor PT)';

let system: PortalSystem;
let therapist: BrowserContext;
let alex: BrowserContext;
let t: Page;
let a: Page;
let approvedId: string;

const stateOf = (c: Composition) => c.extension?.find((e) => e.url === STATE)?.valueCode;

async function json<T>(res: Response): Promise<T> {
  const text = await res.text();
  if (!res.ok) {
    throw new Error(`${res.status}: ${text}`);
  }
  return JSON.parse(text) as T;
}

async function clinicRead(path: string): Promise<{ status: number; body: unknown }> {
  const token = await system.partnerToken('pelvic-pt');
  const res = await fetch(`${system.baseUrl}/fhir/R4${path}`, { headers: { Authorization: `Bearer ${token}`, Accept: 'application/fhir+json' } });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

async function signInTherapist(page: Page): Promise<void> {
  await page.goto('/portal/practice/');
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.getByLabel('Username').fill(system.state.people.therapist.username);
  await page.getByLabel('Password').fill(system.state.people.therapist.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(/\/portal\/practice\/$/);
}

/** The therapist walks to Alex's chart page for the clinic. */
async function startUpdateForClinic(): Promise<void> {
  await t.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Clients and updates' }).click();
  await t.getByRole('link', { name: 'Alex Rivera' }).click();
  await t.getByRole('link', { name: 'Write an update for a provider' }).click();
  await t.getByLabel(PT_NAME).check();
  await t.getByRole('button', { name: 'Continue' }).click();
  await t.getByRole('heading', { level: 1, name: `What to send to ${PT_NAME}` }).waitFor();
}

beforeAll(async () => {
  system = await startPortalSystem();
  const patient = system.state.people.alex.fhirUser;
  // Alex shares trauma history, progress and the care plan with the pelvic-floor PT clinic (not medicines).
  await json<Consent>(
    await system.adminFhir('/Consent', {
      method: 'POST',
      body: JSON.stringify({
        resourceType: 'Consent',
        status: 'active',
        scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
        category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
        patient: { reference: patient },
        performer: [{ reference: patient }],
        organization: [{ reference: `Organization/${system.state.practice}` }],
        policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
        provision: {
          type: 'permit',
          actor: [
            {
              role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] },
              reference: { reference: `Organization/${system.state.partners['pelvic-pt'].organization}` },
            },
          ],
          purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }],
          code: ['trauma-history', 'progress', 'care-plan'].map((code) => ({ coding: [{ system: 'https://carecircle.dev/fhir/CodeSystem/share-category', code }] })),
        },
      } satisfies Consent),
    }),
  );
  therapist = await system.newContext();
  alex = await system.newContext();
  t = await therapist.newPage();
  a = await alex.newPage();
  await signInTherapist(t);
  await signInThroughPortal(a, system.state, 'alex');
});

afterAll(async () => {
  await therapist?.close();
  await alex?.close();
  await system?.stop();
});

test('the therapist picks from the chart and writes the letter; the preview is the draft as the clinic will get it', async () => {
  await startUpdateForClinic();
  expect(await axeViolations(t)).toEqual([]);
  // Medicines are in the chart but Alex does not share them with the clinic; session notes are never offered.
  await expect(t.getByLabel(/Sertraline/).isDisabled()).resolves.toBe(true);
  await expect(t.getByText('Process notes from session 4.').count()).resolves.toBe(0);
  await expect(t.getByLabel(/Session notes/).count()).resolves.toBe(0);
  await t.getByRole('button', { name: 'Save and preview' }).click();
  await expect(t.getByRole('alert').textContent()).resolves.toContain('Choose something from the record or write a letter');
  expect(await axeViolations(t)).toEqual([]);
  await t.getByLabel(/History of sexual trauma/).check();
  await t.getByLabel(/Homework adherence/).check();
  await t.getByLabel('Your letter').fill('Alex asked me to share this so she does not have to tell it again.\n\nPlease say before each step of an exam. <b>Thank you</b>');
  await t.getByRole('button', { name: 'Save and preview' }).click();
  await t.waitForURL(/\/portal\/practice\/updates\/[^/]+$/);
  await expect(t.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Check the update before you send it');
  const main = (await t.locator('main').textContent()) ?? '';
  expect(main).toContain('Please say before each step of an exam. <b>Thank you</b>');
  expect(main).toContain('History of sexual trauma');
  expect(main).toContain('Completed 2 of 3 practice sessions this week');
  expect(await axeViolations(t)).toEqual([]);
  const id = t.url().split('/').at(-1) ?? '';
  const stored = await json<Composition>(await system.adminFhir(`/Composition/${id}`));
  expect(stateOf(stored)).toBe('draft');
  expect((await clinicRead(`/Composition/${id}`)).status).toBe(404);
  approvedId = id;
});

test('a choice outside what Alex shares with the clinic, forged into the form, is refused naming the category', async () => {
  const anxiety = await json<Bundle<Condition>>(await system.adminFhir(`/Condition?patient=${system.state.people.alex.fhirUser}&_tag=https://carecircle.dev/fhir/CodeSystem/share-category|mental-health`));
  const id = anxiety.entry?.[0]?.resource?.id;
  expect(id).toBeDefined();
  const patientId = system.state.people.alex.fhirUser.split('/')[1];
  const csrf = (await t.locator('input[name="csrf_token"]').first().getAttribute('value')) ?? '';
  const before = await json<Bundle>(await system.adminFhir(`/Composition?subject=${system.state.people.alex.fhirUser}`));
  // The portal offers only what is in the chart and lets the API judge it: mental health is not shared with the clinic.
  const answer = await therapist.request.post(`/portal/practice/clients/${patientId}/updates/new`, {
    maxRedirects: 0,
    form: { csrf_token: csrf, step: 'draft', recipient: `Organization/${system.state.partners['pelvic-pt'].organization}`, record: `Condition/${id}`, letter: '' },
  });
  expect(answer.status()).toBe(422);
  expect(await answer.text()).toContain('The client does not share “Mental health” with this provider');
  const after = await json<Bundle>(await system.adminFhir(`/Composition?subject=${system.state.people.alex.fhirUser}`));
  expect(after.entry?.length ?? 0).toBe(before.entry?.length ?? 0);
});

test('the therapist sends it to Alex, who approves it with a signature; the clinic then reads it, marked', async () => {
  await t.goto(`/portal/practice/updates/${approvedId}`);
  await t.getByRole('button', { name: 'Send to Alex Rivera for approval' }).click();
  await expect(t.locator('main').textContent()).resolves.toContain('Waiting for the client’s approval');
  expect(await axeViolations(t)).toEqual([]);
  expect((await clinicRead(`/Composition/${approvedId}`)).status).toBe(404);

  // Alex's start page says an update waits, and leads to it.
  await a.goto('/portal/');
  await a.getByRole('link', { name: 'Your therapist has written an update for a provider. It waits for your decision.' }).click();
  await expect(a.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Updates waiting for you');
  expect(await axeViolations(a)).toEqual([]);
  await a.getByRole('link', { name: `Read the update for ${PT_NAME}` }).click();
  await expect(a.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(`Your therapist’s update for ${PT_NAME}`);
  await expect(a.locator('main').textContent()).resolves.toContain('so she does not have to tell it again');
  expect(await axeViolations(a)).toEqual([]);
  await a.getByRole('link', { name: 'Approve and send' }).click();
  expect(await axeViolations(a)).toEqual([]);
  await a.getByRole('button', { name: 'Approve and send' }).click();
  const problems = (await a.getByRole('alert').textContent()) ?? '';
  expect(problems).toContain('Tick the box to agree');
  expect(problems).toContain('Enter your full name');
  expect(await axeViolations(a)).toEqual([]);
  await a.getByLabel(`I have read this update and I agree that it is sent to ${PT_NAME}.`).check();
  await a.getByLabel('Your full name').fill('Alex Rivera');
  await a.getByRole('button', { name: 'Approve and send' }).click();
  await a.waitForURL(new RegExp(`/portal/updates/${approvedId}/done$`));
  await expect(a.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(`Update sent to ${PT_NAME}`);
  expect(await axeViolations(a)).toEqual([]);

  const read = await clinicRead(`/Composition/${approvedId}`);
  expect(read.status).toBe(200);
  const released = read.body as Composition;
  expect(stateOf(released)).toBe('released');
  expect(released.meta?.security?.some((s) => s.code === NORDSCLCD)).toBe(true);
  expect(released.attester?.[0]?.party?.reference).toBe(system.state.people.alex.fhirUser);
  // The therapist's page now says it was sent, with the notice the clinic received.
  await t.reload();
  await expect(t.locator('main').textContent()).resolves.toContain('The provider has received it.');
  await expect(t.getByRole('heading', { name: 'Notice to the provider' }).isVisible()).resolves.toBe(true);
  expect(await axeViolations(t)).toEqual([]);
});

test('a second update Alex declines, with a reason, never reaches the clinic; both are in Alex’s history by provider', async () => {
  await startUpdateForClinic();
  await t.getByLabel(/Homework adherence/).check();
  await t.getByRole('button', { name: 'Save and preview' }).click();
  await t.waitForURL(/\/portal\/practice\/updates\/[^/]+$/);
  const declinedId = t.url().split('/').at(-1) ?? '';
  await t.getByRole('button', { name: 'Send to Alex Rivera for approval' }).click();
  await expect(t.locator('main').textContent()).resolves.toContain('Waiting for the client’s approval');

  await a.goto(`/portal/updates/${declinedId}`);
  // In Spanish too, then back.
  await a.getByRole('link', { name: 'Ver en español' }).click();
  await expect(a.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(`El informe de su terapeuta para ${PT_NAME}`);
  expect(await axeViolations(a)).toEqual([]);
  await a.getByRole('link', { name: 'View in English' }).click();
  await a.getByRole('link', { name: 'Decline' }).click();
  expect(await axeViolations(a)).toEqual([]);
  await a.getByLabel('Why? (optional)').fill('Not yet, please');
  await a.getByRole('button', { name: 'Decline the update' }).click();
  await a.waitForURL(new RegExp(`/portal/updates/${declinedId}/done$`));
  await expect(a.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Update declined');
  expect(await axeViolations(a)).toEqual([]);
  expect((await clinicRead(`/Composition/${declinedId}`)).status).toBe(404);
  const stored = await json<Composition>(await system.adminFhir(`/Composition/${declinedId}`));
  expect(stateOf(stored)).toBe('declined');

  await a.goto('/portal/');
  await expect(a.getByRole('link', { name: /waits for your decision/ }).count()).resolves.toBe(0);
  await a.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Updates for your providers' }).click();
  await expect(a.getByText('Nothing is waiting for you.').isVisible()).resolves.toBe(true);
  const history = a.getByRole('region', { name: PT_NAME });
  await expect(history.getByRole('listitem').count()).resolves.toBe(2);
  await expect(history.textContent()).resolves.toContain('You declined it');
  await expect(history.textContent()).resolves.toContain('Sent with your approval');
  expect(await axeViolations(a)).toEqual([]);

  await t.goto(`/portal/practice/updates/${declinedId}`);
  await expect(t.locator('main').textContent()).resolves.toContain('Declined by the client');
  await expect(t.locator('main').textContent()).resolves.toContain('Not yet, please');
  expect(await axeViolations(t)).toEqual([]);
});

test('Jordan cannot open, approve or decline Alex’s update', async () => {
  const jordan = await system.newContext();
  const j = await jordan.newPage();
  await signInThroughPortal(j, system.state, 'jordan');
  for (const path of [`/portal/updates/${approvedId}`, `/portal/updates/${approvedId}/approve`, `/portal/updates/${approvedId}/decline`]) {
    const res = await j.goto(path);
    expect(res?.status()).toBe(404);
    await expect(j.locator('main').textContent()).resolves.not.toContain('Alex');
  }
  await jordan.close();
});
