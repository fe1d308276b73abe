/**
 * `npm run -s receiver`: a webhook receiver for trying notifications on one machine. Listens on 127.0.0.1
 * (RECEIVER_PORT, default 9090), checks every notification's signature with HOOK_SECRET (the subscription's secret;
 * 401 when it does not verify, so forgeries and replays are refused), prints one line per notification and event, and
 * answers 200. What a partner's real endpoint does, in a few lines.
 */
import { createServer } from 'node:http';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, verifyNotificationSignature } from '@carecircle/notify';
import type { Bundle, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { loadReceiverConfig } from './tool-config';

const MAX_BODY_BYTES = 1024 * 1024;

function part(parameters: readonly ParametersParameter[] | undefined, name: string): ParametersParameter | undefined {
  return parameters?.find((p) => p.name === name);
}

/** One line for the notification and one per event it carries. */
export function describeNotification(bundle: Bundle, eventId: string | undefined): string[] {
  const status = bundle.entry?.[0]?.resource as Parameters | undefined;
  const type = part(status?.parameter, 'type')?.valueCode ?? 'unknown';
  const subscription = part(status?.parameter, 'subscription')?.valueReference?.reference ?? '';
  const lines = [`${type} from ${subscription.replace(/^.*\/(Subscription\/[^/]+)$/, '$1')}${eventId ? ` (event id ${eventId})` : ''}`];
  for (const event of status?.parameter?.filter((p) => p.name === 'notification-event') ?? []) {
    const number = part(event.part, 'event-number')?.valueString ?? '?';
    const focus = part(event.part, 'focus')?.valueReference?.reference;
    lines.push(`  event ${number}: ${focus ? focus.replace(/^.*\/([A-Za-z]+\/[^/]+)$/, '$1') : 'withheld (not yours to see now)'}`);
  }
  return lines;
}

function main(): void {
  const { port, secret } = loadReceiverConfig();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) {
        chunks.push(chunk);
      }
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (req.method !== 'POST') {
        // Notifications are POSTs; anything else (a check that the receiver listens) gets a plain answer.
        res.writeHead(405, { Allow: 'POST' }).end();
        return;
      }
      if (size > MAX_BODY_BYTES || !verifyNotificationSignature(secret, body, req.headers[SIGNATURE_HEADER.toLowerCase()] as string | undefined)) {
        process.stdout.write(`refused a request to ${req.url ?? '/'}: not a notification signed with HOOK_SECRET\n`);
        res.writeHead(401).end();
        return;
      }
      try {
        const eventId = req.headers[EVENT_ID_HEADER.toLowerCase()] as string | undefined;
        process.stdout.write(`${describeNotification(JSON.parse(body) as Bundle, eventId).join('\n')}\n`);
        res.writeHead(200).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  server.on('error', (err: NodeJS.ErrnoException) => {
    process.stderr.write(`npm run receiver: ${err.code === 'EADDRINUSE' ? `port ${port} is in use: set RECEIVER_PORT` : err.message}\n`);
    process.exit(1);
  });
  server.listen(port, '127.0.0.1', () => {
    process.stdout.write(`Receiving notifications at http://127.0.0.1:${port}/hook\n`);
  });
  const stop = (): void => void server.close(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

try {
  main();
} catch (err) {
  process.stderr.write(`npm run receiver: ${(err as Error).message}\n`);
  process.exit(1);
}
