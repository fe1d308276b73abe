/**
 * The practice area in Chromium: a therapist signs in through the same confidential app as clients (with `user/`
 * scopes), each area refuses the other kind of user with a page that says so, and the referrals board shows the
 * therapist's referrals by state as the partner clinic moves them through the API (waiting, overdue, accepted, in
 * progress, completed, expired, declined), with the partner, the time to the deadline and the last message. The
 * board's actions are checked against the API after each step: "remind again" writes a Communication about the Task
 * to the partner, "cancel" moves the Task to cancelled with the reason, "send to another provider" makes a new
 * referral, or says plainly what to ask the client for when the API refuses it for want of consent. axe-core (WCAG
 * 2.0-2.2 A/AA) runs on every page met.
 */
import type { Bundle, Communication, Consent, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import type { BrowserContext, Page } from 'playwright-core';
import { axeViolations, signInThroughPortal, startPortalSystem, type PortalSystem } from '../../support/portal-system';

jest.setTimeout(300_000);

let system: PortalSystem;
let therapist: BrowserContext;
let page: Page;

const FOLLOW_UP_SYSTEM = 'https://carecircle.dev/fhir/CodeSystem/referral-follow-up';

beforeAll(async () => {
  system = await startPortalSystem();
  therapist = await system.newContext();
  page = await therapist.newPage();
});

afterAll(async () => {
  await therapist?.close();
  await system?.stop();
});

async function json<T>(res: Response): Promise<T> {
  const text = await res.text();
  if (!res.ok) {
    throw new Error(`${res.status}: ${text}`);
  }
  return JSON.parse(text) as T;
}

/** A FHIR call as the OB-GYN clinic's system. */
async function asClinic<T>(path: string, init: RequestInit = {}): Promise<T> {
  const token = await system.partnerToken('obgyn');
  return json<T>(
    await fetch(`${system.baseUrl}/fhir/R4${path}`, {
      ...init,
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/fhir+json', 'Content-Type': 'application/fhir+json', ...init.headers },
    }),
  );
}

async function asAdmin<T>(path: string, init: RequestInit = {}): Promise<T> {
  return json<T>(await system.adminFhir(path, init));
}

const jordan = () => system.state.people.jordan.fhirUser;
const therapistRef = () => system.state.people.therapist.fhirUser;
const obgyn = () => `Organization/${system.state.partners.obgyn.organization}`;
const pelvicPt = () => `Organization/${system.state.partners['pelvic-pt'].organization}`;

/** A referral of Jordan to the OB-GYN clinic made by the therapist's practice; its Task. */
async function referJordan(reason: string): Promise<Task & { id: string }> {
  const request = await asAdmin<ServiceRequest>('/ServiceRequest', {
    method: 'POST',
    body: JSON.stringify({
      resourceType: 'ServiceRequest',
      status: 'active',
      intent: 'order',
      priority: 'routine',
      category: [{ coding: [{ system: 'http://snomed.info/sct', code: '3457005', display: 'Patient referral' }] }],
      code: { text: reason },
      subject: { reference: jordan() },
      requester: { reference: therapistRef() },
      performer: [{ reference: obgyn() }],
    } satisfies ServiceRequest),
  });
  return taskOf(request.id ?? '');
}

async function taskOf(serviceRequestId: string): Promise<Task & { id: string }> {
  const bundle = await asAdmin<Bundle<Task>>(`/Task?focus=ServiceRequest/${serviceRequestId}`);
  const task = bundle.entry?.[0]?.resource;
  if (!task?.id) {
    throw new Error('the referral has no Task');
  }
  return task as Task & { id: string };
}

async function readTask(id: string): Promise<Task & { id: string }> {
  return asAdmin<Task & { id: string }>(`/Task/${id}`);
}

/** The clinic moves its Task through `statuses`, in order. */
async function clinicMoves(taskId: string, ...steps: Array<Partial<Task>>): Promise<Task> {
  let task: Task = await readTask(taskId);
  for (const step of steps) {
    task = await asClinic<Task>(`/Task/${taskId}`, { method: 'PUT', body: JSON.stringify({ ...task, ...step }) });
  }
  return task;
}

async function consultNote(serviceRequestId: string): Promise<string> {
  const note = await asClinic<Resource>('/DocumentReference', {
    method: 'POST',
    body: JSON.stringify({
      resourceType: 'DocumentReference',
      status: 'current',
      type: { coding: [{ system: 'http://loinc.org', code: '11488-4', display: 'Consult note' }] },
      subject: { reference: jordan() },
      context: { related: [{ reference: `ServiceRequest/${serviceRequestId}` }] },
      content: [{ attachment: { contentType: 'text/plain', data: Buffer.from('Seen; hormone panel normal.').toString('base64') } }],
    }),
  });
  return note.id ?? '';
}

/** The board's section for a state, by its heading. */
function section(heading: RegExp) {
  return page.getByRole('region', { name: heading });
}

describe('signing in to the practice area', () => {
  test('a client who signs in to the practice area is told it is the practice’s, and gets no session there', async () => {
    const context = await system.newContext();
    const p = await context.newPage();
    await p.goto('/portal/practice/');
    expect(await axeViolations(p)).toEqual([]);
    await p.getByRole('link', { name: 'Sign in' }).click();
    await p.getByLabel('Username').fill(system.state.people.alex.username);
    await p.getByLabel('Password').fill(system.state.people.alex.password);
    await p.getByRole('button', { name: 'Sign in', exact: true }).click();
    await p.waitForURL(/\/portal\/callback/);
    await expect(p.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('This area is for the practice');
    expect(await axeViolations(p)).toEqual([]);
    const board = await p.goto('/portal/practice/');
    expect(board?.status()).toBe(200);
    await expect(p.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Your practice’s referrals');
    await context.close();
  });

  test('a therapist who signs in to the client area is told it is for clients', async () => {
    const context = await system.newContext();
    const p = await context.newPage();
    await p.goto('/portal/sign-in');
    await p.getByLabel('Username').fill(system.state.people.therapist.username);
    await p.getByLabel('Password').fill(system.state.people.therapist.password);
    await p.getByRole('button', { name: 'Sign in', exact: true }).click();
    await p.waitForURL(/\/portal\/callback/);
    await expect(p.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('This page is for clients');
    expect(await axeViolations(p)).toEqual([]);
    await context.close();
  });

  test('the therapist signs in to the practice area; the client pages refuse the therapist, the practice pages a client', async () => {
    await page.goto('/portal/practice/');
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.waitForURL(/\/oauth2\/authorize/);
    // The sign-in page names what the practice area asks for: working with the practice's clients' records.
    await expect(page.locator('main').textContent()).resolves.toContain('Work with your clients');
    await page.getByLabel('Username').fill(system.state.people.therapist.username);
    await page.getByLabel('Password').fill(system.state.people.therapist.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(/\/portal\/practice\/$/);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Your referrals');
    await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Referrals' }).isVisible()).resolves.toBe(true);
    expect(JSON.stringify(await therapist.cookies())).not.toMatch(/eyJ/);

    const share = await page.goto('/portal/share');
    expect(share?.status()).toBe(403);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('This area is for clients');
    expect(await axeViolations(page)).toEqual([]);
    await page.goto('/portal/');
    expect(new URL(page.url()).pathname).toBe('/portal/practice/');

    const client = await system.newContext();
    const c = await client.newPage();
    await signInThroughPortal(c, system.state, 'jordan');
    const refused = await c.goto('/portal/practice/');
    expect(refused?.status()).toBe(403);
    await expect(c.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('This area is for the practice');
    expect(await axeViolations(c)).toEqual([]);
    // Nor can a client post the practice's forms, even with the own session's form token.
    const task = await referJordan('Pelvic exam with a chaperone');
    await c.goto('/portal/share');
    const csrf = (await c.locator('input[name="csrf_token"]').first().getAttribute('value')) ?? '';
    const action = await c.request.post(`/portal/practice/referrals/${task.id}/remind`, { maxRedirects: 0, form: { csrf_token: csrf } });
    expect(action.status()).toBe(403);
    const messages = await asAdmin<Bundle>(`/Communication?based-on=${task.focus?.reference ?? ''}`);
    expect(messages.entry ?? []).toEqual([]);
    await client.close();
  });
});

describe('the referrals board', () => {
  let waiting: Task & { id: string };
  let overdue: Task & { id: string };
  let accepted: Task & { id: string };
  let inProgress: Task & { id: string };
  let completed: Task & { id: string };
  let expired: Task & { id: string };
  let declined: Task & { id: string };

  beforeAll(async () => {
    waiting = await referJordan('Evaluation of pain: hormonal causes');
    overdue = await referJordan('Medication review for low desire');
    accepted = await referJordan('Pelvic ultrasound');
    inProgress = await referJordan('Hormone panel');
    completed = await referJordan('Annual exam with trauma-informed approach');
    expired = await referJordan('Second opinion on dyspareunia');
    declined = await referJordan('Fertility consult');
    // The deadline passed (as the operator could set it; the worker's reminder follows on its own).
    const stale = await readTask(overdue.id);
    await asAdmin(`/Task/${overdue.id}`, {
      method: 'PUT',
      body: JSON.stringify({ ...stale, restriction: { period: { end: new Date(Date.now() - 3 * 3_600_000).toISOString() } } }),
    });
    await clinicMoves(accepted.id, { status: 'accepted' });
    await clinicMoves(inProgress.id, { status: 'accepted' }, { status: 'in-progress' });
    const noteId = await consultNote(completed.focus?.reference?.split('/')[1] ?? '');
    await clinicMoves(
      completed.id,
      { status: 'accepted' },
      { status: 'in-progress' },
      { status: 'completed', output: [{ type: { text: 'Consult note' }, valueReference: { reference: `DocumentReference/${noteId}` } }] },
    );
    // Expiry as the server's step writes it (the one move outside the state machine, the server's or the operator's).
    const unacknowledged = await readTask(expired.id);
    await asAdmin(`/Task/${expired.id}`, {
      method: 'PUT',
      body: JSON.stringify({
        ...unacknowledged,
        status: 'failed',
        statusReason: { text: 'not acknowledged in time' },
        businessStatus: { coding: [{ system: FOLLOW_UP_SYSTEM, code: 'expired' }] },
      }),
    });
    await clinicMoves(declined.id, { status: 'rejected', statusReason: { text: 'We do not offer fertility consults' } });
    // The clinic replies to the accepted referral.
    await asClinic('/Communication', {
      method: 'POST',
      body: JSON.stringify({
        resourceType: 'Communication',
        status: 'completed',
        subject: { reference: jordan() },
        basedOn: [{ reference: accepted.focus?.reference }],
        sender: { reference: obgyn() },
        recipient: [{ reference: therapistRef() }],
        sent: new Date().toISOString(),
        payload: [{ contentString: 'Booked for next Tuesday' }],
      } satisfies Communication),
    });
  });

  test('shows each referral under its state, with the partner, the deadline and the last message; axe clean', async () => {
    await page.goto('/portal/practice/');
    const headings = await page.getByRole('heading', { level: 2 }).allTextContents();
    const order = ['Overdue', 'Waiting for acknowledgement', 'Accepted', 'In progress', 'Expired', 'Completed', 'Declined or stopped'];
    const seen = order.map((o) => headings.findIndex((h) => h.startsWith(o)));
    expect(seen.every((i) => i >= 0)).toBe(true);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);

    const overdueSection = section(/^Overdue/);
    await expect(overdueSection.textContent()).resolves.toContain('Medication review for low desire');
    await expect(overdueSection.textContent()).resolves.toMatch(/3 hours overdue/);
    await expect(overdueSection.textContent()).resolves.toContain("Harbour Women's Health (OB-GYN)");
    await expect(overdueSection.textContent()).resolves.toContain('Referral for Jordan Lee');

    const waitingSection = section(/^Waiting for acknowledgement/);
    await expect(waitingSection.textContent()).resolves.toContain('Evaluation of pain: hormonal causes');
    await expect(waitingSection.textContent()).resolves.toMatch(/Due in \d+ (days|hours)/);

    await expect(section(/^Accepted/).textContent()).resolves.toContain('Booked for next Tuesday');
    await expect(section(/^In progress/).textContent()).resolves.toContain('Hormone panel');
    await expect(section(/^Completed/).textContent()).resolves.toContain('Annual exam with trauma-informed approach');
    await expect(section(/^Expired/).textContent()).resolves.toContain('not acknowledged in time');
    await expect(section(/^Declined or stopped/).textContent()).resolves.toContain('We do not offer fertility consults');
    // A completed referral offers nothing to do; a declined one only re-sending.
    await expect(section(/^Completed/).getByRole('button').count()).resolves.toBe(0);
    await expect(section(/^Declined or stopped/).getByRole('link', { name: /Send to another provider/ }).count()).resolves.toBe(1);
    await expect(section(/^Declined or stopped/).getByRole('button', { name: /Remind again/ }).count()).resolves.toBe(0);
    // The partners' response times, from Task/$referral-metrics: one row for the OB-GYN clinic, counting every referral.
    const metrics = page.getByRole('table', { name: 'Response times by partner' });
    const row = metrics.getByRole('row', { name: /Harbour Women's Health/ });
    await expect(row.getByRole('cell').first().textContent()).resolves.toMatch(/^\d+$/);
    expect(Number(await row.getByRole('cell').first().textContent())).toBeGreaterThanOrEqual(8);
    expect(await axeViolations(page)).toEqual([]);
  });

  test('the board speaks Spanish too', async () => {
    await page.getByRole('link', { name: 'Ver en español' }).click();
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Sus derivaciones');
    await expect(section(/^Vencidas/).textContent()).resolves.toMatch(/Vencida hace 3 horas/);
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('link', { name: 'View in English' }).click();
  });

  test('"Remind again" sends the partner a message about the Task, shown as the last message', async () => {
    await page.goto('/portal/practice/');
    await section(/^Overdue/).getByRole('button', { name: /Remind again/ }).first().click();
    await page.waitForURL(new RegExp(`/portal/practice/referrals/${overdue.id}/reminded$`));
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe("Reminder sent to Harbour Women's Health (OB-GYN)");
    expect(await axeViolations(page)).toEqual([]);
    // The clinic reads it: a Communication about its Task, addressed to it, from the therapist.
    const messages = await asClinic<Bundle<Communication>>(`/Communication?based-on=${overdue.focus?.reference}`);
    const reminder = messages.entry?.map((e) => e.resource).find((c) => c?.about?.some((a) => a.reference === `Task/${overdue.id}`));
    expect(reminder).toMatchObject({ recipient: [{ reference: obgyn() }], sender: { reference: therapistRef() } });
    await page.getByRole('link', { name: 'Back to your referrals' }).click();
    await expect(section(/^Overdue/).textContent()).resolves.toContain('please acknowledge this referral');
  });

  test('"Cancel" asks why (an error summary when left empty), then cancels the Task with the reason', async () => {
    await page.goto('/portal/practice/');
    await section(/^Waiting for acknowledgement/)
      .getByRole('listitem')
      .filter({ hasText: 'Evaluation of pain: hormonal causes' })
      .getByRole('link', { name: /Cancel referral/ })
      .click();
    await page.waitForURL(new RegExp(`/portal/practice/referrals/${waiting.id}/cancel$`));
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe("Cancel the referral of Jordan Lee to Harbour Women's Health (OB-GYN)?");
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Cancel referral' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('Enter why you are cancelling the referral');
    expect(await axeViolations(page)).toEqual([]);
    expect((await readTask(waiting.id)).status).toBe('requested');
    await page.getByLabel('Why are you cancelling it?').fill('The client chose to wait until after the move');
    await page.getByRole('button', { name: 'Cancel referral' }).click();
    await page.waitForURL(new RegExp(`/portal/practice/referrals/${waiting.id}/cancelled$`));
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe("Referral to Harbour Women's Health (OB-GYN) cancelled");
    expect(await axeViolations(page)).toEqual([]);
    const now = await readTask(waiting.id);
    expect(now.status).toBe('cancelled');
    expect(now.statusReason?.text).toBe('The client chose to wait until after the move');
  });

  test('"Send to another provider" without the client’s consent says what to ask the client for, and sends nothing', async () => {
    const before = await asAdmin<Bundle>(`/ServiceRequest?subject=${jordan()}&performer=${pelvicPt()}`);
    await page.goto(`/portal/practice/referrals/${declined.id}/resend`);
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Send referral' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('Choose a provider');
    await page.getByLabel(/Harbour Pelvic Health/).check();
    const answer = page.waitForResponse((r) => r.url().endsWith(`/referrals/${declined.id}/resend`) && r.request().method() === 'POST');
    await page.getByRole('button', { name: 'Send referral' }).click();
    expect((await answer).status()).toBe(422);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Jordan Lee has not agreed to share this with Harbour Pelvic Health (pelvic-floor PT)');
    await expect(page.locator('main').textContent()).resolves.toContain('Ask Jordan Lee to add it in their CareCircle portal');
    expect(await axeViolations(page)).toEqual([]);
    const after = await asAdmin<Bundle>(`/ServiceRequest?subject=${jordan()}&performer=${pelvicPt()}`);
    expect(after.entry?.length ?? 0).toBe(before.entry?.length ?? 0);
  });

  test('"Send to another provider" with the client’s consent makes a new referral to that provider', async () => {
    await asAdmin<Consent>('/Consent', {
      method: 'POST',
      body: JSON.stringify({
        resourceType: 'Consent',
        status: 'active',
        scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
        category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
        patient: { reference: jordan() },
        performer: [{ reference: jordan() }],
        organization: [{ reference: `Organization/${system.state.practice}` }],
        policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
        provision: {
          type: 'permit',
          actor: [{ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] }, reference: { reference: pelvicPt() } }],
          purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }],
          code: [{ coding: [{ system: 'https://carecircle.dev/fhir/CodeSystem/share-category', code: 'care-plan' }] }],
        },
      } satisfies Consent),
    });
    await page.goto(`/portal/practice/referrals/${declined.id}/resend`);
    await page.getByLabel(/Harbour Pelvic Health/).check();
    await page.getByRole('button', { name: 'Send referral' }).click();
    await page.waitForURL(/\/portal\/practice\/referrals\/[^/]+\/sent$/);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Referral sent to Harbour Pelvic Health (pelvic-floor PT)');
    expect(await axeViolations(page)).toEqual([]);
    const newTaskId = page.url().split('/').at(-2) ?? '';
    const task = await readTask(newTaskId);
    expect(task).toMatchObject({ status: 'requested', owner: { reference: pelvicPt() }, requester: { reference: therapistRef() } });
    const request = await asAdmin<ServiceRequest>(`/${task.focus?.reference ?? ''}`);
    expect(request.code?.text).toBe('Fertility consult');
    expect(request.replaces?.[0]?.reference).toBe(declined.focus?.reference);
    await page.getByRole('link', { name: 'Back to your referrals' }).click();
    await expect(section(/^Waiting for acknowledgement/).textContent()).resolves.toContain('Harbour Pelvic Health (pelvic-floor PT)');
  });

  test('another practitioner’s or a made-up referral id is the 404 page, and changes nothing', async () => {
    const csrf = (await page.locator('input[name="csrf_token"]').first().getAttribute('value')) ?? '';
    for (const id of ['does-not-exist', '..%2F..%2Fadmin']) {
      const res = await therapist.request.post(`/portal/practice/referrals/${id}/remind`, { maxRedirects: 0, form: { csrf_token: csrf } });
      expect(res.status()).toBe(404);
    }
    const unknown = await page.goto('/portal/practice/nothing-here');
    expect(unknown?.status()).toBe(404);
  });

  test('signing out of the practice area ends the session', async () => {
    await page.goto('/portal/practice/');
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(/\/portal\/practice\/signed-out$/);
    expect(await axeViolations(page)).toEqual([]);
    await page.goto('/portal/practice/');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Your practice’s referrals');
  });
});
