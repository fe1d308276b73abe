/**
 * The HTTP benchmark: CareCircle as `npm start` runs it, loaded from a separate process (autocannon, 10 connections,
 * a 5 s warm-up then 20 s measured per row), each figure beside raw baselines measured in the same round on the same
 * machine — a bare Node HTTP server (loaded by autocannon alike) and `pg` primary-key selects (10 at a time) — and
 * reported as ratios, the median of three rounds (the machine is noisy; the ratios much less so).
 *
 *   npm run bench:http                       PostgreSQL (DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres
 *                                            for a database of its own, dropped after), then one round on the
 *                                            embedded default (PGlite)
 *   BENCH_ROUNDS=1 BENCH_DURATION=5 ...      a quick look
 *   BENCH_PGLITE=0 / BENCH_POSTGRES=0        skip one of the two
 *   BENCH_CPU_PROF=<dir>                     the server runs with --cpu-prof into <dir> (PostgreSQL, round 1 only)
 *   BENCH_ONLY=read,partner-read             only the rows named
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { profilesIn, rssMb, startBenchSystem, type BenchSystem } from './http/bench-system';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '3');
const DURATION = Number(process.env.BENCH_DURATION ?? '20');
const WARMUP = Number(process.env.BENCH_WARMUP ?? '5');
const CONNECTIONS = 10;
// USER_HZ, the unit of /proc/<pid>/stat's times: 100 on Linux.
const CLOCK_TICKS = 100;
const ONLY = process.env.BENCH_ONLY?.split(',');
const AUTOCANNON = require.resolve('autocannon/autocannon.js');
const BASELINES = join(__dirname, 'http', 'baselines.ts');

interface Row {
  key: string;
  label: string;
  who: 'practice' | 'partner';
  method: 'GET' | 'POST';
  path: (s: BenchSystem) => string;
  body?: (s: BenchSystem) => string;
  /** Expected number of entries for a search (checked once before measuring). */
  expect?: number;
  /** The goal, as a minimum ratio to the bare Node rate. */
  goal?: number;
}

const ROWS: Row[] = [
  { key: 'read', label: 'GET Patient/{id} (practice)', who: 'practice', method: 'GET', path: (s) => `/Patient/${s.ids.patient}`, goal: 0.13 },
  { key: 'search-20', label: 'GET Patient?family=Smith (20 of 1,000)', who: 'practice', method: 'GET', path: () => '/Patient?family=Smith', expect: 20, goal: 0.03 },
  { key: 'search-5', label: 'GET Observation?subject=Patient/{id} (5)', who: 'practice', method: 'GET', path: (s) => `/Observation?subject=Patient/${s.ids.patient}`, expect: 5, goal: 0.085 },
  {
    key: 'create',
    label: 'POST Patient (practice)',
    who: 'practice',
    method: 'POST',
    path: () => '/Patient',
    body: () => JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Created', given: ['Bench'] }], gender: 'unknown' }),
    goal: 0.03,
  },
  { key: 'partner-read', label: 'GET Patient/{id}, partner under consent (audited)', who: 'partner', method: 'GET', path: (s) => `/Patient/${s.ids.sharedClient}`, goal: 0.065 },
  { key: 'search-100', label: 'GET Observation?subject (100), practice', who: 'practice', method: 'GET', path: (s) => `/Observation?subject=Patient/${s.ids.sharedClient}&_count=100`, expect: 100 },
  { key: 'partner-search-100', label: 'GET Observation?subject (100), partner (audited)', who: 'partner', method: 'GET', path: (s) => `/Observation?subject=Patient/${s.ids.sharedClient}&_count=100`, expect: 100 },
];

interface Measure {
  rate: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU spent per request, in ms: the server process, and PostgreSQL's backends serving it (undefined on PGlite). */
  serverCpu?: number;
  dbCpu?: number;
}

interface RoundResult {
  bareNode: Measure;
  pgSelects: number | undefined;
  rows: Map<string, Measure>;
  rssIdle: number;
  rssAfter: number;
}

