/**
 * The system the HTTP benchmark loads: CareCircle started exactly as `npm start` starts it (the root script, in its own
 * process tree), on a database of its own, seeded through the public API only — a practice with 1,000 clients (20 of
 * them named Smith), 5 Observations each, and one client with 100 Observations whom a partner clinic may see under a
 * consent. Tokens are obtained as the practice's and the clinic's backend systems would (SMART Backend Services, a
 * signed client assertion), fresh for each measurement because they live five minutes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSharingConsent } from '@carecircle/consent';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import jwt from 'jsonwebtoken';

const ROOT = join(__dirname, '..', '..', '..');

export interface BenchSystem {
  baseUrl: string;
  fhir: string;
  /** The pid of the node process serving (not npm's), for RSS and profiles. */
  serverPid: () => number;
  practiceToken: () => Promise<string>;
  partnerToken: () => Promise<string>;
  ids: { smithFamily: string; patient: string; sharedClient: string; sharedObservation: string };
  stop: () => Promise<void>;
}

export interface StartOptions {
  /** A PostgreSQL URL, or undefined for the embedded default (PGlite in a temporary data directory). */
  databaseUrl: string | undefined;
  /** Extra environment, e.g. NODE_OPTIONS for a CPU profile. */
  env?: Record<string, string>;
  log?: (line: string) => void;
}

interface SystemClient {
  clientId: string;
  key: KeyObject;
  kid: string;
}

export async function startBenchSystem(options: StartOptions): Promise<BenchSystem> {
  const dataDir = mkdtempSync(join(tmpdir(), 'carecircle-bench-'));
  const adminToken = randomBytes(32).toString('hex');
  const port = 18000 + Math.floor(Math.random() * 2000);
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    BASE_URL: baseUrl,
    DATA_DIR: dataDir,
    ADMIN_TOKEN: adminToken,
    LOG_LEVEL: 'info',
    ...options.env,
  };
  delete env.NODE_ENV;
  if (options.databaseUrl) {
    env.DATABASE_URL = options.databaseUrl;
  } else {
    delete env.DATABASE_URL;
  }
  const child = spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const serverLog = process.env.BENCH_SERVER_LOG ? createWriteStream(process.env.BENCH_SERVER_LOG) : undefined;
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
      serverLog?.write(chunk);
    });
  }
  await waitForServer(`${baseUrl}/fhir/R4/metadata`, child, () => output);
  const fhir = `${baseUrl}/fhir/R4`;
  const admin = { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/fhir+json' };

  const post = async <T extends Resource>(url: string, body: unknown, headers: Record<string, string> = admin): Promise<T> => {
    const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
    if (!res.ok) {
      throw new Error(`POST ${url.replace(baseUrl, '')}: ${res.status} ${(await res.text()).slice(0, 300)}`);
    }
    return (await res.json()) as T;
  };
  const practice = await post(`${fhir}/Organization`, { resourceType: 'Organization', name: 'Bench practice', active: true });
  const clinic = await post(`${fhir}/Organization`, { resourceType: 'Organization', name: 'Bench pelvic-floor clinic', active: true });
  const practiceClient = await registerSystem(baseUrl, adminToken, `Organization/${practice.id}`, 'system/*.cruds', 'bench practice');
  const partnerClient = await registerSystem(baseUrl, adminToken, `Organization/${clinic.id}`, 'system/*.rs', 'bench clinic');
  const practiceToken = () => systemToken(baseUrl, practiceClient);
  const partnerToken = () => systemToken(baseUrl, partnerClient);

  options.log?.('seeding 1,000 clients, 5,000 Observations, one shared client with 100 Observations');
  const practiceHeaders = { Authorization: `Bearer ${await practiceToken()}`, 'Content-Type': 'application/fhir+json' };
  const managing = { reference: `Organization/${practice.id}` };
  let patientId = '';
  for (let batch = 0; batch < 20; batch++) {
    const entries: BundleEntry[] = [];
    for (let i = batch * 50; i < batch * 50 + 50; i++) {
      const fullUrl = `urn:uuid:${randomUUID()}`;
      const family = i % 50 === 7 ? 'Smith' : `Family${i}`;
      entries.push(createEntry(fullUrl, { resourceType: 'Patient', name: [{ family, given: [`Given${i}`] }], gender: 'unknown', birthDate: '1990-01-01', managingOrganization: managing }));
      for (let k = 0; k < 5; k++) {
        entries.push(createEntry(`urn:uuid:${randomUUID()}`, observation(fullUrl, k)));
      }
    }
    const result = await post<Bundle>(fhir, { resourceType: 'Bundle', type: 'transaction', entry: entries }, practiceHeaders);
    patientId ||= /Patient\/([^/]+)/.exec(result.entry?.[0]?.response?.location ?? '')?.[1] ?? '';
  }
  const shared = await post(`${fhir}/Patient`, { resourceType: 'Patient', name: [{ family: 'Rivera', given: ['Sam'] }], managingOrganization: managing }, practiceHeaders);
  const observations: BundleEntry[] = Array.from({ length: 100 }, (_, k) => createEntry(`urn:uuid:${randomUUID()}`, observation(`Patient/${shared.id}`, k)));
  const sharedBundle = await post<Bundle>(fhir, { resourceType: 'Bundle', type: 'transaction', entry: observations }, practiceHeaders);
  const sharedObservation = /Observation\/([^/]+)/.exec(sharedBundle.entry?.[0]?.response?.location ?? '')?.[1] ?? '';
  await post(`${fhir}/Consent`, sharingConsent(shared.id as string, practice.id as string, `Organization/${clinic.id}`), practiceHeaders);
  // The worker's statistics keeper analyses what a bulk load changed within its interval (10 s), as autovacuum would.
  options.log?.('letting the server refresh its planner statistics (12 s)');
  await new Promise((resolve) => setTimeout(resolve, 12_000));

  return {
    baseUrl,
    fhir,
    serverPid: () => serverPidUnder(child.pid as number),
    practiceToken,
    partnerToken,
    ids: { smithFamily: 'Smith', patient: patientId, sharedClient: shared.id as string, sharedObservation },
    stop: async () => {
      await stopTree(child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function createEntry(fullUrl: string, resource: Resource): BundleEntry {
  return { fullUrl, resource, request: { method: 'POST', url: resource.resourceType } };
}

function observation(subject: string, k: number): Resource {
  return {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '72133-2', display: 'Homework adherence' }], text: 'Pelvic-floor exercises done this week' },
    subject: { reference: subject },
    effectiveDateTime: new Date(Date.UTC(2026, 10, 1 + (k % 28))).toISOString(),
    valueInteger: k % 7,
  };
}

/** The client's consent for the clinic, as the practice records it on the client's signed request (attached). */
function sharingConsent(patient: string, practice: string, recipient: string): Resource {
  return {
    ...buildSharingConsent({ patient: `Patient/${patient}`, custodian: `Organization/${practice}`, recipients: [recipient], categories: ['demographics', 'progress'] }),
    sourceAttachment: { contentType: 'text/plain', title: 'Signed release of information', data: Buffer.from('Signed by the client.').toString('base64') },
  };
}

async function registerSystem(baseUrl: string, adminToken: string, organization: string, scope: string, name: string): Promise<SystemClient> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const kid = randomUUID();
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES384', use: 'sig' };
  const res = await fetch(`${baseUrl}/admin/clients`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name, organization, jwks: { keys: [jwk] }, scope }),
  });
  if (!res.ok) {
    throw new Error(`register ${name}: ${res.status} ${await res.text()}`);
  }
  return { clientId: ((await res.json()) as { client_id: string }).client_id, key: privateKey, kid };
}

