/**
 * Whether a client's accounting of disclosures stays listable when a partner floods it (issue 17, finding 5).
 *
 * 1. A partner with no consent sends a batch of 1,000 reads of one of the client's resources: how many AuditEvents
 *    that writes (folded: one per client, with the count); then single refused reads until the per-caller limit
 *    (DENIED_REQUESTS_PER_MINUTE at its default, 120) answers 429.
 * 2. 100,000 denial AuditEvents for one client (copies of a real one, inserted by a bulk SQL path used only here, in
 *    one transaction with their search index rows), then the first page of `GET AuditEvent?patient=` with its total,
 *    over HTTP, as the client and as its practice, and the practice's listing of a client with no events — beside the
 *    raw PostgreSQL count and page of the same rows without any access policy, measured in the same run; then the
 *    client's next page (`_page` token), and the practice's system `_history` and `AuditEvent/_history`.
 *    Latency of one request at a time (median and p95 of RUNS).
 *
 *   cd test && npx tsx bench/audit.bench.ts   (needs PostgreSQL and Redis like the tests; part of npm run bench)
 */
import type { AddressInfo } from 'node:net';
import { SHARE_CATEGORY_SYSTEM } from '@carecircle/consent';
import { createTestApp, logInUser, registerApp, registerSystemClient } from '@carecircle/api/testing';
import { buildObservation, buildOrganization, buildPatient } from '@carecircle/testing';
import pg from 'pg';

const RUNS = 20;
/** Denial AuditEvents filled in for the flooded client. */
const EVENTS = 100_000;
const BATCH = 1000;

/** Median and 95th percentile of `runs` sequential runs of `op`, in ms. */
async function latency(op: () => Promise<void>, runs = RUNS): Promise<{ median: number; p95: number }> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await op();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(runs / 2)] as number, p95: times[Math.min(runs - 1, Math.floor(runs * 0.95))] as number };
}

/**
 * Copies the AuditEvent version `templateVid` `count` times under new ids, with its search index rows (every table
 * keyed by vid), in one transaction. For the benchmark only: the API writes each event through the repository.
 */
async function fillCopies(db: pg.Client, templateVid: string, count: number): Promise<void> {
  await db.query('BEGIN');
  await db.query('CREATE TEMP TABLE filled (vid bigint) ON COMMIT DROP');
  await db.query(
    `WITH copies AS (
       INSERT INTO resource_version (resource_type, id, version_id, last_updated, content, compartments)
       SELECT t.resource_type, g.id, 1, t.last_updated, jsonb_set(t.content, '{id}', to_jsonb(g.id)), t.compartments
       FROM resource_version t, (SELECT gen_random_uuid()::text AS id FROM generate_series(1, $2::int)) g WHERE t.vid = $1
       RETURNING vid)
     INSERT INTO filled SELECT vid FROM copies`,
    [templateVid, count],
  );
  const { rows: tables } = await db.query<{ name: string; columns: string[] }>(
    `SELECT c.table_name AS name, array_agg(c.column_name::text ORDER BY c.ordinal_position) AS columns
     FROM information_schema.columns c
     WHERE c.table_schema = current_schema() AND c.table_name <> 'resource_version'
       AND c.table_name IN (SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema() AND column_name = 'vid')
     GROUP BY c.table_name`,
  );
  for (const { name, columns } of tables) {
    const others = columns.filter((c) => c !== 'vid');
    await db.query(
      `INSERT INTO ${name} (vid, ${others.join(', ')}) SELECT f.vid, ${others.map((c) => `s.${c}`).join(', ')} FROM filled f CROSS JOIN ${name} s WHERE s.vid = $1`,
      [templateVid],
    );
  }
  await db.query('COMMIT');
  await db.query('ANALYZE');
}

