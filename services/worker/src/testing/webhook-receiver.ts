/**
 * A real webhook receiver for the notification tests: an HTTP server on 127.0.0.1 that checks every request's
 * signature with the subscription's secret and records what arrived, answering as each test tells it to.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, verifyNotificationSignature } from '@carecircle/notify';
import type { Bundle, Parameters } from '@medplum/fhirtypes';

export interface ReceivedNotification {
  path: string;
  receivedAt: number;
  eventId: string;
  signatureValid: boolean;
  headers: IncomingMessage['headers'];
  bundle: Bundle;
  /** The SubscriptionStatus's type (handshake, heartbeat, event-notification). */
  type: string;
  /** Event numbers in the notification. */
  eventNumbers: number[];
  /** References of the focus of each event. */
  focus: string[];
  /** The status the receiver answered with; undefined when it held the request. */
  answered: number | undefined;
}

/** How to answer a request; `hold` never answers (until the receiver closes). */
export type Reply = { status: number; headers?: Record<string, string> } | 'hold';

export interface WebhookReceiver {
  url(path: string): string;
  received: ReceivedNotification[];
  /** Notifications with events, for `path`. */
  events(path: string): ReceivedNotification[];
  /** Sets how `path` answers (default 200). */
  reply(path: string, decide: (n: ReceivedNotification) => Reply): void;
  /** Resolves when `predicate` holds for what arrived, or rejects after `timeoutMs`. */
  waitFor(predicate: (received: ReceivedNotification[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts a receiver; `secretFor(path)` is the secret the subscription at that path signs with. */
export async function startWebhookReceiver(secretFor: (path: string) => string): Promise<WebhookReceiver> {
  const received: ReceivedNotification[] = [];
  const replies = new Map<string, (n: ReceivedNotification) => Reply>();
  const held: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      const bundle = JSON.parse(body) as Bundle;
      const status = bundle.entry?.[0]?.resource as Parameters | undefined;
      const parts = status?.parameter ?? [];
      const notification: Omit<ReceivedNotification, 'answered'> = {
        path,
        receivedAt: Date.now(),
        eventId: String(req.headers[EVENT_ID_HEADER.toLowerCase()] ?? ''),
        signatureValid: verifyNotificationSignature(secretFor(path), body, req.headers[SIGNATURE_HEADER.toLowerCase()] as string | undefined),
        headers: req.headers,
        bundle,
        type: parts.find((p) => p.name === 'type')?.valueCode ?? '',
        eventNumbers: parts
          .filter((p) => p.name === 'notification-event')
          .map((p) => Number(p.part?.find((q) => q.name === 'event-number')?.valueString)),
        focus: parts
          .filter((p) => p.name === 'notification-event')
          .flatMap((p) => p.part?.filter((q) => q.name === 'focus').map((q) => q.valueReference?.reference ?? '') ?? []),
      };
      const reply: Reply = (replies.get(path) ?? ((): Reply => ({ status: 200 })))({ ...notification, answered: undefined });
      received.push({ ...notification, answered: reply === 'hold' ? undefined : reply.status });
      if (reply === 'hold') {
        held.push(res);
        return;
      }
      res.writeHead(reply.status, reply.headers ?? {});
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    received,
    events: (path) => received.filter((n) => n.path === path && n.type === 'event-notification'),
    reply: (path, decide) => replies.set(path, decide),
    async waitFor(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(received)) {
        if (Date.now() > deadline) {
          throw new Error('the expected notifications did not arrive in time');
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async close() {
      for (const res of held) {
        res.destroy();
      }
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