async function systemToken(baseUrl: string, client: SystemClient): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const assertion = jwt.sign(
    { iss: client.clientId, sub: client.clientId, aud: `${baseUrl}/oauth2/token`, iat: now, exp: now + 240, jti: randomUUID() },
    client.key,
    { algorithm: 'ES384', keyid: client.kid },
  );
  const res = await fetch(`${baseUrl}/oauth2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    }),
  });
  if (!res.ok) {
    throw new Error(`token: ${res.status} ${await res.text()}`);
  }
  return ((await res.json()) as { access_token: string }).access_token;
}

async function waitForServer(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const until = Date.now() + 120_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) {
      throw new Error(`npm start exited ${child.exitCode}: ${output()}`);
    }
    try {
      const res = await fetch(url);
      if (res.ok) {
        return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`npm start did not answer within two minutes: ${output()}`);
}

/** The node process serving under `npm start`'s process tree: the deepest descendant whose command runs node. */
function serverPidUnder(root: number): number {
  const children = (pid: number): number[] => {
    try {
      return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  let current = root;
  for (;;) {
    const next = children(current)[0];
    if (next === undefined) {
      return current;
    }
    current = next;
  }
}

/** The resident set size of a process in MB, from /proc. */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? '0');
  return kb / 1024;
}

async function stopTree(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) {
    return;
  }
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-(child.pid as number), 'SIGTERM');
  const timer = setTimeout(() => process.kill(-(child.pid as number), 'SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** CPU profiles written by `--cpu-prof` in `dir`, largest first (the server's, not npm's). */
export function profilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    .sort((a, b) => readFileSync(b).length - readFileSync(a).length);
}
