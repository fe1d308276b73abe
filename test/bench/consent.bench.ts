/**
 * What consent enforcement costs, and how long a revocation takes to bite.
 *
 * 1. A search returning 100 of a client's resources, over HTTP, by: the operator (no access policy, but the
 *    disclosure audited), the custodian practice (custodianship in SQL), and a partner clinic (each candidate row
 *    checked against the consent-grant index in SQL, plus the AuditEvent written before the answer) — beside a raw
 *    PostgreSQL query fetching the same 100 rows.
 * 2. The same partner search, and a partner's read of one resource, when 1 client and when 1,500 more clients have
 *    consented to that partner: the grants are looked up per candidate row, so the cost must not grow with the number
 *    of consenting clients.
 * 3. The revocation window: a partner reads, the client revokes, the partner's very next request must be refused;
 *    repeated, counting requests served after a revocation had committed.
 *
 *   npm run bench   (needs PostgreSQL and Redis like the tests)
 */
import type { AddressInfo } from 'node:net';
import { accessSettingsFrom, createServerRepository } from '@carecircle/access';
import { buildSharingConsent, SHARE_CATEGORY_SYSTEM } from '@carecircle/consent';
import { createTestApp, logInUser, registerApp, registerSystemClient } from '@carecircle/api/testing';
import { buildObservation, buildOrganization, buildPatient } from '@carecircle/testing';
import pg from 'pg';

const CONCURRENCY = 8;
const SEARCHES = 400;
const REVOCATIONS = 25;
/** Clients besides the first who consent to the same partner in part 2. */
const MORE_CLIENTS = 1500;

async function timed(ops: number, op: () => Promise<void>): Promise<number> {
  let started = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (started < ops) {
        started++;
        await op();
      }
    }),
  );
  return ops / (Number(process.hrtime.bigint() - t0) / 1e9);
}