function autocannon(url: string, seconds: number, headers: Record<string, string>, method = 'GET', body?: string): Promise<Measure> {
  const args = [AUTOCANNON, '-c', String(CONNECTIONS), '-d', String(seconds), '-j', '-m', method];
  for (const [k, v] of Object.entries(headers)) {
    args.push('-H', `${k}=${v}`);
  }
  if (body) {
    args.push('-b', body);
  }
  args.push(url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => {
      if (code !== 0) {
        reject(new Error(`autocannon exited ${code}`));
        return;
      }
      const r = JSON.parse(out) as { requests: { average: number }; latency: { p50: number; p99: number }; non2xx: number; errors: number; timeouts: number };
      resolve({ rate: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.non2xx + r.errors + r.timeouts });
    });
  });
}

async function bareNode(seconds: number): Promise<Measure> {
  const child = spawn(process.execPath, ['--import', 'tsx', BASELINES, 'node'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => child.stdout.once('data', (c: Buffer) => resolve((JSON.parse(c.toString()) as { port: number }).port)));
  try {
    const url = `http://127.0.0.1:${port}/fhir/R4/Patient/1`;
    await autocannon(url, WARMUP, {});
    return await autocannon(url, seconds, {});
  } finally {
    child.kill('SIGTERM');
  }
}

function pgSelects(url: string, seconds: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', BASELINES, 'pg', url, String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => (code === 0 ? resolve((JSON.parse(out) as { perSecond: number }).perSecond) : reject(new Error(`pg baseline exited ${code}`))));
  });
}

async function check(system: BenchSystem, row: Row, token: string): Promise<void> {
  const res = await fetch(`${system.fhir}${row.path(system)}`, {
    method: row.method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/fhir+json' },
    body: row.body?.(system),
  });
  const body = (await res.json()) as { entry?: unknown[] };
  if (!res.ok || (row.expect !== undefined && body.entry?.length !== row.expect)) {
    throw new Error(`${row.label}: ${res.status}, ${body.entry?.length ?? 0} entries (expected ${row.expect ?? 'a 2xx'})`);
  }
}

async function round(system: BenchSystem, databaseUrl: string | undefined): Promise<RoundResult> {
  const rows = new Map<string, Measure>();
  const bare = await bareNode(DURATION);
  const pgRate = databaseUrl ? await pgSelects(databaseUrl, Math.min(DURATION, 10)) : undefined;
  const rssIdle = rssMb(system.serverPid());
  for (const row of ROWS) {
    if (ONLY && !ONLY.includes(row.key)) {
      continue;
    }
    const token = row.who === 'practice' ? await system.practiceToken() : await system.partnerToken();
    await check(system, row, token);
    const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/fhir+json' };
    const url = `${system.fhir}${row.path(system)}`;
    await autocannon(url, WARMUP, headers, row.method, row.body?.(system));
    const before = await cpuSeconds(system, databaseUrl);
    const measure = await autocannon(url, DURATION, headers, row.method, row.body?.(system));
    const after = await cpuSeconds(system, databaseUrl);
    const requests = measure.rate * DURATION;
    measure.serverCpu = ((after.server - before.server) * 1000) / requests;
    measure.dbCpu = databaseUrl ? ((after.db - before.db) * 1000) / requests : undefined;
    rows.set(row.key, measure);
  }
  return { bareNode: bare, pgSelects: pgRate, rows, rssIdle, rssAfter: rssMb(system.serverPid()) };
}

/** CPU seconds used so far by the server process and by the PostgreSQL backends connected to its database. */
async function cpuSeconds(system: BenchSystem, databaseUrl: string | undefined): Promise<{ server: number; db: number }> {
  const server = processCpuSeconds(system.serverPid());
  if (!databaseUrl) {
    return { server, db: 0 };
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    return { server, db: rows.reduce((sum, r) => sum + processCpuSeconds(r.pid), 0) };
  } finally {
    await client.end();
  }
}

