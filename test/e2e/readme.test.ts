/**
 * The READMEs as a new user meets them, on the embedded default (PGlite, no DATABASE_URL): the server started as
 * `npm start` starts it, `npm run demo` (twice: it makes nothing twice), then every `sh` block of the README's story
 * run in order by bash exactly as written, and the partner walkthrough of packages/auth/README.md likewise. A README
 * that drifts from the product fails here.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@carecircle/testing';
import type { Bundle } from '@medplum/fhirtypes';
import { codeBlocks } from '../support/markdown-blocks';
import { startCareCircle, type RunningProcess } from '../support/process';
import { runShellScript } from '../support/shell-script';

const ROOT = join(__dirname, '..', '..');
const SCRIPT_TIMEOUT_MS = 8 * 60_000;

let server: RunningProcess;
let dataDir: string;
let env: Record<string, string>;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'carecircle-readme-'));
  const port = String(await freePort());
  // What a user's shell has: no DATABASE_URL (embedded PGlite), development mode (the admin token kept in the data
  // directory, webhooks to loopback allowed). PORT and DATA_DIR reach `npm run demo` and `npm run token` too.
  env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    NODE_ENV: 'development',
    PORT: port,
    DATA_DIR: dataDir,
    REDIS_PREFIX: `{cc-readme-${randomBytes(4).toString('hex')}}`,
    LOG_LEVEL: 'warn',
  };
  server = await startCareCircle(env, 110_000);
  expect(server.output()).toContain('embedded PGlite');
}, 150_000);

afterAll(async () => {
  await server?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

async function admin<T>(path: string): Promise<T> {
  const token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
  const response = await fetch(`${server.baseUrl}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}

test('npm run demo makes the care network once, and says how to act as each member', async () => {
  const first = await runShellScript('npm run -s demo', ROOT, env, SCRIPT_TIMEOUT_MS);
  expect(first.stderr).toBe('');
  expect(first.code).toBe(0);
  for (const line of ['Riverside Sex Therapy', 'sign in: therapist / ', 'sign in: alex / ', 'npm run -s token -- pelvic-pt']) {
    expect(first.stdout).toContain(line);
  }
  const count = async (type: string) => (await admin<Bundle>(`/fhir/R4/${type}?_summary=count`)).total;
  const before = { patients: await count('Patient'), organizations: await count('Organization'), consents: await count('Consent') };
  expect(before).toEqual({ patients: 2, organizations: 3, consents: 2 });

  const again = await runShellScript('npm run -s demo', ROOT, env, SCRIPT_TIMEOUT_MS);
  expect(again.code).toBe(0);
  expect({ patients: await count('Patient'), organizations: await count('Organization'), consents: await count('Consent') }).toEqual(before);
  // The same sign-ins and ids: the second run printed what the first one made.
  expect(again.stdout).toBe(first.stdout);
  const users = await admin<{ users: unknown[] }>('/admin/users');
  const clients = await admin<{ clients: { name: string }[] }>('/admin/clients');
  expect(users.users).toHaveLength(3);
  // The demo's sign-in app and the two clinics' systems, each once, beside the portal's own registration (npm start).
  expect(clients.clients.map((c) => c.name).sort()).toEqual(
    ['CareCircle demo sign-in', 'CareCircle sharing portal', 'Harbour Pelvic Health EHR', "Harbour Women's Health EHR"].sort(),
  );
}, SCRIPT_TIMEOUT_MS);

test("the README's story runs as written: sharing, a notified referral, the consult note, revocation, who saw what", async () => {
  const story = codeBlocks(join(ROOT, 'README.md')).filter((b) => b.language === 'sh' && b.section.startsWith('The first hour'));
  expect(story.length).toBeGreaterThanOrEqual(6);
  // The only change: the receiver listens on a port of this test's (the README's 9090 may be taken on this machine).
  const receiverPort = String(await freePort());
  const script = story.map((b) => b.code.replaceAll('127.0.0.1:9090', `127.0.0.1:${receiverPort}`)).join('\n');
  const result = await runShellScript(script, ROOT, { ...env, RECEIVER_PORT: receiverPort }, SCRIPT_TIMEOUT_MS);
  if (result.code !== 0) {
    throw new Error(`The README's story failed (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
  const lines = result.stdout.split('\n').map((l) => l.trim());
  // What the README's comments promise, in order.
  const promised = [
    '4.0.1', 'Rivera', '404', 'false', '1', 'active', 'on-time', 'accepted', 'in-progress', 'current', 'completed', 'Consult note',
    'referrals 1, acknowledged 1, completed 1, overdue 0', 'inactive', '0', '2', '412', '2',
  ];
  let at = 0;
  for (const expected of promised) {
    const found = lines.indexOf(expected, at);
    expect({ expected, found: found >= 0 }).toEqual({ expected, found: true });
    at = found + 1;
  }
  // The clinic saw the trauma history it was given and nothing else of her conditions.
  expect(result.stdout).toContain('History of sexual trauma');
  expect(result.stdout).not.toContain('Generalized anxiety');
  // The receiver verified the handshake and the referral's notifications: the ServiceRequest and its Task.
  expect(result.stdout).toMatch(/handshake from Subscription\/[\w-]+/);
  expect(result.stdout).toMatch(/event-notification from Subscription\/[\w-]+ \(event id [^)]+\)\n\s+event \d+: ServiceRequest\/[\w-]+/);
  expect(result.stdout).toMatch(/event-notification from Subscription\/[\w-]+ \(event id [^)]+\)\n\s+event \d+: Task\/[\w-]+/);
  expect(result.stdout).not.toContain('refused');
  // Alex's accounting lists what the clinic was shown: its searches of her goals, the Task it read, the denial before
  // her consent.
  expect(result.stdout).toMatch(/^search-type disclosed Goal\/[\w-]+\/_history\/1$/m);
  expect(result.stdout).toMatch(/^read denied Patient\/[\w-]+$/m);
}, SCRIPT_TIMEOUT_MS);

test("packages/auth/README.md's partner walkthrough runs as written", async () => {
  const blocks = codeBlocks(join(ROOT, 'packages', 'auth', 'README.md'));
  const assertionScript = blocks.find((b) => b.language === 'js' && b.code.includes('partner-assertion.mjs'));
  const walkthrough = blocks.filter((b) => b.language === 'sh' && b.section.startsWith('A partner clinic connects'));
  expect(assertionScript).toBeDefined();
  expect(walkthrough.length).toBeGreaterThanOrEqual(4);
  const workDir = await mkdtemp(join(tmpdir(), 'carecircle-partner-'));
  try {
    await writeFile(join(workDir, 'partner-assertion.mjs'), assertionScript?.code ?? '');
    const adminToken = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
    const result = await runShellScript(
      walkthrough.map((b) => b.code).join('\n'),
      workDir,
      { ...env, BASE_URL: `http://localhost:${env.PORT}`, ADMIN_TOKEN: adminToken },
      SCRIPT_TIMEOUT_MS,
    );
    if (result.code !== 0) {
      throw new Error(`The partner walkthrough failed (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
    }
    // The last step's search answered as a searchset Bundle for the partner's token.
    const last = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as Bundle;
    expect(last).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}, SCRIPT_TIMEOUT_MS);
