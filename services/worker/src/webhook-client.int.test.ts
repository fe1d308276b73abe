/**
 * The webhook client's address checks against a real receiver on loopback: an IP literal or a name resolving to an
 * address notifications may not go to is refused before any byte is sent, whichever of its addresses is the bad one,
 * and the connection goes to the address that was checked (a resolver answering differently later gains nothing).
 * Only loopback is ever connected to here; "forbidden" is exercised by not allowing loopback.
 */
import type { LookupAddress } from 'node:dns';
import { startWebhookReceiver, type WebhookReceiver } from './testing/webhook-receiver';
import { createWebhookClient, type Resolver } from './webhook-client';

const SECRET = 'a-secret-for-the-webhook-client-test!';
let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await startWebhookReceiver(() => SECRET);
});
afterAll(async () => {
  await receiver.close();
});

const request = (endpoint: string) => ({
  endpoint: new URL(endpoint),
  headers: [] as [string, string][],
  secret: SECRET,
  body: '{"resourceType":"Bundle","type":"history","entry":[]}',
  eventId: 'event-1',
  timeoutMs: 2000,
  maxResponseBytes: 1024,
});

/** A resolver that answers `addresses` for every name, counting how often it was asked. */
function resolverOf(addresses: LookupAddress[]): Resolver & { calls: number } {
  const resolver = Object.assign(
    (_hostname: string, _options: unknown, callback: (err: null, addresses: LookupAddress[]) => void) => {
      resolver.calls++;
      callback(null, addresses);
    },
    { calls: 0 },
  );
  return resolver;
}

test('posts to loopback when development allows it, by IP and by a name resolving to it', async () => {
  const port = new URL(receiver.url('/')).port;
  const client = createWebhookClient({ allowLoopback: true }, resolverOf([{ address: '127.0.0.1', family: 4 }]));
  try {
    expect(await client.post(request(`http://127.0.0.1:${port}/ip`))).toEqual({ kind: 'success', status: 200 });
    expect(await client.post(request(`http://partner.test:${port}/named`))).toEqual({ kind: 'success', status: 200 });
    expect(receiver.received.map((n) => n.path)).toEqual(['/ip', '/named']);
  } finally {
    client.close();
  }
});

test('refuses an IP literal it may not reach before sending anything', async () => {
  const port = new URL(receiver.url('/')).port;
  const client = createWebhookClient({ allowLoopback: false });
  try {
    const before = receiver.received.length;
    expect(await client.post(request(`http://127.0.0.1:${port}/refused`))).toMatchObject({ kind: 'failure', reason: 'forbidden address' });
    expect(await client.post(request(`http://[::1]:${port}/refused`))).toMatchObject({ kind: 'failure', reason: 'forbidden address' });
    expect(receiver.received.length).toBe(before);
  } finally {
    client.close();
  }
});

test('refuses a name when any address it resolves to is forbidden, and never connects', async () => {
  const port = new URL(receiver.url('/')).port;
  for (const addresses of [
    [{ address: '127.0.0.1', family: 4 }],
    [{ address: '93.184.215.14', family: 4 }, { address: '127.0.0.1', family: 4 }],
    [{ address: '::ffff:127.0.0.1', family: 6 }],
  ]) {
    const resolver = resolverOf(addresses);
    const client = createWebhookClient({ allowLoopback: false }, resolver);
    try {
      const before = receiver.received.length;
      expect(await client.post(request(`http://rebinding.test:${port}/rebound`))).toMatchObject({ kind: 'failure', reason: 'forbidden address' });
      expect(resolver.calls).toBeGreaterThan(0);
      expect(receiver.received.length).toBe(before);
    } finally {
      client.close();
    }
  }
});

test('a request Node will not send (a header value it cannot put on the wire) is a failed attempt, not a thrown job', async () => {
  const port = new URL(receiver.url('/')).port;
  const client = createWebhookClient({ allowLoopback: true });
  try {
    const before = receiver.received.length;
    const refused = { ...request(`http://127.0.0.1:${port}/bad-header`), headers: [['X-A', 'a\u007fb']] as [string, string][] };
    await expect(client.post(refused)).resolves.toMatchObject({ kind: 'failure', reason: 'invalid request' });
    expect(receiver.received.length).toBe(before);
  } finally {
    client.close();
  }
});
