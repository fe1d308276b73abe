/**
 * Stopping sharing in the portal reaches the recipient's system as it always has: through the consent topic. The
 * OB-GYN clinic's system subscribes to the consent topic (a signed rest-hook on loopback); Alex stops sharing with it
 * in Chromium (on embedded PGlite, the default store); the clinic's webhook is told of Alex's Consent (id-only,
 * signed), and its very next read of Alex is 404.
 */
import { createHmac } from 'node:crypto';
import { buildBackportSubscription } from '@carecircle/notify';
import type { Consent, Subscription } from '@medplum/fhirtypes';
import { startNotificationReceiver, type NotificationReceiver } from '../../support/notification-receiver';
import { axeViolations, partnerStatus, signInThroughPortal, startPortalSystem, type PortalSystem } from '../../support/portal-system';

jest.setTimeout(240_000);

const CONSENT_TOPIC = 'https://carecircle.dev/fhir/SubscriptionTopic/consent';
const SECRET = 'a-webhook-secret-of-the-clinic-0123456789';

let system: PortalSystem;
let receiver: NotificationReceiver;

beforeAll(async () => {
  receiver = await startNotificationReceiver();
  // On embedded PGlite, the default store of `npm start`: the portal's whole path runs on it too.
  system = await startPortalSystem({ store: 'pglite', env: { NOTIFY_ALLOW_LOOPBACK_HTTP: 'true' } });
});

afterAll(async () => {
  await system?.stop();
  await receiver?.close();
});

test('the clinic hears through the consent topic that Alex stopped sharing in the portal, and is refused from then on', async () => {
  const token = await system.partnerToken('obgyn');
  const created = await fetch(`${system.baseUrl}/fhir/R4/Subscription`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/fhir+json' },
    body: JSON.stringify(buildBackportSubscription({ topic: CONSENT_TOPIC, endpoint: receiver.url('/obgyn'), secret: SECRET })),
  });
  expect(created.status).toBe(201);
  const subscription = (await created.json()) as Subscription;
  await receiver.waitFor('the handshake', () => receiver.received.find((r) => r.path === '/obgyn' && r.type === 'handshake'), 20_000);

  const alex = system.state.people.alex.fhirUser;
  await expect(partnerStatus(system, 'obgyn', `/${alex}`)).resolves.toBe(200);
  const consents = (await (await system.adminFhir(`/Consent?patient=${alex}&status=active`)).json()) as { entry: { resource: Consent }[] };
  const consentId = consents.entry[0]?.resource.id as string;

  const context = await system.newContext();
  const page = await context.newPage();
  await signInThroughPortal(page, system.state, 'alex');
  await page.getByRole('link', { name: /^Stop sharing, Harbour Women/ }).click();
  expect(await axeViolations(page)).toEqual([]);
  await page.getByRole('button', { name: 'Stop sharing' }).click();
  await page.waitForURL(/\/stop\/done$/);

  await expect(partnerStatus(system, 'obgyn', `/${alex}`)).resolves.toBe(404);
  const told = await receiver.waitFor(
    'the consent notification',
    () => receiver.events('/obgyn').find((n) => n.body.includes(`Consent/${consentId}`)),
    20_000,
  );
  // Signed with the clinic's secret, over the exact body, as the contract says.
  const [t, v1] = String(told.headers['x-carecircle-signature']).split(',').map((part) => part.split('=')[1]);
  expect(v1).toBe(createHmac('sha256', SECRET).update(`${t}.${told.body}`).digest('hex'));
  expect(told.body).toContain(subscription.id as string);
  await context.close();
});
