/**
 * The client's portal, measured from outside (issue 11, "Fast": each page under 300 ms p95 with 20 consents and 500
 * AuditEvents). CareCircle runs as `npm start` runs it (services/launcher/src/main.ts under tsx, API, worker and portal in
 * one process, ROLE all) on a fresh PostgreSQL database; the demo care network is built through the public API.
 *
 * The scene, all through the public API:
 * - 18 more partner Organizations in the practice's directory (OrganizationAffiliation, admin token), and Alex's own
 *   sharing Consents (Alex's token) so that Alex holds 20: the demo's one with the OB-GYN clinic, one with the
 *   pelvic-floor clinic and one with each new organization;
 * - 500 AuditEvents made by the partner clinics' own systems reading Alex's record (reads, searches and summaries
 *   disclosed under consent; reads refused, some in batches of 20 folded into one event), one request per event, with
 *   the pelvic-floor consent changed half-way (so the accounting reads that Consent's history to name the version in
 *   force). The denial limit is off (DENIED_REQUESTS_PER_MINUTE=0) so the refused reads are not answered 429.
 *
 * Then Alex signs in as a browser does, with plain fetch and a cookie jar (the portal's sign-in -> the API's sign-in
 * page -> its form posted with its csrf_token and cookie -> the portal's callback), and each page is asked for: the
 * latency of one request at a time (p50, p95, p99) and the throughput with CONCURRENCY at a time, beside two raw
 * baselines measured in the same run with the same client loop: a bare Node HTTP server answering "ok", and
 * PostgreSQL primary-key selects over `pg`. A page that answers 404 (not built yet) is reported as "not built".
 * autocannon is not installed in this repository, so the loop is a bounded one of fetches (keep-alive, Node's undici).
 *
 *   cd test && npx tsx bench/portal.bench.ts   (needs PostgreSQL and Redis like the tests; part of npm run bench)
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle, Consent, Resource } from '@medplum/fhirtypes';
import { buildCareNetwork, partnerSystemToken, personToken, type DemoState, type ToolConfig } from '@carecircle/demo';
import { createTestDatabase, freePort } from '@carecircle/testing';
import pg from 'pg';
import { startCareCircle } from '../support/process';

const AUDIT_EVENTS = 500;
const CONSENTS = 20;
/** Requests per page, one at a time (latency) and CONCURRENCY at a time (throughput). */
const RUNS = Number(process.env.BENCH_RUNS ?? '100');
const CONCURRENCY = 4;
const WARM_UP = 10;
const P95_BUDGET_MS = 300;
const SHARE_CATEGORY_SYSTEM = 'https://carecircle.dev/fhir/CodeSystem/share-category';

interface Timing {
  p50: number;
  p95: number;
  p99: number;
  perSecond: number;
}

/** `runs` calls of `op`, `concurrency` at a time: latency percentiles (ms) and calls per second. */
async function measure(op: () => Promise<void>, runs: number, concurrency: number): Promise<Timing> {
  const times: number[] = [];
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < runs) {
        next++;
        const t0 = process.hrtime.bigint();
        await op();
        times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  times.sort((a, b) => a - b);
  const at = (q: number): number => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)] as number;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), perSecond: runs / seconds };
}

