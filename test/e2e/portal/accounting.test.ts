/**
 * "Who saw what" in Chromium. The scene is set through the real API as the partners' own systems: the OB-GYN clinic
 * (which Alex shares goals, mental health and medicines with) searches Alex's goals and gets a summary (disclosures),
 * tries to read Alex's trauma history once and then three times in one batch (a denial, and a folded denial); the
 * pelvic-floor clinic, which Alex shares nothing with, tries to read a goal (a denial). Then Alex reads it all in
 * plain sentences, filters by provider and by period (a period with nothing is a calm empty state), gets the filter
 * errors GOV.UK style, downloads the CSV and the test reads it back; keyboard-only once, Spanish once, axe clean on
 * every page. Jordan never sees any of it, not even with Alex's page token.
 */
import type { Bundle, Condition, Goal } from '@medplum/fhirtypes';
import type { Page } from 'playwright-core';
import { personToken } from '@carecircle/demo';
import { axeViolations, signInThroughPortal, SIGN_IN_LABELS, startPortalSystem, type PortalSystem } from '../../support/portal-system';

jest.setTimeout(240_000);

const OBGYN = "Harbour Women's Health (OB-GYN)";
const PELVIC = 'Harbour Pelvic Health (pelvic-floor PT)';

let system: PortalSystem;
let alexPatient: string;

async function asPartner(partner: 'obgyn' | 'pelvic-pt', path: string, init: RequestInit = {}): Promise<Response> {
  const token = await system.partnerToken(partner);
  return fetch(`${system.baseUrl}/fhir/R4${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${token}`, Accept: 'application/fhir+json', 'Content-Type': 'application/fhir+json' },
  });
}

beforeAll(async () => {
  system = await startPortalSystem();
  alexPatient = system.state.people.alex.fhirUser;
  // Alex's own reads are no disclosure (and not audited): they find the ids the partners ask for.
  const alex = (await personToken(system.toolConfig, system.state, 'alex')).access_token;
  const own = async <T extends Condition | Goal>(path: string): Promise<Bundle<T>> =>
    (await (await fetch(`${system.baseUrl}/fhir/R4${path}`, { headers: { Authorization: `Bearer ${alex}`, Accept: 'application/fhir+json' } })).json()) as Bundle<T>;
  const conditions = await own<Condition>(`/Condition?patient=${alexPatient}`);
  const trauma = conditions.entry?.map((e) => e.resource).find((c) => c?.meta?.tag?.some((t) => t.code === 'trauma-history'));
  const goal = (await own<Goal>(`/Goal?patient=${alexPatient}`)).entry?.[0]?.resource;
  if (!trauma?.id || !goal?.id) {
    throw new Error('the demo network has no trauma history or goal for Alex');
  }

  // Disclosures: a search of Alex's goals, and a summary.
  expect((await asPartner('obgyn', `/Goal?patient=${alexPatient}`)).status).toBe(200);
  expect((await asPartner('obgyn', `/${alexPatient}/$summary`)).status).toBe(200);
  // Denials: one read of the trauma history, then three in one batch (folded into one record), and the pelvic-floor
  // clinic, which Alex shares nothing with, reading a goal.
  expect((await asPartner('obgyn', `/Condition/${trauma.id}`)).status).toBe(404);
  const batch = await asPartner('obgyn', '/', {
    method: 'POST',
    body: JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry: [1, 2, 3].map(() => ({ request: { method: 'GET', url: `Condition/${trauma.id}` } })) }),
  });
  expect(batch.status).toBe(200);
  expect((await asPartner('pelvic-pt', `/Goal/${goal.id}`)).status).toBe(404);
});

afterAll(async () => {
  await system?.stop();
});

/** The sentences of the list, as read. */
async function sentences(page: Page): Promise<string[]> {
  return (await page.locator('.accounting-sentence').allTextContents()).map((s) => s.replace(/\s+/g, ' ').trim());
}

/** Presses Tab until the focused element has `name` (its text or label), at most 80 times. */
async function tabTo(page: Page, name: string, key: 'Tab' | 'Shift+Tab' = 'Tab'): Promise<void> {
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press(key);
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el) {
        return '';
      }
      const labelled = el.id ? document.querySelector(`label[for="${el.id}"]`)?.textContent : undefined;
      return (labelled ?? el.textContent ?? '').trim();
    });
    if (focused === name) {
      return;
    }
  }
  throw new Error(`Tab never reached ${name}`);
}

