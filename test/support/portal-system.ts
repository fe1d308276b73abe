/**
 * The whole system for the portal's browser journeys: CareCircle started as `npm start` runs it (API, worker and
 * portal in one process) on a fresh PostgreSQL database, or on embedded PGlite (the default), with its own Redis
 * prefix; the demo care network built through the public API (`npm run demo`'s code: a practice, its therapist,
 * clients Alex and Jordan who can sign in, partner clinics with system clients, the practice's directory); and
 * Debian's Chromium driven by playwright-core (never a downloaded browser). Partners' reads go through the real API
 * with the partners' own signed client assertions, so a test checks what the partner meets after each step.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import AxeBuilder from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { buildCareNetwork, partnerSystemToken, type DemoState, type PartnerSystem, type Person, type ToolConfig } from '@carecircle/demo';
import { createTestDatabase, type TestDatabase } from '@carecircle/testing';
import { startCareCircle, type RunningProcess } from './process';

/** Debian's Chromium (`.ci/run` installs it when missing); CHROMIUM_PATH overrides. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The flags this machine's closed network and root user need (no sandbox as root; no background connections). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export interface PortalSystem {
  /** `http://localhost:{port}`: the public base (BASE_URL), so cookies and the Origin checks see one origin. */
  readonly baseUrl: string;
  readonly state: DemoState;
  readonly toolConfig: ToolConfig;
  readonly browser: Browser;
  /** A fresh browser profile (no cookies), in `locale`. */
  newContext(options?: { locale?: string }): Promise<BrowserContext>;
  /** A partner clinic's system token (SMART backend services), for checking what the partner meets. */
  partnerToken(partner: PartnerSystem): Promise<string>;
  /** A FHIR request as the operator (admin token). */
  adminFhir(path: string, init?: RequestInit): Promise<Response>;
  /** What the server printed (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/** Starts the system; `store` picks PostgreSQL (a fresh database) or embedded PGlite (the default's store). */
export async function startPortalSystem(options: { store?: 'postgres' | 'pglite'; env?: Record<string, string> } = {}): Promise<PortalSystem> {
  const dataDir = mkdtempSync(join(tmpdir(), 'carecircle-portal-'));
  let database: TestDatabase | undefined;
  let server: RunningProcess | undefined;
  let browser: Browser | undefined;
  try {
    database = options.store === 'pglite' ? undefined : await createTestDatabase();
    const port = String(await freeLocalPort());
    const baseUrl = `http://localhost:${port}`;
    const adminToken = randomBytes(32).toString('base64url');
    const env: Record<string, string> = {
      PORT: port,
      BASE_URL: baseUrl,
      DATA_DIR: dataDir,
      ADMIN_TOKEN: adminToken,
      REDIS_PREFIX: `{portal-test-${randomBytes(4).toString('hex')}}`,
      ...(database ? { DATABASE_URL: database.url } : {}),
      ...options.env,
    };
    server = await startCareCircle(env, options.store === 'pglite' ? 120_000 : 60_000);
    const toolConfig: ToolConfig = { baseUrl, fhirBaseUrl: `${baseUrl}/fhir/R4`, adminToken, demoDir: join(dataDir, 'demo') };
    const state = await buildCareNetwork(toolConfig);
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
    const running = server;
    const openBrowser = browser;
    const db = database;
    return {
      baseUrl,
      state,
      toolConfig,
      browser: openBrowser,
      newContext: (o = {}) => openBrowser.newContext({ locale: o.locale ?? 'en-GB', baseURL: baseUrl }),
      async partnerToken(partner) {
        return (await partnerSystemToken(toolConfig, state, partner)).access_token;
      },
      adminFhir(path, init = {}) {
        return fetch(`${baseUrl}/fhir/R4${path}`, {
          ...init,
          headers: { Authorization: `Bearer ${adminToken}`, Accept: 'application/fhir+json', 'Content-Type': 'application/fhir+json', ...init.headers },
        });
      },
      output: () => running.output(),
      async stop() {
        await openBrowser.close().catch(() => undefined);
        await running.stop();
        await db?.drop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await browser?.close().catch(() => undefined);
    const output = server?.output() ?? '';
    await server?.stop();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`the portal system did not start: ${(err as Error).message}\n${output}`, { cause: err });
  }
}

async function freeLocalPort(): Promise<number> {
  const { freePort } = await import('@carecircle/testing');
  return freePort();
}

/** Signs `who` in through the portal's start page and the API's sign-in page, as a person would. */
export async function signInThroughPortal(page: Page, state: DemoState, who: Person, labels: SignInLabels = SIGN_IN_LABELS.en): Promise<void> {
  await page.goto('/portal/');
  await page.getByRole('link', { name: labels.start }).click();
  await page.getByLabel(labels.username).fill(state.people[who].username);
  await page.getByLabel(labels.password).fill(state.people[who].password);
  await page.getByRole('button', { name: labels.submit, exact: true }).click();
  await page.waitForURL(/\/portal\/$/);
}

/** The accessible names a person signs in by (the portal's and the sign-in page's words). */
export interface SignInLabels {
  readonly start: string;
  readonly username: string;
  readonly password: string;
  readonly submit: string;
}

/** Those names per language. */
export const SIGN_IN_LABELS: Record<'en' | 'es', SignInLabels> = {
  en: { start: 'Sign in', username: 'Username', password: 'Password', submit: 'Sign in' },
  es: { start: 'Iniciar sesión', username: 'Usuario', password: 'Contraseña', submit: 'Iniciar sesión' },
};

/**
 * Runs axe-core on the page with the WCAG 2.0, 2.1 and 2.2 A and AA rules and returns the violations, summarised
 * for a readable failure (`expect(await axeViolations(page)).toEqual([])`).
 */
export async function axeViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa']).analyze();
  return results.violations.map((v) => `${v.id} (${v.impact ?? 'n/a'}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** A FHIR read as a partner system: the status it gets. */
export async function partnerStatus(system: PortalSystem, partner: PartnerSystem, path: string): Promise<number> {
  const token = await system.partnerToken(partner);
  const res = await fetch(`${system.baseUrl}/fhir/R4${path}`, { headers: { Authorization: `Bearer ${token}`, Accept: 'application/fhir+json' } });
  await res.arrayBuffer();
  return res.status;
}