/** utime + stime of a process from /proc, in seconds (0 once it is gone). */
function processCpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    // After the command name: state is field 3, utime 14 and stime 15 (1-based over the whole line).
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function report(title: string, results: RoundResult[]): void {
  const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const bare = median(results.map((r) => r.bareNode.rate));
  const pgRates = results.map((r) => r.pgSelects).filter((x): x is number => x !== undefined);
  const pgRate = pgRates.length ? median(pgRates) : undefined;
  const lines = [
    '',
    `## ${title} — median of ${results.length} round(s), ${CONNECTIONS} connections, ${DURATION} s each after ${WARMUP} s warm-up`,
    '',
    `bare Node HTTP: ${fmt(bare)} req/s (rounds: ${results.map((r) => fmt(r.bareNode.rate)).join(', ')}); ` +
      (pgRate ? `pg primary-key selects: ${fmt(pgRate)} q/s (rounds: ${pgRates.map((x) => fmt(x)).join(', ')})` : 'pg baseline: not applicable (embedded database)'),
    '',
    '| operation | req/s | p50 ms | p99 ms | × bare Node | × pg selects | goal (× bare Node) | server CPU ms/req | db CPU ms/req | rounds (req/s) |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  const medianRate: Record<string, number> = {};
  for (const row of ROWS) {
    const measures = results.map((r) => r.rows.get(row.key)).filter((m): m is Measure => m !== undefined);
    if (measures.length === 0) {
      continue;
    }
    // Ratios per round (each against its own round's baseline), then the median of those.
    const ratio = median(results.map((r) => (r.rows.get(row.key)?.rate ?? 0) / r.bareNode.rate));
    const pgRatio = pgRate ? median(results.filter((r) => r.pgSelects).map((r) => (r.rows.get(row.key)?.rate ?? 0) / (r.pgSelects as number))) : undefined;
    const rate = median(measures.map((m) => m.rate));
    medianRate[row.key] = rate;
    const errors = measures.reduce((n, m) => n + m.errors, 0);
    const goal = row.goal === undefined ? '' : `${row.goal} ${ratio >= row.goal ? 'met' : 'NOT met'}`;
    lines.push(
      `| ${row.label}${errors ? ` (${errors} errors)` : ''} | ${fmt(rate)} | ${fmt(median(measures.map((m) => m.p50)), 1)} | ${fmt(median(measures.map((m) => m.p99)), 1)} | ${fmt(ratio, 3)} | ${pgRatio === undefined ? '—' : fmt(pgRatio, 3)} | ${goal} | ${fmt(median(measures.map((m) => m.serverCpu ?? 0)), 2)} | ${measures[0]?.dbCpu === undefined ? '—' : fmt(median(measures.map((m) => m.dbCpu ?? 0)), 2)} | ${measures.map((m) => fmt(m.rate)).join(', ')} |`,
    );
  }
  if (medianRate['search-100'] && medianRate['partner-search-100']) {
    const slower = medianRate['search-100'] / medianRate['partner-search-100'];
    lines.push('', `partner's audited search of 100 takes ${fmt(slower, 2)}× the practice's time for the same search (goal ≤ 1.2: ${slower <= 1.2 ? 'met' : 'NOT met'})`);
  }
  const rss = results.map((r) => `${fmt(r.rssIdle)} → ${fmt(r.rssAfter)}`).join(', ');
  const peak = Math.max(...results.map((r) => r.rssAfter));
  lines.push('', `server RSS MB per round (before → after load): ${rss}; peak ${fmt(peak)} (goal ≤ 375: ${peak <= 375 ? 'met' : 'NOT met'})`, '');
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function withDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const admin = process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `carecircle_bench_${Date.now()}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  try {
    const url = new URL(admin);
    url.pathname = `/${name}`;
    return await fn(url.toString());
  } finally {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.end();
  }
}

async function runOn(title: string, databaseUrl: string | undefined, rounds: number): Promise<void> {
  const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
  const profileDir = process.env.BENCH_CPU_PROF;
  if (profileDir) {
    mkdirSync(profileDir, { recursive: true });
  }
  log(`${title}: starting npm start`);
  const system = await startBenchSystem({
    databaseUrl,
    log,
    env: profileDir && databaseUrl ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` } : {},
  });
  const results: RoundResult[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      log(`${title}: round ${i + 1} of ${rounds}`);
      results.push(await round(system, databaseUrl));
    }
  } finally {
    await system.stop();
  }
  report(title, results);
  if (profileDir && databaseUrl) {
    log(`CPU profiles: ${profilesIn(profileDir).join(', ')}`);
  }
}

async function main(): Promise<void> {
  if (process.env.BENCH_POSTGRES !== '0') {
    if (process.env.DATABASE_URL) {
      await runOn('PostgreSQL', process.env.DATABASE_URL, ROUNDS);
    } else {
      await withDatabase((url) => runOn('PostgreSQL', url, ROUNDS));
    }
  }
  if (process.env.BENCH_PGLITE !== '0') {
    await runOn('embedded PGlite (the default)', undefined, 1);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