/** RFC 4180 rows (quoted fields with doubled quotes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else {
      field += c;
    }
  }
  return rows;
}

describe('who saw what', () => {
  test('Alex reads the disclosures and denials in plain sentences, filters them, and downloads them', async () => {
    const context = await system.newContext();
    const page = await context.newPage();
    await signInThroughPortal(page, system.state, 'alex');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Who saw what' }).click();
    await page.waitForURL(/\/portal\/accounting$/);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Who saw what');
    expect(await page.title()).toBe('CareCircle');
    expect(await axeViolations(page)).toEqual([]);

    const all = await sentences(page);
    // Newest first: the pelvic-floor clinic's denial, the folded denial, the single denial, the summary, the search.
    expect(all).toHaveLength(5);
    expect(all[0]).toBe(`${PELVIC}’s system tried to look at your goals (1 item) — not allowed`);
    expect(all[1]).toBe(`${OBGYN}’s system tried to look at your trauma history (1 item) — not allowed (tried 3 times)`);
    expect(all[2]).toBe(`${OBGYN}’s system tried to look at your trauma history (1 item) — not allowed`);
    expect(all[3]).toMatch(
      new RegExp(
        `^${escape(OBGYN)}’s system received a summary of your basic details, your goals, your mental health and your medicines \\(\\d+ items\\) — allowed by what you shared on \\d+ \\w+ \\d{4}$`,
      ),
    );
    expect(all[4]).toMatch(new RegExp(`^${escape(OBGYN)}’s system searched for and found your goals \\(1 item\\) — allowed by what you shared on`));
    // The sharing choice that allowed it is a link to its page.
    const consentLink = page.getByRole('link', { name: /allowed by what you shared on/ }).first();
    await expect(consentLink.getAttribute('href')).resolves.toMatch(/^\/portal\/sharing\/[A-Za-z0-9-]+$/);
    // Grouped by day, with the day as a heading; no PHI in the address.
    await expect(page.locator('main h2 time').count()).resolves.toBe(1);
    expect(page.url()).toBe(`${system.baseUrl}/portal/accounting`);

    // By provider: only the pelvic-floor clinic's denial.
    await page.getByLabel('Provider').selectOption({ label: PELVIC });
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/provider=Organization%2F/);
    expect(new URL(page.url()).searchParams.get('provider')).toBe(`Organization/${system.state.partners['pelvic-pt'].organization}`);
    expect(await sentences(page)).toEqual([`${PELVIC}’s system tried to look at your goals (1 item) — not allowed`]);
    await expect(page.getByLabel('Provider').inputValue()).resolves.toBe(`Organization/${system.state.partners['pelvic-pt'].organization}`);
    expect(await axeViolations(page)).toEqual([]);

    // By period: today has the OB-GYN's four entries; a year long past has nothing, and says so calmly.
    await page.getByLabel('Provider').selectOption({ label: OBGYN });
    const today = new Date();
    await fillDate(page, 'From', today);
    await fillDate(page, 'To', today);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/to-year=/);
    expect(await sentences(page)).toHaveLength(4);
    await fillDate(page, 'From', new Date(2020, 0, 1));
    await fillDate(page, 'To', new Date(2020, 11, 31));
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/from-year=2020/);
    await expect(page.getByRole('heading', { name: 'Nothing to show' }).isVisible()).resolves.toBe(true);
    await expect(page.getByText('No provider saw, or tried to see, any of your record for these filters.').isVisible()).resolves.toBe(true);
    expect(await sentences(page)).toEqual([]);
    expect(await axeViolations(page)).toEqual([]);

    // Errors, GOV.UK style: the end before the start, and a date that does not exist.
    await fillDate(page, 'From', new Date(2026, 4, 10));
    await fillDate(page, 'To', new Date(2026, 4, 9));
    const answer = page.waitForResponse((r) => r.url().includes('/portal/accounting?'));
    await page.getByRole('button', { name: 'Apply filters' }).click();
    expect((await answer).status()).toBe(400);
    const summary = page.getByRole('alert');
    await expect(summary.getByRole('heading', { name: 'There is a problem' }).isVisible()).resolves.toBe(true);
    await summary.getByRole('link', { name: 'The end date must be the same as or after the start date' }).click();
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('to-day');
    // What was typed and chosen stays, so only the mistake needs fixing.
    await expect(page.getByLabel('Provider').inputValue()).resolves.toBe(`Organization/${system.state.partners.obgyn.organization}`);
    await expect(page.getByRole('group', { name: 'To' }).getByLabel('Day').inputValue()).resolves.toBe('9');
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('group', { name: 'From' }).getByLabel('Day').fill('31');
    await page.getByRole('group', { name: 'From' }).getByLabel('Month').fill('2');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect(page.getByRole('alert').getByRole('link', { name: 'The start date must be a real date' }).isVisible()).resolves.toBe(true);
    expect(await axeViolations(page)).toEqual([]);

    // The CSV of everything: download it and read it back.
    await page.getByRole('link', { name: 'Clear filters' }).click();
    await page.waitForURL(/\/portal\/accounting$/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download this list as a spreadsheet (CSV)' }).click()]);
    expect(download.suggestedFilename()).toBe('carecircle-accounting.csv');
    const path = await download.path();
    const bytes = await import('node:fs').then((fs) => fs.readFileSync(path));
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows = parseCsv(bytes.toString('utf8').slice(1));
    expect(rows[0]).toEqual(['Date and time', 'Provider', 'Who', 'What', 'Categories', 'Items', 'Outcome', 'Times', 'Consent date']);
    expect(rows).toHaveLength(6);
    for (const row of rows.slice(1)) {
      expect(row[0]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    }
    expect(rows[1]).toEqual([expect.any(String), PELVIC, 'System', 'Looked at', 'Your goals', '1', 'not allowed', '1', '']);
    expect(rows[2]).toEqual([expect.any(String), OBGYN, 'System', 'Looked at', 'Trauma history', '1', 'not allowed', '3', '']);
    expect(rows[4]).toEqual([
      expect.any(String),
      OBGYN,
      'System',
      'Received a summary',
      'Basic details; Your goals; Mental health; Medicines',
      expect.stringMatching(/^\d+$/),
      'allowed',
      '',
      expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
    ]);
    expect(rows[5]?.slice(1, 8)).toEqual([OBGYN, 'System', 'Searched', 'Your goals', '1', 'allowed', '']);

    // The file answers like every portal response: never cached; the name says nothing.
    const res = await page.request.get('/portal/accounting.csv');
    expect(res.headers()['cache-control']).toBe('no-store');
    expect(res.headers()['content-disposition']).toBe('attachment; filename="carecircle-accounting.csv"');
    expect(res.headers()['content-type']).toBe('text/csv; charset=utf-8');
    await context.close();
  });

  test('keyboard only: to the list, filtered by provider, and back to all', async () => {
    const context = await system.newContext();
    const page = await context.newPage();
    await signInThroughPortal(page, system.state, 'alex');
    await tabTo(page, 'Who saw what');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/portal\/accounting$/);
    await tabTo(page, 'Provider');
    // A closed select changes with the arrow keys; the pelvic-floor clinic is first by name.
    await page.keyboard.press('ArrowDown');
    await expect(page.getByLabel('Provider').inputValue()).resolves.toBe(`Organization/${system.state.partners['pelvic-pt'].organization}`);
    await tabTo(page, 'Apply filters');
    await page.keyboard.press('Space');
    await page.waitForURL(/provider=/);
    expect(await sentences(page)).toEqual([`${PELVIC}’s system tried to look at your goals (1 item) — not allowed`]);
    await tabTo(page, 'Clear filters');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/portal\/accounting$/);
    expect(await sentences(page)).toHaveLength(5);
    await tabTo(page, 'Who saw what', 'Shift+Tab');
    await expect(page.evaluate(() => document.activeElement?.getAttribute('aria-current'))).resolves.toBe('page');
    await context.close();
  });

  test('in Spanish: the sentences, the filters and the CSV headers', async () => {
    const context = await system.newContext({ locale: 'es-ES' });
    const page = await context.newPage();
    await signInThroughPortal(page, system.state, 'alex', SIGN_IN_LABELS.es);
    await page.goto('/portal/accounting');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Quién vio qué');
    const all = await sentences(page);
    expect(all[1]).toBe(`El sistema de ${OBGYN} intentó consultar su historia de trauma (1 elemento) — no permitido (lo intentó 3 veces)`);
    expect(all[4]).toMatch(new RegExp(`^El sistema de ${escape(OBGYN)} buscó y encontró sus objetivos \\(1 elemento\\) — permitido por lo que compartió el`));
    await expect(page.getByLabel('Proveedor').isVisible()).resolves.toBe(true);
    expect(await axeViolations(page)).toEqual([]);
    const res = await page.request.get('/portal/accounting.csv');
    expect((await res.text()).slice(1).split('\r\n')[0]).toBe('Fecha y hora,Proveedor,Quién,Qué,Categorías,Elementos,Resultado,Veces,Fecha del permiso');
    await context.close();
  });

  test('Jordan sees none of Alex’s entries, not even with Alex’s page token', async () => {
    const context = await system.newContext();
    const page = await context.newPage();
    await signInThroughPortal(page, system.state, 'jordan');
    await page.goto('/portal/accounting');
    // Jordan's own list holds only what the demo's setup did with the operator's token; no partner read Jordan's record.
    const own = await sentences(page);
    for (const sentence of own) {
      expect(sentence).toMatch(/^The CareCircle service administrator /);
    }
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).not.toContain('trauma');
    expect(text).not.toContain(PELVIC);
    expect(await axeViolations(page)).toEqual([]);
    // Filtering by the clinic that tried to read Alex's record finds nothing.
    await page.goto(`/portal/accounting?provider=Organization/${system.state.partners['pelvic-pt'].organization}`);
    await expect(page.getByRole('heading', { name: 'Nothing to show' }).isVisible()).resolves.toBe(true);
    expect(await sentences(page)).toEqual([]);
    // Jordan's CSV is Jordan's alone.
    const csv = await (await page.request.get('/portal/accounting.csv')).text();
    expect(csv.slice(1).split('\r\n').filter(Boolean)).toHaveLength(own.length + 1);
    expect(csv).not.toContain('Harbour');
    // A page token of another caller's search is refused by the API; the list starts again, still Jordan's.
    await page.goto(`/portal/accounting?page=${await alexPageToken()}`);
    await expect(page.getByText('The list was out of date, so it starts again from the newest entries.').isVisible()).resolves.toBe(true);
    expect(await sentences(page)).toEqual(own);
    expect(await axeViolations(page)).toEqual([]);
    await context.close();
  });

  test('more than a page: older entries by the API’s sealed token, and back to the newest (runs last: it adds entries)', async () => {
    for (let i = 0; i < 25; i++) {
      expect((await asPartner('obgyn', `/Goal?patient=${alexPatient}`)).status).toBe(200);
    }
    const context = await system.newContext();
    const page = await context.newPage();
    await signInThroughPortal(page, system.state, 'alex');
    await page.goto('/portal/accounting');
    const first = await sentences(page);
    expect(first).toHaveLength(25);
    await expect(page.getByText('Showing 25 entries on this page.').isVisible()).resolves.toBe(true);
    await page.getByRole('navigation', { name: 'More entries' }).getByRole('link', { name: 'Older entries' }).click();
    await page.waitForURL(/[?&]page=[A-Za-z0-9_-]+$/);
    // The token is the API's, sealed: the address holds nothing else.
    expect([...new URL(page.url()).searchParams.keys()]).toEqual(['page']);
    const second = await sentences(page);
    expect(second).toHaveLength(5);
    expect(second[4]).toMatch(new RegExp(`^${escape(OBGYN)}’s system searched for and found your goals \\(1 item\\)`));
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('link', { name: 'Back to the newest entries' }).click();
    await page.waitForURL(/\/portal\/accounting$/);
    expect(await sentences(page)).toEqual(first);
    await context.close();
  });
});

/** A `_page` token of a search of Alex's AuditEvents, as Alex. */
async function alexPageToken(): Promise<string> {
  const alex = (await personToken(system.toolConfig, system.state, 'alex')).access_token;
  const res = await fetch(`${system.baseUrl}/fhir/R4/AuditEvent?patient=${alexPatient}&_sort=-date&_count=1`, {
    headers: { Authorization: `Bearer ${alex}`, Accept: 'application/fhir+json' },
  });
  const bundle = (await res.json()) as Bundle;
  const next = bundle.link?.find((l) => l.relation === 'next')?.url;
  const token = next ? new URL(next).searchParams.get('_page') : null;
  if (!token) {
    throw new Error('no next page for Alex');
  }
  return token;
}

async function fillDate(page: Page, legend: 'From' | 'To', date: Date): Promise<void> {
  const group = page.getByRole('group', { name: legend });
  await group.getByLabel('Day').fill(String(date.getDate()));
  await group.getByLabel('Month').fill(String(date.getMonth() + 1));
  await group.getByLabel('Year').fill(String(date.getFullYear()));
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
