/**
 * The portal deployed apart from the API (ROLE=portal, as production scales it), behind one origin as a load balancer
 * would serve it (a loopback proxy: /portal to the portal, the rest to the API): a client signs in in Chromium and
 * sees the overview. The session's life in Redis: idle for 15 minutes ends it (cookie and Redis entry expire
 * together). Redis lost under the portal: its pages answer an accessible 503 with Retry-After, its /readyz fails, the
 * process lives, and when Redis is back the client signs in again.
 */
import { createServer, request, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { chromium, type Browser } from 'playwright-core';
import { createClient } from 'redis';
import { buildCareNetwork, type DemoState } from '@carecircle/demo';
import { createTestDatabase, freePort, startPrivateRedis, type PrivateRedis, type TestDatabase } from '@carecircle/testing';
import { startCareCircle, type RunningProcess } from '../../support/process';
import { axeViolations, CHROMIUM_ARGS, CHROMIUM_PATH, signInThroughPortal } from '../../support/portal-system';

jest.setTimeout(240_000);

let database: TestDatabase;
let portalRedis: PrivateRedis;
let api: RunningProcess;
let portal: RunningProcess;
let proxy: Server;
let browser: Browser;
let baseUrl: string;
let portalUrl: string;
let state: DemoState;
const dataDir = mkdtempSync(join(tmpdir(), 'carecircle-portal-split-'));
const redisPrefix = `{portal-split-${randomBytes(4).toString('hex')}}`;

beforeAll(async () => {
  database = await createTestDatabase();
  portalRedis = await startPrivateRedis();
  const [publicPort, apiPort, portalPort] = [await freePort(), await freePort(), await freePort()];
  baseUrl = `http://localhost:${publicPort}`;
  portalUrl = `http://127.0.0.1:${portalPort}`;
  const adminToken = randomBytes(32).toString('base64url');
  const shared = { BASE_URL: baseUrl, ADMIN_TOKEN: adminToken, DATABASE_URL: database.url, DATA_DIR: dataDir };
  api = await startCareCircle({ ...shared, ROLE: 'api', PORT: String(apiPort), REDIS_PREFIX: redisPrefix });
  portal = await startCareCircle({
    ...shared,
    ROLE: 'portal',
    PORT: String(portalPort),
    PORTAL_API_URL: `http://127.0.0.1:${apiPort}`,
    REDIS_URL: portalRedis.url,
    REDIS_PREFIX: redisPrefix,
  });
  proxy = await startProxy(publicPort, (path) => (path === '/portal' || path.startsWith('/portal/') ? portalPort : apiPort));
  state = await buildCareNetwork({ baseUrl, fhirBaseUrl: `${baseUrl}/fhir/R4`, adminToken, demoDir: join(dataDir, 'demo') });
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  await portal?.stop();
  await api?.stop();
  await portalRedis?.stop();
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the portal run apart from the API', () => {
  test('it says where it runs, answers its probes, and a client signs in through the API on the same origin', async () => {
    expect(portal.output()).toContain('CareCircle is running (portal).');
    await expect(fetch(`${portalUrl}/healthz`).then((r) => r.status)).resolves.toBe(200);
    await expect(fetch(`${portalUrl}/readyz`).then((r) => r.status)).resolves.toBe(200);
    const context = await browser.newContext({ baseURL: baseUrl, locale: 'en-GB' });
    const page = await context.newPage();
    await signInThroughPortal(page, state, 'alex');
    await expect(page.getByRole('navigation', { name: 'Main' }).isVisible()).resolves.toBe(true);
    await context.close();
  });

  test('a session lives 15 idle minutes: the cookie and its Redis entry expire together, renewed by each page', async () => {
    const context = await browser.newContext({ baseURL: baseUrl, locale: 'en-GB' });
    const page = await context.newPage();
    await signInThroughPortal(page, state, 'jordan');
    const cookie = (await context.cookies()).find((c) => c.name === 'carecircle_portal');
    expect(cookie).toBeDefined();
    const secondsLeft = (cookie?.expires ?? 0) - Date.now() / 1000;
    expect(secondsLeft).toBeGreaterThan(14 * 60);
    expect(secondsLeft).toBeLessThanOrEqual(15 * 60 + 5);
    const redis = createClient({ url: portalRedis.url });
    await redis.connect();
    try {
      const keys = await redis.keys(`${redisPrefix}portal:session:*`);
      expect(keys.length).toBeGreaterThan(0);
      const ttls = await Promise.all(keys.map((k) => redis.ttl(k)));
      for (const ttl of ttls) {
        expect(ttl).toBeGreaterThan(14 * 60);
        expect(ttl).toBeLessThanOrEqual(15 * 60);
      }
      // What Redis holds is ids and tokens, never the client's name.
      const values = await Promise.all(keys.map((k) => redis.get(k)));
      expect(values.join('\n')).not.toMatch(/Alex|Jordan/i);
      // The idle limit reached (the entry expires): the next page is the start page, signed out.
      await redis.del(keys);
    } finally {
      await redis.close();
    }
    await page.goto('/portal/');
    await expect(page.getByRole('link', { name: 'Sign in' }).isVisible()).resolves.toBe(true);
    await context.close();
  });

  test('an access token about to run out is refreshed on the server (the refresh token rotates); a revoked one means signing in again', async () => {
    const context = await browser.newContext({ baseURL: baseUrl, locale: 'en-GB' });
    const page = await context.newPage();
    await signInThroughPortal(page, state, 'alex');
    const redis = createClient({ url: portalRedis.url });
    await redis.connect();
    try {
      const [key] = await redis.keys(`${redisPrefix}portal:session:*`);
      const before = JSON.parse((await redis.get(key as string)) ?? '{}') as { tokens: { accessToken: string; refreshToken: string; accessExpiresAt: number } };
      // As if the hour had passed: the access token counts as expired.
      await redis.set(key as string, JSON.stringify({ ...before, tokens: { ...before.tokens, accessExpiresAt: 0 } }), { KEEPTTL: true });
      const answer = await page.goto('/portal/');
      expect(answer?.status()).toBe(200);
      await expect(page.getByRole('navigation', { name: 'Main' }).isVisible()).resolves.toBe(true);
      const after = JSON.parse((await redis.get(key as string)) ?? '{}') as typeof before;
      expect(after.tokens.accessToken).not.toBe(before.tokens.accessToken);
      expect(after.tokens.refreshToken).not.toBe(before.tokens.refreshToken);
      expect(after.tokens.accessExpiresAt).toBeGreaterThan(Date.now());
      // The old refresh token was spent by the rotation: put back, the API refuses it (reuse revokes the session),
      // and the page goes back to the start, signed out, instead of failing.
      await redis.set(key as string, JSON.stringify({ ...after, tokens: { ...before.tokens, accessExpiresAt: 0 } }), { KEEPTTL: true });
      await page.goto('/portal/');
      await expect(page.getByRole('link', { name: 'Sign in' }).isVisible()).resolves.toBe(true);
    } finally {
      await redis.close();
    }
    await context.close();
  });

  test('without Redis its pages answer an accessible 503 with Retry-After and the process lives; with Redis back, sign-in works', async () => {
    const context = await browser.newContext({ baseURL: baseUrl, locale: 'en-GB' });
    const page = await context.newPage();
    await signInThroughPortal(page, state, 'alex');
    await portalRedis.stop();
    const answer = await page.goto('/portal/');
    expect(answer?.status()).toBe(503);
    expect(await answer?.headerValue('retry-after')).toBeTruthy();
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('CareCircle is busy');
    expect(await axeViolations(page)).toEqual([]);
    await expect(fetch(`${portalUrl}/readyz`).then((r) => r.status)).resolves.toBe(503);
    await portalRedis.restart();
    await waitFor(async () => (await fetch(`${portalUrl}/readyz`)).status === 200);
    await signInThroughPortal(page, state, 'alex');
    await expect(page.getByRole('navigation', { name: 'Main' }).isVisible()).resolves.toBe(true);
    expect(portal.child.exitCode).toBeNull();
    await context.close();
  });
});

/** A loopback reverse proxy on `port` choosing the upstream port by path, passing Host through as a balancer does. */
function startProxy(port: number, upstream: (path: string) => number): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const forward = request(
      { host: '127.0.0.1', port: upstream(path), method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => {
      res.writeHead(502).end();
    });
    req.pipe(forward);
  });
  return new Promise((resolve) => server.listen(port, () => resolve(server)));
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await condition().catch(() => false)) {
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('condition not met in time');
}
