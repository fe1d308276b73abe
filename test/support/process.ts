/**
 * Runs CareCircle as a real child process (the same entry point as `npm start`) for whole-system tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '@carecircle/testing';

const ROOT = join(__dirname, '..', '..');
const LAUNCHER_MAIN = join(ROOT, 'services', 'launcher', 'src', 'main.ts');

export interface RunningProcess {
  child: ChildProcess;
  baseUrl: string;
  output: () => string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}


/**
 * Starts `services/launcher/src/main.ts` with `env`, the way `npm start` and the container run it (Node with the tsx
 * loader, no wrapper process between the signal and the server), and waits until it prints that it is running (or
 * exits).
 * A first start on embedded PGlite creates its cluster (initdb in WebAssembly): give it `startTimeoutMs`.
 */
export async function startCareCircle(env: Record<string, string>, startTimeoutMs = 30_000): Promise<RunningProcess> {
  const port = env.PORT ?? String(await freePort());
  const child = spawn(process.execPath, ['--import', 'tsx', LAUNCHER_MAIN], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'test', LOG_LEVEL: 'warn', ...env, PORT: port },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`CareCircle did not start in time:\n${output}`)), startTimeoutMs);
    const poll = setInterval(() => {
      if (/CareCircle (worker )?is running/.test(output)) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve();
      }
    }, 50);
    void exited.then(() => {
      clearInterval(poll);
      clearTimeout(timer);
      resolve();
    });
  });
  return {
    child,
    baseUrl: `http://127.0.0.1:${port}`,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) {
        return child.exitCode;
      }
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Waits for the process to exit by itself and returns its code. */
export function waitForExit(running: RunningProcess, timeoutMs = 20_000): Promise<number | null> {
  if (running.child.exitCode !== null) {
    return Promise.resolve(running.child.exitCode);
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('process did not exit')), timeoutMs);
    running.child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}