async function main(): Promise<void> {
  const t = await createTestApp({ LOG_LEVEL: 'silent', DENIED_REQUESTS_PER_MINUTE: '120' });
  const server = t.app.listen(0);
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir/R4`;
  const raw = new pg.Client({ connectionString: t.services.config.databaseUrl });
  await raw.connect();
  try {
    const call = async (token: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${base}/${path}`, {
        method,
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/fhir+json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json().catch(() => undefined)) as Record<string, unknown> & { id?: string } };
    };
    const admin = t.adminToken;
    const practice = `Organization/${(await call(admin, 'POST', 'Organization', buildOrganization({ name: 'Practice' }))).body.id}`;
    const partner = `Organization/${(await call(admin, 'POST', 'Organization', buildOrganization({ name: 'Partner' }))).body.id}`;
    const practiceToken = await (await registerSystemClient(t, practice, 'system/*.cruds')).token();
    const partnerToken = await (await registerSystemClient(t, partner, 'system/*.rs')).token();
    const client = (await call(practiceToken, 'POST', 'Patient', buildPatient())).body;
    const quiet = (await call(practiceToken, 'POST', 'Patient', buildPatient({ name: [{ family: 'Quiet' }] }))).body;
    const observation = (
      await call(practiceToken, 'POST', 'Observation', buildObservation(client.id as string, { meta: { tag: [{ system: SHARE_CATEGORY_SYSTEM, code: 'progress' }] } }))
    ).body;
    const appId = await registerApp(t, 'launch/patient patient/*.rs');
    const clientToken = (await logInUser(t, appId, { fhirUser: `Patient/${client.id}` }, 'launch/patient patient/*.rs')).access_token;

    // Part 1: a flood of refused reads in one batch, and the request after it.
    const countEvents = async (): Promise<number> =>
      Number((await raw.query(`SELECT count(*) AS n FROM resource_version WHERE resource_type = 'AuditEvent' AND $1 = ANY(compartments)`, [`Patient/${client.id}`])).rows[0].n);
    const before = await countEvents();
    const batch = {
      resourceType: 'Bundle',
      type: 'batch',
      entry: Array.from({ length: BATCH }, () => ({ request: { method: 'GET', url: `Observation/${observation.id}` } })),
    };
    const flood = await call(partnerToken, 'POST', '', batch);
    const folded = (await countEvents()) - before;
    process.stdout.write(`\nA batch of ${BATCH} refused reads (answered ${flood.status}) wrote ${folded} AuditEvent(s) for the client\n`);
    // Then single refused reads until the limit answers (the batch was one refused request).
    let refusedRequests = 1;
    let next = await call(partnerToken, 'GET', `Observation/${observation.id}`);
    while (next.status === 404 && refusedRequests < 10 * BATCH) {
      refusedRequests++;
      next = await call(partnerToken, 'GET', `Observation/${observation.id}`);
    }
    process.stdout.write(`After ${refusedRequests} refused requests the partner was answered ${next.status} (Retry-After: ${next.retryAfter ?? 'none'} s)\n`);
    const written = (await countEvents()) - before;

    // Part 2: 100,000 denial events for the client.
    const template = (
      await raw.query(`SELECT vid FROM resource_version WHERE resource_type = 'AuditEvent' AND $1 = ANY(compartments) ORDER BY vid DESC LIMIT 1`, [`Patient/${client.id}`])
    ).rows[0].vid as string;
    const t0 = Date.now();
    await fillCopies(raw, template, EVENTS - written);
    process.stdout.write(`Filled ${EVENTS - written} more denial AuditEvents in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);

    const listing = (token: string, patient: unknown, expected: number) => async () => {
      const res = await call(token, 'GET', `AuditEvent?patient=Patient/${String(patient)}`);
      if (res.status !== 200 || res.body.total !== expected) {
        throw new Error(`listing answered ${res.status} with total ${String(res.body.total)}, expected ${expected}`);
      }
    };
    const rawListing = async () => {
      const where = `rv.resource_type = 'AuditEvent' AND rv.superseded_xid IS NULL AND NOT rv.deleted
        AND EXISTS (SELECT 1 FROM search_reference x WHERE x.vid = rv.vid AND x.code = 'patient' AND x.target_type = 'Patient' AND x.target_id = $1)`;
      await raw.query(`SELECT count(*) FROM resource_version rv WHERE ${where}`, [client.id]);
      await raw.query(`SELECT rv.content FROM resource_version rv WHERE ${where} ORDER BY rv.id LIMIT 21`, [client.id]);
    };
    const nextPage = async () => {
      const first = await call(clientToken, 'GET', `AuditEvent?patient=Patient/${String(client.id)}`);
      const link = (first.body.link as Array<{ relation: string; url: string }> | undefined)?.find((l) => l.relation === 'next')?.url;
      const second = link ? await fetch(link.replace(t.services.config.fhirBaseUrl, base), { headers: { Authorization: `Bearer ${clientToken}` } }) : undefined;
      if (second?.status !== 200) {
        throw new Error(`the next page answered ${second?.status ?? 'nothing'}`);
      }
    };
    const history = (token: string, path: string) => async () => {
      const res = await call(token, 'GET', path);
      if (res.status !== 200) {
        throw new Error(`${path} answered ${res.status}`);
      }
    };
    const rows: [string, { median: number; p95: number }][] = [
      ['raw SQL: count + first page of the same rows, no policy', await latency(rawListing)],
      ['client: GET AuditEvent?patient= (own trail)', await latency(listing(clientToken, client.id, EVENTS))],
      ['practice: GET AuditEvent?patient= (the flooded client)', await latency(listing(practiceToken, client.id, EVENTS))],
      ['practice: GET AuditEvent?patient= (a client with no events)', await latency(listing(practiceToken, quiet.id, 0))],
      ['client: first page, then the next one (_page token)', await latency(nextPage)],
      ['practice: GET _history (system history, first page)', await latency(history(practiceToken, '_history'))],
      ['practice: GET AuditEvent/_history (first page)', await latency(history(practiceToken, 'AuditEvent/_history'))],
    ];
    process.stdout.write(`\nListing with ${EVENTS} denial AuditEvents for the client (first page of 20 with the total; ${RUNS} runs each)\n\n`);
    process.stdout.write('| request | median ms | p95 ms |\n|---|---|---|\n');
    for (const [name, { median, p95 }] of rows) {
      process.stdout.write(`| ${name} | ${median.toFixed(1)} | ${p95.toFixed(1)} |\n`);
    }
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