/** A browser's cookies for one host (name -> value; paths and expiry are not needed for this walk). */
class CookieJar {
  private readonly cookies = new Map<string, string>();
  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq > 0) {
        this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
      }
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** Signs `who` in through the portal as a browser would; the jar then holds the portal's session cookie. */
async function signInThroughPortal(baseUrl: string, state: DemoState, who: 'alex'): Promise<CookieJar> {
  const jar = new CookieJar();
  const get = async (url: string): Promise<Response> => {
    const res = await fetch(new URL(url, baseUrl), { redirect: 'manual', headers: { Cookie: jar.header(), Accept: 'text/html' } });
    jar.take(res);
    return res;
  };
  const start = await get('/portal/sign-in');
  const authorize = start.headers.get('location');
  if (!authorize) {
    throw new Error(`/portal/sign-in answered ${start.status} without a redirect`);
  }
  const page = await get(authorize);
  const html = await page.text();
  if (page.status !== 200) {
    throw new Error(`the sign-in page answered ${page.status}`);
  }
  const form = new URLSearchParams([...hiddenFields(html), ['username', state.people[who].username], ['password', state.people[who].password]]);
  const posted = await fetch(new URL('/oauth2/authorize', baseUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: new URL(baseUrl).origin, Cookie: jar.header() },
    body: form,
  });
  jar.take(posted);
  const callback = posted.headers.get('location');
  if (!callback?.includes('/portal/callback')) {
    throw new Error(`signing in answered ${posted.status} ${callback ?? ''}`);
  }
  const landed = await get(callback);
  if (landed.status !== 303 || !landed.headers.get('location')?.endsWith('/portal/')) {
    throw new Error(`the portal's callback answered ${landed.status} ${landed.headers.get('location') ?? ''}`);
  }
  return jar;
}

function hiddenFields(html: string): [string, string][] {
  const decode = (s: string): string =>
    s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, e: string) => {
      const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
      return named[e.toLowerCase()] ?? String.fromCodePoint(e[1]?.toLowerCase() === 'x' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)));
    });
  return (html.match(/<input\b[^>]*>/g) ?? [])
    .filter((input) => /\btype="hidden"/.test(input))
    .flatMap((input) => {
      const name = /\bname="([^"]*)"/.exec(input)?.[1];
      return name === undefined ? [] : [[decode(name), decode(/\bvalue="([^"]*)"/.exec(input)?.[1] ?? '')] as [string, string]];
    });
}

function sharingConsent(patient: string, practice: string, recipient: string, categories: readonly string[]): Consent {
  return {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: patient },
    performer: [{ reference: patient }],
    organization: [{ reference: `Organization/${practice}` }],
    dateTime: new Date().toISOString(),
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision: {
      type: 'permit',
      actor: [{ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] }, reference: { reference: recipient } }],
      purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }],
      code: ['demographics', ...categories].map((code) => ({ coding: [{ system: SHARE_CATEGORY_SYSTEM, code }] })),
    },
  };
}

