/**
 * A start that cannot succeed says so in one line and exits 1 (issue 10): the real start command (`node --import tsx
 * src/main.ts`, what `npm start` execs) as a child process, against a taken port, a PostgreSQL that does not answer, a
 * database that does not exist, a database the migrations cannot apply to, an unreachable Redis, and a PGlite data
 * directory that cannot be written or that another process holds. Never a stack trace, never the password.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, sql, type Database } from '@carecircle/store';
import { createTestDatabase, freePort, type TestDatabase } from '@carecircle/testing';

const LAUNCHER_DIR = join(__dirname, '..');

interface Exit {
  code: number | null;
  stderr: string;
}

/** Runs the start command with `env` (on top of a minimal environment) until it exits. */
function start(env: Record<string, string>): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: LAUNCHER_DIR,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        ADMIN_TOKEN: randomBytes(32).toString('hex'),
        REDIS_PREFIX: `{cc-startfail-${randomBytes(4).toString('hex')}}`,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.resume();
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the start did not end in time; stderr so far:\n${stderr}`));
    }, 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/** Exit 1 and exactly one line on stderr, without a stack frame; returns the line. */
function oneLineFailure(exit: Exit): string {
  expect(exit.code).toBe(1);
  const lines = exit.stderr.split('\n').filter((line) => line.trim() !== '');
  expect(lines).toHaveLength(1);
  expect(exit.stderr).not.toContain('    at ');
  return lines[0] as string;
}

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

test('a port in use', async () => {
  const port = await freePort();
  const taken: Server = createServer();
  await new Promise<void>((resolve) => taken.listen(port, resolve));
  try {
    const line = oneLineFailure(await start({ PORT: String(port), DATABASE_URL: database.url }));
    expect(line).toBe(`Port ${port} is in use: stop the other process or set PORT.`);
  } finally {
    await new Promise((resolve) => taken.close(resolve));
  }
}, 90_000);

test('PostgreSQL not answering: names host and port, never the password', async () => {
  const closed = await freePort();
  const line = oneLineFailure(await start({ PORT: '0', DATABASE_URL: `postgres://postgres:s3cret-pw@127.0.0.1:${closed}/carecircle` }));
  expect(line).toBe(
    `Cannot reach PostgreSQL at 127.0.0.1:${closed} (from DATABASE_URL): start it (e.g. \`pg_ctlcluster 15 main start\`) ` +
      'or fix the host and port in DATABASE_URL; or unset DATABASE_URL to use embedded PGlite.',
  );
  expect(line).not.toContain('s3cret-pw');
}, 90_000);

test('a database that does not exist: its name and the createdb command', async () => {
  const name = `carecircle_missing_${randomBytes(4).toString('hex')}`;
  const line = oneLineFailure(await start({ PORT: '0', DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${name}` }));
  expect(line).toBe(
    `Database "${name}" does not exist on PostgreSQL at 127.0.0.1:5432: create it with ` +
      `\`createdb -h 127.0.0.1 -p 5432 -U postgres ${name}\`, or fix the database name in DATABASE_URL.`,
  );
}, 90_000);

test('a migration that fails: which one, and the database error', async () => {
  const occupied = await createTestDatabase();
  const db: Database = await openDatabase({ databaseUrl: occupied.url });
  try {
    await db.query(sql`CREATE TABLE resource_version (something_else integer)`);
    const line = oneLineFailure(await start({ PORT: '0', DATABASE_URL: occupied.url }));
    expect(line).toMatch(/^Migration 0001-resources\.sql failed: relation "resource_version" already exists \(database: PostgreSQL at 127\.0\.0\.1:5432\/carecircle_test_[0-9a-f]+\)\./);
  } finally {
    await db.close();
    await occupied.drop();
  }
}, 90_000);

test('Redis not answering', async () => {
  const closed = await freePort();
  const line = oneLineFailure(await start({ PORT: '0', DATABASE_URL: database.url, REDIS_URL: `redis://127.0.0.1:${closed}` }));
  expect(line).toContain(`Cannot reach Redis at redis://127.0.0.1:${closed}`);
}, 90_000);

test('a PGlite data directory that cannot be created', async () => {
  const file = join(tmpdir(), `carecircle-not-a-dir-${randomBytes(4).toString('hex')}`);
  writeFileSync(file, '');
  try {
    const line = oneLineFailure(await start({ PORT: '0', DATA_DIR: join(file, 'data') }));
    expect(line).toBe(`The data directory ${join(file, 'data')} cannot be created or written (ENOTDIR): set DATA_DIR to a writable directory, or fix its permissions.`);
  } finally {
    rmSync(file, { force: true });
  }
}, 90_000);

test('a PGlite data directory another process holds', async () => {
  const dataDir = join(tmpdir(), `carecircle-held-${randomBytes(4).toString('hex')}`);
  const holder = await openDatabase({ dataDir });
  try {
    const line = oneLineFailure(await start({ PORT: '0', DATA_DIR: dataDir }));
    expect(line).toMatch(new RegExp(`^The data directory ${dataDir} is in use by another CareCircle process: stop it, or set DATA_DIR`));
  } finally {
    await holder.close();
  }
  // Released on close: the directory opens again.
  const again = await openDatabase({ dataDir });
  await again.close();
  rmSync(dataDir, { recursive: true, force: true });
}, 90_000);