async function main(): Promise<void> {
  const t = await createTestApp({ LOG_LEVEL: 'silent' });
  const server = t.app.listen(0);
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir/R4`;
  const raw = new pg.Pool({ connectionString: t.services.config.databaseUrl, max: CONCURRENCY });
  try {
    const admin = t.adminToken;
    const call = async (token: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${base}/${path}`, {
        method,
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/fhir+json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json().catch(() => undefined)) as { id?: string } & Record<string, unknown> };
    };
    const practice = `Organization/${(await call(admin, 'POST', 'Organization', buildOrganization({ name: 'Practice' }))).body.id}`;
    const partner = `Organization/${(await call(admin, 'POST', 'Organization', buildOrganization({ name: 'Partner' }))).body.id}`;
    const practiceToken = await (await registerSystemClient(t, practice, 'system/*.cruds')).token();
    const partnerToken = await (await registerSystemClient(t, partner, 'system/*.rs')).token();
    const client = (await call(practiceToken, 'POST', 'Patient', buildPatient())).body;
    const appId = await registerApp(t, 'launch/patient patient/*.rs patient/Consent.cu');
    const clientToken = (await logInUser(t, appId, { fhirUser: `Patient/${client.id}` }, 'launch/patient patient/*.rs patient/Consent.cu')).access_token;
    for (let i = 0; i < 100; i++) {
      const obs = buildObservation(client.id as string, { meta: { tag: [{ system: SHARE_CATEGORY_SYSTEM, code: 'progress' }] } });
      await call(practiceToken, 'POST', 'Observation', obs);
    }
    const consent = (await call(clientToken, 'POST', 'Consent', buildSharingConsent({ patient: `Patient/${client.id}`, custodian: practice, recipients: [partner], categories: ['progress', 'treatment-goals'] }))).body;
    await raw.query('ANALYZE');

    const query = `Observation?subject=Patient/${client.id}&_count=100`;
    const check = await call(partnerToken, 'GET', query);
    const entries = (check.body as { entry?: Array<{ resource: { id: string } }> }).entry ?? [];
    if (entries.length !== 100) {
      throw new Error('partner does not see the 100 consented resources');
    }
    const one = `Observation/${entries[0]?.resource.id}`;
    const rawRate = await timed(SEARCHES, async () => {
      await raw.query(
        `SELECT content FROM resource_version WHERE resource_type = 'Observation' AND superseded_xid IS NULL AND NOT deleted
         AND content -> 'subject' ->> 'reference' = $1 ORDER BY id LIMIT 100`,
        [`Patient/${client.id}`],
      );
    });
    const rates: [string, number][] = [];
    for (const [who, token] of [['operator (no policy, audited)', admin], ['custodian (custodianship)', practiceToken], ['partner (consent + audit)', partnerToken]] as const) {
      rates.push([who, await timed(SEARCHES, async () => void (await call(token, 'GET', query)))]);
    }
    const ms = (rate: number) => ((CONCURRENCY * 1000) / rate).toFixed(2);
    process.stdout.write(`\nSearch returning 100 resources (concurrency ${CONCURRENCY}, ${SEARCHES} searches each)\n\n`);
    process.stdout.write('| caller | searches/s | ms per search (1/rate x concurrency) | vs raw SQL | vs operator |\n|---|---|---|---|---|\n');
    process.stdout.write(`| raw SQL, same 100 rows | ${rawRate.toFixed(0)} | ${ms(rawRate)} | 1.000 | |\n`);
    const operator = rates[0]?.[1] ?? 1;
    for (const [who, rate] of rates) {
      process.stdout.write(`| ${who} | ${rate.toFixed(0)} | ${ms(rate)} | ${(rate / rawRate).toFixed(3)} | ${(rate / operator).toFixed(3)} |\n`);
    }

    // Part 2: the same partner requests with 1 consenting client, then with MORE_CLIENTS more.
    const partnerCost = async () => ({
      search: await timed(SEARCHES, async () => void (await call(partnerToken, 'GET', query))),
      read: await timed(SEARCHES, async () => void (await call(partnerToken, 'GET', one))),
    });
    const single = await partnerCost();
    const writer = createServerRepository(t.services.db, accessSettingsFrom(t.services.config));
    let made = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (made < MORE_CLIENTS) {
          made++;
          const other = (await writer.create(buildPatient({ managingOrganization: { reference: practice } }))).resource;
          await writer.create(buildObservation(other.id as string, { meta: { tag: [{ system: SHARE_CATEGORY_SYSTEM, code: 'progress' }] } }));
          await writer.create(buildSharingConsent({ patient: `Patient/${other.id}`, custodian: practice, recipients: [partner], categories: ['progress', 'treatment-goals'] }));
        }
      }),
    );
    await raw.query('ANALYZE');
    const many = await partnerCost();
    process.stdout.write(`\nPartner cost by number of clients consenting to it (concurrency ${CONCURRENCY}, ${SEARCHES} requests each)\n\n`);
    process.stdout.write('| consenting clients | search of 100: ms | read of 1: ms | raw SQL search: ms |\n|---|---|---|---|\n');
    process.stdout.write(`| 1 | ${ms(single.search)} | ${ms(single.read)} | ${ms(rawRate)} |\n`);
    process.stdout.write(`| ${1 + MORE_CLIENTS} | ${ms(many.search)} | ${ms(many.read)} | ${ms(rawRate)} |\n`);

    // Revocation window.
    const goal = (await call(practiceToken, 'POST', 'Goal', { resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'x' }, subject: { reference: `Patient/${client.id}` } })).body;
    let servedAfterRevocation = 0;
    let current = consent as Record<string, unknown>;
    for (let i = 0; i < REVOCATIONS; i++) {
      current = (await call(clientToken, 'PUT', `Consent/${consent.id}`, { ...current, status: 'active' })).body;
      if ((await call(partnerToken, 'GET', `Goal/${goal.id}`)).status !== 200) {
        throw new Error('consent did not grant access');
      }
      current = (await call(clientToken, 'PUT', `Consent/${consent.id}`, { ...current, status: 'inactive' })).body;
      if ((await call(partnerToken, 'GET', `Goal/${goal.id}`)).status === 200) {
        servedAfterRevocation++;
      }
    }
    process.stdout.write(`\nRevocation window: ${servedAfterRevocation} of ${REVOCATIONS} first requests after a revocation were served (0 = effective on the very next request)\n`);
  } finally {
    await raw.end();
    server.close();
    await t.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
