/**
 * Throughput of create, read and search through the whole HTTP stack, each reported beside a raw PostgreSQL baseline
 * measured in the same run on the same database (the same work as bare SQL over `pg`), so the ratio says what the
 * FHIR layer costs on this machine regardless of how fast the machine is.
 *
 * The caller is a practice's backend system with a real SMART token (scopes and custodianship enforced in SQL, the
 * normal path for a practice's own clients). One more row searches as the operator (admin token), whose every read of
 * a client's data is audited: one AuditEvent per client returned, written before the answer.
 *
 *   npm run bench            (needs PostgreSQL and Redis like the tests; BENCH_SCALE=2 doubles the counts)
 */
import type { AddressInfo } from 'node:net';
import { createTestApp, registerSystemClient } from '@carecircle/api/testing';
import { buildOrganization, buildPatient } from '@carecircle/testing';
import pg from 'pg';

const SCALE = Number(process.env.BENCH_SCALE ?? '1');
const CONCURRENCY = 8;
const COUNTS = { create: 1500 * SCALE, read: 3000 * SCALE, search: 600 * SCALE };

interface Result {
  name: string;
  ops: number;
  seconds: number;
}

async function run(name: string, ops: number, op: (i: number) => Promise<void>): Promise<Result> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < ops) {
        await op(next++);
      }
    }),
  );
  return { name, ops, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

function rate(r: Result): number {
  return r.ops / r.seconds;
}

async function main(): Promise<void> {
  const t = await createTestApp({ LOG_LEVEL: 'silent' });
  const server = t.app.listen(0);
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir/R4`;
  const adminHeaders = { Authorization: `Bearer ${t.adminToken}`, 'Content-Type': 'application/fhir+json' };
  const practiceRes = await fetch(`${base}/Organization`, { method: 'POST', headers: adminHeaders, body: JSON.stringify(buildOrganization({ name: 'Practice' })) });
  const practice = `Organization/${((await practiceRes.json()) as { id: string }).id}`;
  // Backend-services tokens live 5 minutes: long enough for one run at the default scale.
  const token = await (await registerSystemClient(t, practice, 'system/*.cruds')).token();
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/fhir+json' };
  const raw = new pg.Pool({ connectionString: t.services.config.databaseUrl, max: CONCURRENCY });
  await raw.query('CREATE TABLE bench_raw (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), content jsonb NOT NULL)');
  await raw.query("CREATE INDEX ON bench_raw ((content->'name'->0->>'family'))");

  const families = Array.from({ length: 50 }, (_, i) => `Family${i}`);
  const patient = (i: number) =>
    buildPatient({ name: [{ family: families[i % families.length] as string, given: [`G${i}`] }], managingOrganization: { reference: practice } });
  const ids: string[] = [];
  const rawIds: string[] = [];
  try {
    // Warm up both paths (JIT, connection pools, definitions).
    for (let i = 0; i < 50; i++) {
      await fetch(`${base}/Patient`, { method: 'POST', headers, body: JSON.stringify(patient(i)) }).then((r) => r.arrayBuffer());
      await raw.query('INSERT INTO bench_raw (content) VALUES ($1)', [JSON.stringify(patient(i))]);
    }
    const results: [Result, Result][] = [];
    results.push([
      await run('create', COUNTS.create, async (i) => {
        const res = await fetch(`${base}/Patient`, { method: 'POST', headers, body: JSON.stringify(patient(i)) });
        ids.push(((await res.json()) as { id: string }).id);
      }),
      await run('raw INSERT', COUNTS.create, async (i) => {
        const { rows } = await raw.query<{ id: string }>('INSERT INTO bench_raw (content) VALUES ($1) RETURNING id', [JSON.stringify(patient(i))]);
        rawIds.push(rows[0]?.id as string);
      }),
    ]);
    // Steady state: a production database has planner statistics (autovacuum keeps them); give both sides theirs.
    await raw.query('ANALYZE');
    results.push([
      await run('read', COUNTS.read, async (i) => {
        await fetch(`${base}/Patient/${ids[i % ids.length]}`, { headers }).then((r) => r.arrayBuffer());
      }),
      await run('raw SELECT by id', COUNTS.read, async (i) => {
        await raw.query('SELECT content FROM bench_raw WHERE id = $1', [rawIds[i % rawIds.length]]);
      }),
    ]);
    results.push([
      await run('search family, 20/page', COUNTS.search, async (i) => {
        await fetch(`${base}/Patient?family=${families[i % families.length]}&_count=20`, { headers }).then((r) => r.arrayBuffer());
      }),
      await run('raw SELECT family, 20', COUNTS.search, async (i) => {
        await raw.query("SELECT content FROM bench_raw WHERE content->'name'->0->>'family' = $1 LIMIT 20", [families[i % families.length]]);
      }),
    ]);
    results.push([
      await run('search as operator (20 AuditEvents)', COUNTS.search / 4, async (i) => {
        await fetch(`${base}/Patient?family=${families[i % families.length]}&_count=20`, { headers: adminHeaders }).then((r) => r.arrayBuffer());
      }),
      await run('raw SELECT family, 20', COUNTS.search / 4, async (i) => {
        await raw.query("SELECT content FROM bench_raw WHERE content->'name'->0->>'family' = $1 LIMIT 20", [families[i % families.length]]);
      }),
    ]);

    process.stdout.write(`CareCircle throughput (concurrency ${CONCURRENCY}, PostgreSQL, one process, a practice's system token)\n\n`);
    process.stdout.write('| operation | ops | CareCircle req/s | raw baseline | raw ops/s | CareCircle / raw |\n|---|---|---|---|---|---|\n');
    for (const [ours, baseline] of results) {
      process.stdout.write(
        `| ${ours.name} | ${ours.ops} | ${rate(ours).toFixed(0)} | ${baseline.name} | ${rate(baseline).toFixed(0)} | ${(rate(ours) / rate(baseline)).toFixed(3)} |\n`,
      );
    }
  } finally {
    await raw.end();
    await new Promise((resolve) => server.close(resolve));
    await t.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
