/**
 * `npm start` as people run it: a SIGTERM to npm (what a terminal, a process manager or a container runtime sends the
 * process it started) must reach Node, which shuts down in order and exits; npm must not exit and leave Node serving.
 * The scripts `exec` each step so that npm forwards the signal to Node itself rather than to a shell.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createTestDatabase, freePort, type TestDatabase } from '@carecircle/testing';

const ROOT = join(__dirname, '..', '..', '..');


/** True when something accepts connections on `port`. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The command lines of the processes in process group `group` (npm, its shells, Node), each as its arguments. */
function commandLinesIn(group: number): string[][] {
  return readdirSync('/proc').flatMap((pid) => {
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces, so fields are counted after ')'.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      return pgrp === group ? [readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)] : [];
    } catch {
      return [];
    }
  });
}

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

/** A gauge's value in a Prometheus text exposition. */
function gauge(exposition: string, name: string): number {
  const line = exposition.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) {
    throw new Error(`no ${name} in /metrics`);
  }
  return Number(line.slice(name.length + 1));
}

test('SIGTERM to `npm start` shuts Node down in order, and nothing keeps serving', async () => {
  const port = await freePort();
  const adminToken = randomBytes(32).toString('hex');
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    env: {
      PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
      HOME: process.env.HOME ?? '/tmp',
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      PORT: String(port),
      DATABASE_URL: database.url,
      ADMIN_TOKEN: adminToken,
      REDIS_PREFIX: `{cc-start-${randomBytes(4).toString('hex')}}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so that a failed test can kill Node too (npm's child), not leave it serving.
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm start did not start in time:\n${output}`)), 60_000);
      const poll = setInterval(() => {
        if (output.includes('CareCircle is running')) {
          clearInterval(poll);
          clearTimeout(timer);
          resolve();
        }
      }, 100);
    });
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    // What parsing the R4 definitions left (about 185 MB) was collected once it served (startup-garbage.ts): the live
    // heap is about 80 MB; without the collection the heap holds 265 MB until the old generation next fills.
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } })).text();
    expect(gauge(metrics, 'carecircle_nodejs_heap_size_used_bytes')).toBeLessThan(160e6);
    // Node runs with the heap settings that keep it near its live heap under load (DESIGN, "What a request costs"):
    // without them V8 let the young generation grow to 128 MB and the old one to three times what was live (RSS 667 MB).
    const node = commandLinesIn(child.pid as number).find((args) => args.includes('src/main.ts'));
    expect(node).toEqual(expect.arrayContaining(['--max-semi-space-size=16', '--heap-growing-percent=50']));

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('"signal":"SIGTERM"');
    expect(output).toContain('worker stopped');
    expect(await listening(port)).toBe(false);
  } finally {
    if (child.exitCode === null) {
      process.kill(-(child.pid as number), 'SIGKILL');
    }
  }
}, 90_000);
