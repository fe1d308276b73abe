/**
 * The raw baselines the HTTP benchmark reports its figures against, each run as its own process so that it competes
 * for the machine exactly as the server does:
 *
 *   node --import tsx bench/http/baselines.ts node           a bare Node HTTP server answering a small FHIR JSON body;
 *                                                            prints its port, autocannon loads it like the server
 *   node --import tsx bench/http/baselines.ts pg <url> <s>   `pg` primary-key selects of a jsonb row, 10 at a time for
 *                                                            <s> seconds; prints {"perSecond": n} as JSON
 */
import { createServer } from 'node:http';
import pg from 'pg';

const BODY = JSON.stringify({
  resourceType: 'Patient',
  id: '4f3c2a10-8b7e-4e59-9d55-0a1b2c3d4e5f',
  meta: { versionId: '1', lastUpdated: '2026-12-07T00:00:00.000Z' },
  name: [{ family: 'Smith', given: ['Alex'] }],
  gender: 'unknown',
  birthDate: '1990-01-01',
});

function bareNode(): void {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/fhir+json', 'content-length': Buffer.byteLength(BODY) });
    res.end(BODY);
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

async function pgSelects(url: string, seconds: number): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  await pool.query('CREATE TABLE IF NOT EXISTS bench_raw (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), content jsonb NOT NULL)');
  const { rows } = await pool.query<{ id: string }>(
    'INSERT INTO bench_raw (content) SELECT $1::jsonb FROM generate_series(1, 1000) RETURNING id',
    [BODY],
  );
  const ids = rows.map((r) => r.id);
  const select = (i: number) => pool.query({ name: 'bench-raw-select', text: 'SELECT content FROM bench_raw WHERE id = $1', values: [ids[i % ids.length]] });
  // Warm-up: a second of the same work, not counted.
  const run = async (ms: number): Promise<number> => {
    const until = Date.now() + ms;
    let done = 0;
    await Promise.all(
      Array.from({ length: 10 }, async (_, lane) => {
        for (let i = lane; Date.now() < until; i += 10) {
          await select(i);
          done++;
        }
      }),
    );
    return done;
  };
  await run(1000);
  const started = process.hrtime.bigint();
  const done = await run(seconds * 1000);
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  await pool.query('DROP TABLE bench_raw');
  await pool.end();
  process.stdout.write(`${JSON.stringify({ perSecond: done / elapsed })}\n`);
}

const [kind, url, seconds] = process.argv.slice(2);
if (kind === 'node') {
  bareNode();
} else if (kind === 'pg' && url) {
  pgSelects(url, Number(seconds ?? '10')).catch((err: unknown) => {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  });
} else {
  process.stderr.write('usage: baselines.ts node | pg <database-url> <seconds>\n');
  process.exit(2);
}
