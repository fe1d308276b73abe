/**
 * A subscriber's webhook for whole-system tests: a real HTTP server on 127.0.0.1 that records every notification
 * (raw body, headers, the SubscriptionStatus's type and event numbers) and answers as the test says (200 by default;
 * `down()` makes it answer 503 until `up()`).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bundle, Parameters } from '@medplum/fhirtypes';
import { waitFor } from './wait-for';

export interface ReceivedNotification {
  path: string;
  at: number;
  headers: IncomingHttpHeaders;
  /** The body exactly as it arrived. */
  body: string;
  bundle: Bundle;
  type: string | undefined;
  eventNumbers: number[];
  /** The status answered. */
  answered: number;
}

export interface NotificationReceiver {
  url(path: string): string;
  received: ReceivedNotification[];
  /** Accepted event notifications for `path`. */
  events(path: string): ReceivedNotification[];
  /** `path` answers 503 until `up(path)`. */
  down(path: string): void;
  up(path: string): void;
  waitFor<T>(what: string, probe: () => T | undefined, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

/** The SubscriptionStatus's parameters of a notification bundle. */
export function statusOf(bundle: Bundle): Parameters {
  return bundle.entry?.[0]?.resource as Parameters;
}

/** The event numbers a SubscriptionStatus lists. */
export function eventNumbersOf(status: Parameters): number[] {
  return (status.parameter ?? [])
    .filter((p) => p.name === 'notification-event')
    .map((p) => Number(p.part?.find((x) => x.name === 'event-number')?.valueString));
}

export async function startNotificationReceiver(): Promise<NotificationReceiver> {
  const received: ReceivedNotification[] = [];
  const downPaths = new Set<string>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const path = req.url ?? '/';
      const answered = downPaths.has(path) ? 503 : 200;
      const bundle = JSON.parse(body) as Bundle;
      const status = statusOf(bundle);
      received.push({
        path,
        at: Date.now(),
        headers: req.headers,
        body,
        bundle,
        type: status.parameter?.find((p) => p.name === 'type')?.valueCode,
        eventNumbers: eventNumbersOf(status),
        answered,
      });
      res.writeHead(answered, answered === 503 ? { 'Retry-After': '1' } : {}).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    received,
    events: (path) => received.filter((r) => r.path === path && r.type === 'event-notification' && r.answered === 200),
    down: (path) => downPaths.add(path),
    up: (path) => downPaths.delete(path),
    waitFor: (what, probe, timeoutMs) => waitFor(what, probe, timeoutMs),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
