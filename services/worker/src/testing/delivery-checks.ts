/**
 * What the resilience suites check about what a receiver got, and the worker processes they start: every event
 * delivered, in order, and a second copy of an event only as a retry (the same X-CareCircle-Event-Id).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { NotifyOptions } from '../notify-context';
import type { ReceivedNotification } from './webhook-receiver';

/** Every event number 1..count arrived, accepted, and the receiver never saw a later event before an earlier one. */
export function expectCompleteAndOrdered(notifications: ReceivedNotification[], count: number): void {
  const accepted = notifications.filter((n) => n.answered === 200).flatMap((n) => n.eventNumbers);
  expect([...new Set(accepted)].sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
  const numbers = notifications.flatMap((n) => n.eventNumbers);
  expect(numbers.every((n, i) => i === 0 || n >= (numbers[i - 1] ?? 0))).toBe(true);
}

/** Event numbers received more than once, with whether every copy carried the same event id. */
export function duplicates(notifications: ReceivedNotification[]): { eventNumber: number; sameEventId: boolean }[] {
  const byNumber = new Map<number, string[]>();
  for (const n of notifications) {
    for (const number of n.eventNumbers) {
      byNumber.set(number, [...(byNumber.get(number) ?? []), n.eventId]);
    }
  }
  return [...byNumber]
    .filter(([, ids]) => ids.length > 1)
    .map(([eventNumber, ids]) => ({ eventNumber, sameEventId: new Set(ids).size === 1 }));
}

export interface ChildWorkerSettings {
  databaseUrl: string;
  redisPrefix: string;
  redisUrl?: string;
  options: NotifyOptions;
}

/** A worker in a process of its own (so it can really be killed), on the suite's database and Redis. */
export function startChildWorker(settings: ChildWorkerSettings): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'child-worker.ts'), JSON.stringify(settings)], {
    cwd: join(__dirname, '..', '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

/** Resolves when the child printed `text`; rejects if it exits first. */
export function waitForLine(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(text)) {
        resolve();
      }
    });
    child.once('exit', () => reject(new Error(`child worker exited before "${text}"`)));
  });
}

/** Stops a child worker (SIGTERM, SIGKILL if it is not gone 10 s later or with `hard`) and waits until it is gone. */
export async function stopChildWorker(child: ChildProcess, hard = false): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(hard ? 'SIGKILL' : 'SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
