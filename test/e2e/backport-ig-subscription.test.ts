/**
 * A Subscription copied from the Subscriptions Backport IG (1.1.0, "Backported Subscription: Admission") becomes
 * active end to end: its profile claim, backport extensions (filter, heartbeat, timeout, max count, payload content)
 * and `status: active` as published, with our topic, an endpoint on loopback and our signing secret in place of what
 * is the IG's own (its `end` of 2020 moved to tomorrow), created by a practice's system. The handshake reaches the
 * endpoint signed, and a change on the topic follows as an id-only, signed event notification.
 */
import { createHmac } from 'node:crypto';
import { fhirClient, registerSystemClient, type TestApp } from '@carecircle/api/testing';
import { buildOrganization, buildPatient } from '@carecircle/testing';
import type { Goal, Patient, Subscription } from '@medplum/fhirtypes';
import type { NotificationReceiver } from '../support/notification-receiver';
import { startNotifyStack, SUBSCRIPTION_SECRET, type NotifyStack } from '../support/notify-stack';

const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition';
const HOOK = '/fhir/r4/$subscription-hook';

let t: TestApp;
let stack: NotifyStack;
let receiver: NotificationReceiver;
let practice: string;
let practiceToken: string;

beforeAll(async () => {
  stack = await startNotifyStack();
  ({ t, receiver } = stack);
  const admin = fhirClient(t, t.adminToken);
  practice = `Organization/${(await admin.post('Organization', buildOrganization({ name: 'Practice' }))).body.id}`;
  practiceToken = await (await registerSystemClient(t, practice, 'system/*.cruds')).token();
});

afterAll(async () => {
  await stack.close();
});

function verifySignature(header: string | string[] | undefined, body: string): boolean {
  const [, t, v1] = /^t=(\d+),v1=([0-9a-f]+)$/.exec(String(header)) ?? [];
  return v1 === createHmac('sha256', SUBSCRIPTION_SECRET).update(`${t}.${body}`).digest('hex');
}

test("the Backport IG's rest-hook example, with our topic, a loopback endpoint and a secret, becomes active and notifies", async () => {
  const example = {
    resourceType: 'Subscription',
    id: 'subscription-admission',
    meta: { profile: [`${BACKPORT}/backport-subscription`] },
    status: 'active',
    end: new Date(Date.now() + 86_400_000).toISOString(),
    reason: 'R4/B Example Topic-Based Subscription for Patient Admission',
    criteria: 'https://carecircle.dev/fhir/SubscriptionTopic/care-plan',
    _criteria: { extension: [{ url: `${BACKPORT}/backport-filter-criteria`, valueString: 'Goal?lifecycle-status=active' }] },
    extension: [{ url: 'https://carecircle.dev/fhir/StructureDefinition/subscription-secret', valueString: SUBSCRIPTION_SECRET }],
    channel: {
      extension: [
        { url: `${BACKPORT}/backport-heartbeat-period`, valueUnsignedInt: 86400 },
        { url: `${BACKPORT}/backport-timeout`, valueUnsignedInt: 60 },
        { url: `${BACKPORT}/backport-max-count`, valuePositiveInt: 20 },
      ],
      type: 'rest-hook',
      endpoint: receiver.url(HOOK),
      payload: 'application/fhir+json',
      _payload: { extension: [{ url: `${BACKPORT}/backport-payload-content`, valueCode: 'id-only' }] },
    },
  };
  const created = await fhirClient(t, practiceToken).post('Subscription', example);
  expect(created.status).toBe(201);
  const id = (created.body as Subscription).id;
  expect((created.body as Subscription).status).toBe('requested');

  for (let i = 0; i < 400; i++) {
    const current = (await fhirClient(t, practiceToken).get(`Subscription/${id}`)).body as Subscription;
    if (current.status === 'active') {
      break;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const current = (await fhirClient(t, practiceToken).get(`Subscription/${id}`)).body as Subscription;
  expect(current.status).toBe('active');
  const handshake = receiver.received.find((n) => n.path === HOOK && n.type === 'handshake');
  expect(handshake).toBeDefined();
  expect(verifySignature(handshake?.headers['x-carecircle-signature'], handshake?.body ?? '')).toBe(true);

  const client = await fhirClient(t, practiceToken).post('Patient', buildPatient({ managingOrganization: { reference: practice } }));
  expect(client.status).toBe(201);
  const goal = await fhirClient(t, practiceToken).post('Goal', {
    resourceType: 'Goal',
    lifecycleStatus: 'active',
    description: { text: 'Sleep through the night' },
    subject: { reference: `Patient/${(client.body as Patient).id}` },
  });
  expect(goal.status).toBe(201);
  const [event] = await receiver.waitFor('the event notification', () => (receiver.events(HOOK).length > 0 ? receiver.events(HOOK) : undefined), 15_000);
  expect(event?.eventNumbers).toEqual([1]);
  expect(verifySignature(event?.headers['x-carecircle-signature'], event?.body ?? '')).toBe(true);
  // id-only: the focus's full URL, no resource.
  expect(event?.bundle.entry?.[1]?.fullUrl).toBe(`${t.services.config.fhirBaseUrl}/Goal/${(goal.body as Goal).id}`);
  expect(event?.bundle.entry?.[1]?.resource).toBeUndefined();
});