async function main(): Promise<void> {
  const database = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'carecircle-portal-bench-'));
  const port = String(await freePort());
  const baseUrl = `http://localhost:${port}`;
  const adminToken = randomBytes(32).toString('base64url');
  const server = await startCareCircle(
    {
      PORT: port,
      BASE_URL: baseUrl,
      DATA_DIR: dataDir,
      ADMIN_TOKEN: adminToken,
      DATABASE_URL: database.url,
      REDIS_PREFIX: `{portal-bench-${randomBytes(4).toString('hex')}}`,
      DENIED_REQUESTS_PER_MINUTE: '0',
      LOG_LEVEL: 'warn',
    },
    60_000,
  );
  const bare = createServer((_req, res) => res.end('ok')).listen(0, '127.0.0.1');
  await new Promise((resolve) => bare.once('listening', resolve));
  const raw = new pg.Pool({ connectionString: database.url, max: CONCURRENCY });
  try {
    if (!/CareCircle (worker )?is running/.test(server.output())) {
      throw new Error(`CareCircle did not start:\n${server.output()}`);
    }
    const toolConfig: ToolConfig = { baseUrl, fhirBaseUrl: `${baseUrl}/fhir/R4`, adminToken, demoDir: join(dataDir, 'demo') };
    const state = await buildCareNetwork(toolConfig);
    const alexPatient = state.people.alex.fhirUser;
    const fhir = async (token: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> => {
      const res = await fetch(`${baseUrl}/fhir/R4${path}`, {
        method,
        headers: { Authorization: `Bearer ${token}`, Accept: 'application/fhir+json', 'Content-Type': 'application/fhir+json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
    };
    const expectOk = (what: string, answer: { status: number; body: unknown }): unknown => {
      if (answer.status >= 300) {
        throw new Error(`${what} answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 400)}`);
      }
      return answer.body;
    };

    // 20 consents: the demo's (OB-GYN), the pelvic-floor clinic, and 18 directory organizations.
    let t0 = Date.now();
    const alexToken = (await personToken(toolConfig, state, 'alex')).access_token;
    const consents = expectOk('Consent search', await fhir(alexToken, 'GET', `/Consent?patient=${alexPatient}`)) as Bundle<Consent>;
    const obgynConsent = consents.entry?.[0]?.resource;
    if (!obgynConsent?.id) {
      throw new Error('the demo gave Alex no consent');
    }
    const pelvicConsent = expectOk(
      'pelvic-floor consent',
      await fhir(alexToken, 'POST', '/Consent', sharingConsent(alexPatient, state.practice, `Organization/${state.partners['pelvic-pt'].organization}`, ['care-plan', 'progress'])),
    ) as Consent;
    for (let i = 0; i < CONSENTS - 2; i++) {
      const org = expectOk(
        'Organization',
        await fhir(adminToken, 'POST', '/Organization', { resourceType: 'Organization', active: true, name: `Partner Clinic ${String(i + 1).padStart(2, '0')}` }),
      ) as Resource;
      expectOk(
        'OrganizationAffiliation',
        await fhir(adminToken, 'POST', '/OrganizationAffiliation', {
          resourceType: 'OrganizationAffiliation',
          active: true,
          organization: { reference: `Organization/${state.practice}` },
          participatingOrganization: { reference: `Organization/${org.id}` },
        }),
      );
      expectOk('Consent', await fhir(alexToken, 'POST', '/Consent', sharingConsent(alexPatient, state.practice, `Organization/${org.id}`, ['treatment-goals', 'progress'])));
    }
    const held = expectOk('Consent count', await fhir(alexToken, 'GET', `/Consent?patient=${alexPatient}&_summary=count`)) as Bundle;
    process.stdout.write(`Alex holds ${held.total} consents (set up in ${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);

    // 500 AuditEvents by the partners' own systems, one request each.
    t0 = Date.now();
    const ids = async (type: string): Promise<Map<string, string>> => {
      const bundle = expectOk(type, await fhir(alexToken, 'GET', `/${type}?patient=${alexPatient}`)) as Bundle;
      return new Map((bundle.entry ?? []).map((e) => [e.resource?.meta?.tag?.[0]?.code ?? '', e.resource?.id ?? '']));
    };
    const conditions = await ids('Condition');
    const observations = await ids('Observation');
    const tokens = { obgyn: '', 'pelvic-pt': '' };
    const refresh = async (): Promise<void> => {
      tokens.obgyn = (await partnerSystemToken(toolConfig, state, 'obgyn')).access_token;
      tokens['pelvic-pt'] = (await partnerSystemToken(toolConfig, state, 'pelvic-pt')).access_token;
    };
    const refusedBatch = (id: string): unknown => ({
      resourceType: 'Bundle',
      type: 'batch',
      entry: Array.from({ length: 20 }, () => ({ request: { method: 'GET', url: `Condition/${id}` } })),
    });
    const workload: [keyof typeof tokens, string, string, unknown?][] = [
      ['obgyn', 'GET', `/Goal?patient=${alexPatient}`],
      ['obgyn', 'GET', `/${alexPatient}/$summary`],
      ['obgyn', 'GET', `/Condition/${conditions.get('trauma-history')}`],
      ['obgyn', 'GET', `/Observation/${observations.get('medications')}`],
      ['pelvic-pt', 'GET', `/CarePlan?patient=${alexPatient}`],
      ['pelvic-pt', 'GET', `/Observation/${observations.get('progress')}`],
      ['pelvic-pt', 'GET', `/Condition/${conditions.get('mental-health')}`],
      ['pelvic-pt', 'GET', `/${alexPatient}/$summary`],
      ['obgyn', 'POST', '/', refusedBatch(conditions.get('trauma-history') ?? '')],
    ];
    for (let i = 0; i < AUDIT_EVENTS; i++) {
      if (i % 100 === 0) {
        await refresh();
      }
      if (i === AUDIT_EVENTS / 2) {
        // Alex widens what the pelvic-floor clinic sees: the events before this were allowed by the earlier version.
        const widened = { ...pelvicConsent, dateTime: new Date().toISOString(), provision: { ...pelvicConsent.provision, code: [...(pelvicConsent.provision?.code ?? []), { coding: [{ system: SHARE_CATEGORY_SYSTEM, code: 'treatment-goals' }] }] } };
        expectOk('consent change', await fhir(alexToken, 'PUT', `/Consent/${pelvicConsent.id}`, widened, { 'If-Match': `W/"${pelvicConsent.meta?.versionId}"` }));
      }
      const [partner, method, path, body] = workload[i % workload.length] as (typeof workload)[number];
      const answer = await fhir(tokens[partner], method, path, body);
      if (answer.status !== 200 && answer.status !== 404) {
        throw new Error(`${partner} ${method} ${path} answered ${answer.status}`);
      }
    }
    const events = expectOk('AuditEvent count', await fhir(alexToken, 'GET', `/AuditEvent?patient=${alexPatient}&_summary=count`)) as Bundle;
    process.stdout.write(`Alex's accounting holds ${events.total} AuditEvents (${AUDIT_EVENTS} partner requests in ${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);

    // Alex signs in as a browser does; then each page, one at a time and CONCURRENCY at a time.
    const jar = await signInThroughPortal(baseUrl, state, 'alex');
    const cookie = jar.header();
    const page = async (path: string): Promise<number> => {
      const res = await fetch(`${baseUrl}${path}`, { headers: { Cookie: cookie, Accept: 'text/html' }, redirect: 'manual' });
      await res.arrayBuffer();
      return res.status;
    };
    const pages = [
      '/portal/',
      `/portal/sharing/${obgynConsent.id}`,
      `/portal/sharing/${obgynConsent.id}/preview`,
      '/portal/accounting',
      '/portal/accounting.csv',
      '/portal/share',
    ];
    const rows: { path: string; status: number; one?: Timing; many?: Timing }[] = [];
    for (const path of pages) {
      const status = await page(path);
      if (status !== 200) {
        rows.push({ path, status });
        continue;
      }
      for (let i = 0; i < WARM_UP; i++) {
        await page(path);
      }
      const failures: number[] = [];
      const op = async (): Promise<void> => {
        const s = await page(path);
        if (s !== 200) {
          failures.push(s);
        }
      };
      const one = await measure(op, RUNS, 1);
      const many = await measure(op, RUNS, CONCURRENCY);
      if (failures.length > 0) {
        throw new Error(`${path} answered ${failures.slice(0, 5).join(', ')} during the run`);
      }
      rows.push({ path, status, one, many });
    }

    // What the accounting page asks the API, as Alex's own token, one at a time: where its time goes.
    const apiPaths: [string, string][] = [
      ['AuditEvent?patient=…&_sort=-date&_count=25&_include=AuditEvent:agent&_total=none (the page asks this)', `/AuditEvent?patient=${alexPatient}&_sort=-date&_count=25&_include=AuditEvent:agent&_total=none`],
      ['the same with its total (left out by the page)', `/AuditEvent?patient=${alexPatient}&_sort=-date&_count=25&_include=AuditEvent:agent`],
      ['AuditEvent?_sort=-date&_count=25&_total=none (the same rows for a client token, no patient parameter)', '/AuditEvent?_sort=-date&_count=25&_total=none'],
      ['AuditEvent?patient=…&_count=25&_total=none (unsorted)', `/AuditEvent?patient=${alexPatient}&_count=25&_total=none`],
      ['AuditEvent?patient=…&_sort=-date&_count=1000&_total=none (the CSV asks this)', `/AuditEvent?patient=${alexPatient}&_sort=-date&_count=1000&_include=AuditEvent:agent&_total=none`],
      ['Consent?patient=…&_include=Consent:actor&_total=none', `/Consent?patient=${alexPatient}&_count=1000&_include=Consent:actor&_total=none`],
    ];
    const apiToken = (await personToken(toolConfig, state, 'alex')).access_token;
    const apiRows: [string, Timing][] = [];
    for (const [name, path] of apiPaths) {
      const op = async (): Promise<void> => {
        expectOk(name, await fhir(apiToken, 'GET', path));
      };
      for (let i = 0; i < WARM_UP / 2; i++) {
        await op();
      }
      apiRows.push([name, await measure(op, Math.max(20, RUNS / 4), 1)]);
    }

    // The raw baselines, with the same loop.
    const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/`;
    const bareOp = async (): Promise<void> => {
      await (await fetch(bareUrl)).arrayBuffer();
    };
    await raw.query('CREATE TABLE bench_raw (id uuid PRIMARY KEY, content jsonb NOT NULL)');
    const rawIds = Array.from({ length: 1000 }, () => randomUUID());
    const sample = JSON.stringify({ resourceType: 'AuditEvent', recorded: new Date().toISOString(), outcome: '0', entity: [{ what: { reference: alexPatient } }] });
    await raw.query('INSERT INTO bench_raw SELECT unnest($1::uuid[]), $2::jsonb', [rawIds, sample]);
    await raw.query('ANALYZE bench_raw');
    let k = 0;
    const pgOp = async (): Promise<void> => {
      await raw.query('SELECT content FROM bench_raw WHERE id = $1', [rawIds[k++ % rawIds.length]]);
    };
    for (let i = 0; i < WARM_UP; i++) {
      await bareOp();
      await pgOp();
    }
    const baselines = {
      bare: { one: await measure(bareOp, RUNS * 5, 1), many: await measure(bareOp, RUNS * 5, CONCURRENCY) },
      pg: { one: await measure(pgOp, RUNS * 5, 1), many: await measure(pgOp, RUNS * 5, CONCURRENCY) },
    };

    const ms = (n: number): string => n.toFixed(1);
    process.stdout.write(
      `\nPortal pages as Alex (${held.total} consents, ${events.total} AuditEvents; PostgreSQL; one CareCircle process as npm start runs it)\n` +
        `Latency: ${RUNS} requests one at a time; req/s: ${RUNS} requests ${CONCURRENCY} at a time. Ratios are p50 over the baseline's p50.\n\n`,
    );
    process.stdout.write('| page | p50 ms | p95 ms | p99 ms | req/s (x4) | p50 / bare HTTP p50 | p50 / pg PK select p50 | p95 < 300 ms |\n|---|---|---|---|---|---|---|---|\n');
    for (const row of rows) {
      if (!row.one || !row.many) {
        process.stdout.write(`| ${row.path} | ${row.status === 404 ? 'not built' : `answered ${row.status}`} | | | | | | |\n`);
        continue;
      }
      process.stdout.write(
        `| ${row.path} | ${ms(row.one.p50)} | ${ms(row.one.p95)} | ${ms(row.one.p99)} | ${row.many.perSecond.toFixed(0)} | ${(row.one.p50 / baselines.bare.one.p50).toFixed(0)} | ${(row.one.p50 / baselines.pg.one.p50).toFixed(0)} | ${row.one.p95 < P95_BUDGET_MS ? 'yes' : 'NO'} |\n`,
      );
    }
    for (const [name, b] of [
      ['bare Node HTTP server ("ok")', baselines.bare],
      ['pg primary-key SELECT', baselines.pg],
    ] as const) {
      process.stdout.write(`| baseline: ${name} | ${ms(b.one.p50)} | ${ms(b.one.p95)} | ${ms(b.one.p99)} | ${b.many.perSecond.toFixed(0)} | | | |\n`);
    }
    process.stdout.write(`\nThe API underneath, as Alex's token (${Math.max(20, RUNS / 4)} requests one at a time)\n\n| request | p50 ms | p95 ms |\n|---|---|---|\n`);
    for (const [name, t] of apiRows) {
      process.stdout.write(`| ${name} | ${ms(t.p50)} | ${ms(t.p95)} |\n`);
    }
  } finally {
    await raw.end();
    await new Promise((resolve) => bare.close(resolve));
    await server.stop();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
